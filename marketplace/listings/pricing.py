"""The order of "sort by price": every listing's lowest price converted to EUR.

Ordering listings priced in different currencies needs one scale; EUR is the ECB's base, and
any other target currency would give the same order (conversion multiplies every currency's
prices by its own positive factor). ``sort_price`` is refreshed for a listing when its prices
change, and for the whole catalog when a newer ECB rate arrives (``refresh_if_rates_changed``,
hourly). Prices shown to buyers are converted live, never from this column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, DecimalField, F, Max, Value, When

from marketplace.listings.models import Listing

logger = logging.getLogger(__name__)

MARKER_KEY = "listings:sort-price-rates"
FACTOR_PLACES = Decimal("1e-10")


def eur_factors() -> dict[str, Decimal]:
    """EUR per unit of each catalog currency at the latest rate (unknown rates left out)."""
    from customs.fx import RateUnavailable, rate

    factors = {}
    for currency in settings.CURRENCIES:
        try:
            factors[currency] = rate(currency, "EUR").value.quantize(FACTOR_PLACES)
        except RateUnavailable:
            logger.warning("no EUR rate for %s: its listings sort last by price", currency)
    return factors


def sort_price_expression(factors: dict[str, Decimal]) -> Case:
    return Case(
        *(When(currency=code, then=F("price_min") * Value(f)) for code, f in factors.items()),
        default=None,
        output_field=DecimalField(max_digits=16, decimal_places=4),
    )


def refresh_sort_prices(*, listing_ids: Iterable[int] | None = None) -> int:
    """Recompute ``sort_price`` for these listings (all when None); one UPDATE statement."""
    listings = Listing.objects.all()
    if listing_ids is not None:
        ids = list(listing_ids)
        if not ids:
            return 0
        listings = listings.filter(pk__in=ids)
    return listings.update(sort_price=sort_price_expression(eur_factors()))


def latest_rate_date() -> str:
    from customs.models import ExchangeRate

    latest = ExchangeRate.objects.filter(rate_kind=ExchangeRate.Kind.ECB_DAILY).aggregate(
        day=Max("date")
    )["day"]
    return latest.isoformat() if latest else ""


def refresh_if_rates_changed() -> int:
    """Re-sort the whole catalog when a newer ECB rate exists than the last refresh used.

    Idempotent: with no new rate it only fills listings that have no sort price yet.
    """
    from customs import fx

    marker = latest_rate_date()
    if marker and cache.get(MARKER_KEY) != marker:
        fx.clear_cache()  # another process may have imported the rates
        updated = refresh_sort_prices()
        cache.set(MARKER_KEY, marker, timeout=None)
        return updated
    missing = Listing.objects.filter(sort_price__isnull=True, price_min__isnull=False)
    return refresh_sort_prices(listing_ids=missing.values_list("pk", flat=True)[:10_000])
