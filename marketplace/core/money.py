"""Money is a ``Decimal`` beside an ISO 4217 code; this module is the one place that rounds it.

Minor units come from CLDR (through Babel): JPY and KRW have none, most currencies have two,
KWD and BHD have three. Rounding is half-up, as customs and tax administrations round, never
Python's default half-even.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision

ZERO = Decimal("0")
# The currencies prices may be stored in: the model fields' choices. Fixed here, not read from
# the environment, so migrations never depend on a deployment; ``settings.CURRENCIES`` (a
# subset) is what the pages offer.
SUPPORTED_CURRENCIES = (
    "EUR", "USD", "GBP", "CNY", "JPY", "AUD", "CAD", "CHF", "NZD", "SGD", "NOK", "BRL", "MXN",
)  # fmt: skip
CURRENCY_CHOICES = [(code, code) for code in SUPPORTED_CURRENCIES]


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    return get_currency_precision(currency.upper())


@lru_cache(maxsize=512)
def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def quantize(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``."""
    return Decimal(amount).quantize(_exponent(currency), rounding=ROUND_HALF_UP)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An amount as an integer count of the currency's minor unit (what card APIs take).

    Refuses an amount that is not already rounded to the minor unit: converting must never
    round money silently.
    """
    exact = Decimal(amount).scaleb(minor_units(currency))
    if exact != exact.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(exact)


def from_minor_units(value: int, currency: str) -> Decimal:
    return quantize(Decimal(value).scaleb(-minor_units(currency)), currency)


def round_to_increment(amount: Decimal, increment: Decimal) -> Decimal:
    """Cash rounding, e.g. to CHF 0.05: half-up to the nearest multiple of ``increment``."""
    steps = (Decimal(amount) / increment).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * increment).quantize(increment)


def format_money(amount: Decimal, currency: str, locale: str = "en") -> str:
    babel_locale = {"zh-hans": "zh_Hans_CN", "es": "es_ES", "en": "en_US"}.get(locale, "en_US")
    return format_currency(
        quantize(amount, currency), currency.upper(), locale=babel_locale, currency_digits=True
    )
