"""What the catalog adds to the seller dashboard (registered in ``ListingsConfig.ready``)."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.listings.models import Listing, ShippingRate, Variant


def catalog_section(shop) -> dict:
    counts = shop.listings.aggregate(
        active=Count("pk", filter=Q(status=Listing.Status.ACTIVE)),
        drafts=Count("pk", filter=Q(status=Listing.Status.DRAFT)),
        paused=Count("pk", filter=Q(status=Listing.Status.PAUSED)),
        not_ready=Count("pk", filter=Q(status=Listing.Status.ACTIVE, export_ready=False)),
    )
    summary = (
        _(
            "%(active)d live, %(drafts)d drafts, %(paused)d paused. "
            "%(not_ready)d live listing(s) cannot ship abroad yet (customs data missing)."
        )
        % counts
    )
    return {
        "title": _("Listings"),
        "summary": summary,
        "url": reverse("listings:seller-listings", kwargs={"slug": shop.slug}),
        "action": _("Manage listings"),
    }


def stock_section(shop) -> dict | None:
    alerts = Variant.objects.filter(shop=shop, listing__status=Listing.Status.ACTIVE).aggregate(
        low=Count("pk", filter=Q(stock__lte=F("low_stock_threshold"), stock__gt=0)),
        out=Count("pk", filter=Q(stock=0)),
    )
    if not alerts["low"] and not alerts["out"]:
        return None
    return {
        "title": _("Stock alerts"),
        "summary": _("%(low)d variant(s) running low, %(out)d sold out.") % alerts,
        "url": reverse("listings:seller-listings", kwargs={"slug": shop.slug}) + "?stock=low",
        "action": _("See them"),
    }


def shipping_checklist(shop) -> dict:
    return {
        "label": _("Shipping profile with rates"),
        "done": ShippingRate.objects.filter(zone__profile__shop=shop).exists(),
        "url": reverse("listings:seller-shipping-create", kwargs={"slug": shop.slug}),
        "action": _("set up shipping"),
    }


def listing_checklist(shop) -> dict:
    return {
        "label": _("First listing live"),
        "done": shop.listings.filter(status=Listing.Status.ACTIVE).exists(),
        "url": reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        "action": _("create a listing"),
    }
