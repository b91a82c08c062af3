"""Shipping quotes from a shop's profiles: the price and delivery time to one country.

The checkout calls ``quote_shipping`` (or ``shipping_options``) per shop and profile with the
total quantity of the cart's items that use it. Rates are in the shop's currency. Reading
``profile.zones`` and their rates uses a prefetch when the caller made one
(``SHIPPING_PREFETCH``), so quoting many listings costs no extra queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from customs.rulebook import EU_MEMBERS, crosses_customs_border
from marketplace.core.money import quantize
from marketplace.listings.models import Listing, ShippingProfile, ShippingRate, ShippingZone

SHIPPING_PREFETCH = Prefetch(
    "zones", queryset=ShippingZone.objects.prefetch_related("rates").order_by("pk")
)


@dataclass(frozen=True)
class ShippingQuote:
    """What one parcel of ``quantity`` items costs to ``destination`` with one service."""

    price: Decimal
    currency: str
    service_level: str
    service_label: str
    min_days: int
    max_days: int
    handling_days: int
    destination: str
    zone_id: int
    rate_id: int

    @property
    def delivery_min_days(self) -> int:
        """Working days from the order to the door: handling plus transit."""
        return self.handling_days + self.min_days

    @property
    def delivery_max_days(self) -> int:
        return self.handling_days + self.max_days


def zone_for(profile: ShippingProfile, destination_country: str) -> ShippingZone | None:
    """The zone listing the country, else the profile's "everywhere else" zone, else None."""
    code = (destination_country or "").upper()
    if not code:
        return None
    rest = None
    for zone in profile.zones.all():
        if zone.rest_of_world:
            rest = zone
        elif code in zone.country_codes():
            return zone
    return rest


def shipping_options(
    profile: ShippingProfile, destination_country: str, quantity: int
) -> list[ShippingQuote]:
    """Every service the profile offers to the country, cheapest first ([] = no shipping)."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    zone = zone_for(profile, destination_country)
    if zone is None:
        return []
    currency = profile.shop.currency
    quotes = []
    for rate in zone.rates.all():
        price = rate.first_item + rate.additional_item * (quantity - 1)
        quotes.append(
            ShippingQuote(
                price=quantize(price, currency),
                currency=currency,
                service_level=rate.service_level,
                service_label=str(ShippingRate.ServiceLevel(rate.service_level).label),
                min_days=rate.min_days,
                max_days=rate.max_days,
                handling_days=profile.handling_days,
                destination=destination_country.upper(),
                zone_id=zone.pk,
                rate_id=rate.pk,
            )
        )
    quotes.sort(key=lambda q: (q.price, q.max_days, q.service_level))
    return quotes


def quote_shipping(
    profile: ShippingProfile | None,
    destination_country: str,
    quantity: int,
    *,
    service_level: str | None = None,
) -> ShippingQuote | None:
    """The cheapest quote (or the one for ``service_level``); None: does not ship there."""
    if profile is None:
        return None
    options = shipping_options(profile, destination_country, quantity)
    if service_level:
        options = [q for q in options if q.service_level == service_level]
    return options[0] if options else None


def crosses_border(listing: Listing, destination_country: str) -> bool:
    """Whether the listing's goods go through customs to that country (customs owns the
    rule: not within one country, nor within the EU's customs union)."""
    return crosses_customs_border(listing.shop.country.code, destination_country or "")


def listing_shipping_options(
    listing: Listing, destination_country: str, quantity: int = 1
) -> list[ShippingQuote]:
    """Quotes for a listing: none abroad until its customs data is complete (export_ready)."""
    if listing.shipping_profile_id is None or not destination_country:
        return []
    if crosses_border(listing, destination_country) and not listing.export_ready:
        return []
    return shipping_options(listing.shipping_profile, destination_country, quantity)


def ships_to(listing: Listing, destination_country: str) -> bool:
    return bool(listing_shipping_options(listing, destination_country))


def profiles_serving(country: str) -> QuerySet:
    """Ids of the shipping profiles with a zone for ``country`` (listed or everywhere else).

    Country lists are stored comma-separated ("DE,FR,GB"); two-letter codes never straddle a
    comma, so a substring match on the code is exact.
    """
    code = (country or "").upper()
    return (
        ShippingZone.objects.filter(
            Q(countries__contains=code) | Q(rest_of_world=True), rates__isnull=False
        )
        .values("profile_id")
        .distinct()
    )


def filter_ships_to(listings: QuerySet, country: str) -> QuerySet:
    """Listings a buyer in ``country`` can order: served by the profile, and export-ready
    unless the shop's parcels reach ``country`` without crossing a customs border."""
    code = (country or "").upper()
    return listings.filter(shipping_profile_id__in=profiles_serving(code)).filter(
        Q(export_ready=True) | Q(shop__country__in=no_border_origins(code))
    )


def no_border_origins(country: str) -> list[str]:
    """The countries whose shops send to ``country`` without customs (itself, and the rest
    of the EU's customs union for a member)."""
    candidates = {country} | (EU_MEMBERS if country in EU_MEMBERS else set())
    return sorted(c for c in candidates if not crosses_customs_border(c, country))
