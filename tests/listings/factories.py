"""Catalog test data, built through the services so summaries and search documents are real."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from marketplace.listings import services
from marketplace.listings.models import (
    Category,
    Listing,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)

T_SHIRT = {
    "hs_code": "610910",
    "customs_description": "Men's cotton T-shirt, knitted",
    "origin_country": "US",
    "material": "100% cotton",
}


def make_category(name: str, parent: Category | None = None, **extra) -> Category:
    category = Category(name=name, parent=parent, **extra)
    return services.save_category(category=category)


def make_profile(
    shop,
    name: str = "Standard",
    zones: list[tuple] | None = None,
    handling_days: int = 1,
) -> ShippingProfile:
    """A profile with zones ``(name, countries or None for everywhere else, first, extra,
    min_days, max_days[, service_level])``."""
    profile = services.save_shipping_profile(
        profile=ShippingProfile(shop=shop, name=name, handling_days=handling_days),
        now=timezone.now(),
    )
    for zone_spec in zones or [("Domestic", [shop.country.code], "5.00", "1.00", 2, 4)]:
        zone_name, countries, first, additional, low, high, *level = zone_spec
        zone = ShippingZone(
            profile=profile,
            name=zone_name,
            countries=countries or [],
            rest_of_world=countries is None,
        )
        rate = ShippingRate(
            service_level=level[0] if level else ShippingRate.ServiceLevel.POSTAL,
            first_item=Decimal(first),
            additional_item=Decimal(additional),
            min_days=low,
            max_days=high,
        )
        services.save_shipping_zone(zone=zone, rates=[rate])
    return profile


def make_listing(
    shop,
    *,
    title: str = "Organic cotton T-shirt",
    category: Category | None = None,
    profile: ShippingProfile | None = None,
    variants: list[dict] | None = None,
    status: str = Listing.Status.ACTIVE,
    customs: dict | None = None,
    description: str = "A soft everyday T-shirt.",
    actor=None,
) -> Listing:
    category = category or Category.objects.order_by("pk").first() or make_category("Clothing")
    customs = T_SHIRT if customs is None else customs
    listing = Listing(
        shop=shop,
        title=title,
        description=description,
        category=category,
        shipping_profile=profile,
        **customs,
    )
    specs = variants or [{"sku": f"SKU-{Listing.objects.count() + 1}", "price": "25.00"}]
    rows = [
        Variant(
            sku=spec["sku"],
            price=Decimal(spec.get("price", "25.00")),
            stock=spec.get("stock", 10),
            options=spec.get("options", {}),
            net_weight_kg=_weight(spec),
        )
        for spec in specs
    ]
    listing = services.save_listing(listing=listing, variants=rows, actor=actor, now=timezone.now())
    if status != Listing.Status.DRAFT:
        if profile is None:
            raise ValueError("an active listing needs a shipping profile")
        listing = services.change_listing_status(
            listing=listing, target=Listing.Status.ACTIVE, actor=actor, now=timezone.now()
        )
        if status == Listing.Status.PAUSED:
            listing = services.change_listing_status(
                listing=listing, target=Listing.Status.PAUSED, actor=actor, now=timezone.now()
            )
    return listing


def _weight(spec: dict) -> Decimal | None:
    weight = spec.get("weight", "0.2")
    return Decimal(weight) if weight else None


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 80, 40), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" and save.pop("alpha", False) else "RGB"
    Image.new(mode, size, color).save(out, format=fmt, **save)
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
