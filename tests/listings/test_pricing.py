"""The EUR order key behind "sort by price", and its refresh when the ECB publishes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customs import fx
from customs.models import ExchangeRate
from marketplace.listings import pricing, tasks
from marketplace.listings.buyer import clear_rate_cache
from marketplace.listings.models import Listing
from tests.listings.factories import make_listing

pytestmark = pytest.mark.usefixtures("customs_tables")


def _usd(rate: str, day) -> None:
    ExchangeRate.objects.update_or_create(
        date=day,
        currency="USD",
        rate_kind=ExchangeRate.Kind.ECB_DAILY,
        defaults={"rate": Decimal(rate), "source": "test"},
    )
    fx.clear_cache()
    clear_rate_cache()


def test_saving_a_listing_sets_its_eur_order_key(shop):
    _usd("1.1700", timezone.localdate())
    listing = make_listing(
        shop, status=Listing.Status.DRAFT, variants=[{"sku": "A", "price": "25.00"}]
    )
    assert listing.sort_price == Decimal("21.3675")  # 25 / 1.17


def test_a_newer_rate_resorts_the_catalog_once(shop):
    today = timezone.localdate()
    _usd("1.1700", today - timedelta(days=1))
    listing = make_listing(
        shop, status=Listing.Status.DRAFT, variants=[{"sku": "A", "price": "25.00"}]
    )
    assert pricing.refresh_if_rates_changed() == 1  # first run records the rate date
    _usd("1.2500", today)
    assert tasks.refresh_sort_prices.delay().get() == 1
    listing.refresh_from_db()
    assert listing.sort_price == Decimal("20.0000")
    assert pricing.refresh_if_rates_changed() == 0  # nothing new: nothing to do
