"""Display prices in the buyer's currency: exact Decimals, each currency's own minor unit."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customs import fx
from customs.models import ExchangeRate
from marketplace.listings.buyer import PriceConverter, clear_rate_cache, formatted


@pytest.fixture
def ecb(db):
    # Today's rows are the latest whatever else the table holds (FACTS §7 example rates).
    today = timezone.localdate()
    for currency, value in {
        "USD": "1.1700",
        "GBP": "0.8500",
        "JPY": "163.45",
        "CNY": "8.3000",
    }.items():
        ExchangeRate.objects.update_or_create(
            date=today,
            currency=currency,
            rate_kind=ExchangeRate.Kind.ECB_DAILY,
            defaults={"rate": Decimal(value)},
        )
    fx.clear_cache()
    clear_rate_cache()


def test_usd_100_is_gbp_72_65(ecb):
    assert PriceConverter("GBP").convert(Decimal("100.00"), "USD") == Decimal("72.65")


def test_jpy_has_no_minor_unit(ecb):
    converted = PriceConverter("JPY").convert(Decimal("25.00"), "USD")
    assert converted == Decimal("3493")  # 25 x 163.45 / 1.17 = 3492.52
    assert converted.as_tuple().exponent == 0


def test_rounding_is_half_up_once_at_the_end(ecb):
    # CNY 98.00 / 8.30 = 11.807228...: EUR 11.81; from JPY 1000: EUR 6.118... -> 6.12
    assert PriceConverter("EUR").convert(Decimal("98.00"), "CNY") == Decimal("11.81")
    assert PriceConverter("EUR").convert(Decimal("1000"), "JPY") == Decimal("6.12")


def test_same_currency_is_unchanged_and_missing_rates_give_none(ecb):
    assert PriceConverter("USD").convert(Decimal("12.30"), "USD") == Decimal("12.30")
    # The ECB suspended RUB in March 2022: no rate, so no converted price (never a guess).
    assert PriceConverter("USD").convert(Decimal("10"), "RUB") is None


def test_formatting_follows_the_language():
    assert formatted(Decimal("3493"), "JPY", "en") == "¥3,493"
    assert formatted(Decimal("1234.5"), "EUR", "es") == "1.234,50\xa0€"
    assert formatted(Decimal("72.65"), "GBP", "zh-hans") == "£72.65"
