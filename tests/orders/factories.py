"""Order test data: catalogs built through the catalog services, orders through ours.

``make_listing`` and ``make_profile`` call ``marketplace.listings.services`` (the public
catalog API) so export readiness and summaries are real; ``order_for`` goes through the
cart, ``place_order`` and the payment service exactly as the checkout view does.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from marketplace.listings import services as catalog
from marketplace.listings.models import (
    Category,
    Listing,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)
from marketplace.orders import cart as carts
from marketplace.orders.checkout import place_order, price_cart
from marketplace.orders.payments import service as payments
from marketplace.orders.payments.testprovider import SUCCESS
from tests.factories import AddressFactory, ShopFactory
from tests.listings.factories import make_listing as make_catalog_listing

EU = ["DE", "FR", "ES", "IT", "NL", "AT", "BE"]
GOOD_CARD = {"card_number": SUCCESS, "expiry": "12/34"}

T_SHIRT = {
    "hs_code": "610910",
    "customs_description": "Men's cotton T-shirt, knitted",
    "origin_country": "US",
    "material": "Cotton",
}
SCARF = {
    "hs_code": "621410",
    "customs_description": "Women's silk scarf, woven",
    "origin_country": "CN",
    "material": "Silk",
}
TEAPOT = {
    "hs_code": "691200",
    "customs_description": "Ceramic teapot for brewing tea",
    "origin_country": "CN",
    "material": "Ceramic",
}


def category() -> Category:
    found = Category.objects.order_by("pk").first()
    if found is not None:
        return found
    return catalog.save_category(category=Category(name="Home and clothing"))


def make_profile(shop, *, zones=None, name: str = "Parcels", handling_days: int = 1):
    """Zones ``(countries or None for everywhere else, [(level, first, extra, lo, hi)])``."""
    profile = catalog.save_shipping_profile(
        profile=ShippingProfile(shop=shop, name=name, handling_days=handling_days),
        now=timezone.now(),
    )
    zones = zones or [
        ([shop.country.code], [("postal", "4.00", "1.00", 1, 3)]),
        (EU, [("postal", "6.00", "2.00", 5, 9), ("courier", "18.00", "4.00", 2, 4)]),
        (None, [("postal", "9.00", "3.00", 7, 14)]),
    ]
    for countries, rates in zones:
        if countries is None:
            codes = []
        elif countries == [shop.country.code]:
            codes = countries
        else:
            # A country belongs to one zone of a profile: home is in the domestic zone.
            codes = [c for c in countries if c != shop.country.code]
        catalog.save_shipping_zone(
            zone=ShippingZone(
                profile=profile,
                name="Everywhere else" if countries is None else ",".join(codes)[:100],
                countries=codes,
                rest_of_world=countries is None,
            ),
            rates=[
                ShippingRate(
                    service_level=level,
                    first_item=Decimal(first),
                    additional_item=Decimal(extra),
                    min_days=lo,
                    max_days=hi,
                )
                for level, first, extra, lo, hi in rates
            ],
        )
    return profile


def make_listing(
    shop,
    *,
    title: str = "Organic cotton T-shirt",
    price: str = "20.00",
    stock: int = 50,
    sku: str | None = None,
    customs: dict | None = None,
    profile: ShippingProfile | None = None,
    weight: str = "0.200",
) -> Variant:
    """An active listing with one variant (the catalog's own builder); returns the variant."""
    profile = profile or shop.shipping_profiles.order_by("pk").first() or make_profile(shop)
    listing = make_catalog_listing(
        shop,
        title=title,
        description="Made with care.",
        category=category(),
        profile=profile,
        customs=T_SHIRT if customs is None else customs,
        variants=[
            {
                "sku": sku or f"{shop.slug[:10].upper()}-{Listing.objects.count() + 1}",
                "price": price,
                "stock": stock,
                "weight": weight,
            }
        ],
    )
    return listing.variants.get()


def german_shop(**extra):
    return ShopFactory(
        display_name="Black Forest Goods",
        slug="black-forest",
        legal_name="Schwarzwald Waren GmbH",
        country="DE",
        currency="EUR",
        **extra,
    )


def buyer_address(buyer):
    return buyer.addresses.filter(is_default_shipping=True).first() or AddressFactory(user=buyer)


def fill_cart(buyer, items, *, address=None, choices=None):
    """The buyer's cart holding ``items`` = [(variant, quantity)], shipping to ``address``."""
    now = timezone.now()
    cart = carts.open_cart_for_user(user=buyer, now=now)
    for variant, quantity in items:
        carts.add_to_cart(cart=cart, variant=variant, quantity=quantity, now=now)
    address = address or buyer_address(buyer)
    carts.set_shipping_address(cart=cart, address=address, now=now)
    for shop, level in (choices or {}).items():
        carts.choose_shipping(cart=cart, shop=shop, service_level=level, now=now)
    cart.refresh_from_db()
    return cart


def order_for(
    buyer,
    items,
    *,
    currency: str = "EUR",
    method: str = "card",
    details: dict | None = None,
    pay: bool = True,
    address=None,
    choices=None,
):
    """Place (and by default pay) an order as the checkout view does; returns the order."""
    cart = fill_cart(buyer, items, address=address, choices=choices)
    address = cart.shipping_address
    now = timezone.now()
    price = price_cart(cart, currency=currency, address=address, on=now.date(), buyer=buyer)
    order, _created = place_order(
        buyer=buyer,
        cart=cart,
        checkout_token=cart.checkout_token,
        address=address,
        currency=currency,
        payment_method=method,
        expected_total=price.total,
        now=now,
    )
    if pay:
        payments.start_payment(
            order=order,
            details=details if details is not None else GOOD_CARD,
            now=now,
        )
        order.refresh_from_db()
    return order
