"""The buyer's display currency and destination country, and price conversion for display.

Currency: the session's choice, else the signed-in user's preferred currency, else the site
default. Country ("ships to me"): the session's choice, else the default shipping address,
else the profile's country; unknown for an anonymous visitor who chose nothing.

Converted prices are approximate (ECB reference rates via ``customs.fx``) and rounded to the
display currency's minor unit; checkout converts again with the rate it records.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django_countries import countries

from marketplace.core.money import format_money, quantize

logger = logging.getLogger(__name__)

SESSION_CURRENCY = "listings_display_currency"
SESSION_COUNTRY = "listings_ship_to_country"


def display_currency(request: HttpRequest) -> str:
    cached = getattr(request, "_display_currency", None)
    if cached:
        return cached
    choice = request.session.get(SESSION_CURRENCY) if hasattr(request, "session") else None
    if choice not in settings.CURRENCIES:
        user = getattr(request, "user", None)
        choice = (
            user.preferred_currency
            if user is not None and user.is_authenticated and user.preferred_currency
            else settings.DEFAULT_CURRENCY
        )
    request._display_currency = choice
    return choice


def buyer_country(request: HttpRequest) -> str:
    """The two-letter code of where the buyer wants things shipped ('' = unknown)."""
    cached = getattr(request, "_buyer_country", None)
    if cached is not None:
        return cached
    code = request.session.get(SESSION_COUNTRY, "") if hasattr(request, "session") else ""
    user = getattr(request, "user", None)
    if not code and user is not None and user.is_authenticated:
        address = user.addresses.filter(is_default_shipping=True).only("country").first()
        code = address.country.code if address else (user.country.code or "")
    request._buyer_country = code or ""
    return request._buyer_country


def country_name(code: str) -> str:
    return _country_name(code, translation.get_language() or "en") if code else ""


@lru_cache(maxsize=2048)
def _country_name(code: str, language: str) -> str:
    with translation.override(language):
        return str(countries.name(code) or code)


def set_preferences(*, request: HttpRequest, currency: str | None, country: str | None) -> None:
    """Remember the buyer's choices in the session (and the profile's currency)."""
    if currency:
        if currency not in settings.CURRENCIES:
            raise ValueError(currency)
        request.session[SESSION_CURRENCY] = currency
        if request.user.is_authenticated and request.user.preferred_currency != currency:
            get_user_model().objects.filter(pk=request.user.pk).update(preferred_currency=currency)
            request.user.preferred_currency = currency
    if country is not None:
        if country and country not in dict(countries):
            raise ValueError(country)
        request.session[SESSION_COUNTRY] = country
    for attribute in ("_display_currency", "_buyer_country"):
        if hasattr(request, attribute):
            delattr(request, attribute)


# Display rates per process: (from, to, day) -> (monotonic time, rate). Pages convert the same
# few pairs over and over; customs.fx caches its table too, but logs every stale lookup.
_RATE_SECONDS = 300
_rates: dict[tuple[str, str, date], tuple[float, Decimal | None]] = {}


def _display_rate(from_currency: str, to_currency: str) -> Decimal | None:
    from customs.fx import RateUnavailable, rate

    key = (from_currency, to_currency, timezone.localdate())
    now = time.monotonic()
    hit = _rates.get(key)
    if hit is not None and now - hit[0] < _RATE_SECONDS:
        return hit[1]
    try:
        value: Decimal | None = rate(from_currency, to_currency).value
    except RateUnavailable:
        logger.info("no FX rate %s->%s", from_currency, to_currency)
        value = None
    if len(_rates) > 1024:
        _rates.clear()
    _rates[key] = (now, value)
    return value


def clear_rate_cache() -> None:
    _rates.clear()


class PriceConverter:
    """Converts listing prices to one display currency, one rate lookup per currency pair.

    ``customs.fx`` caches its rate table in-process, so a page of 24 listings in four
    currencies costs at most one query, and none on later pages within its cache time.
    """

    def __init__(self, to_currency: str) -> None:
        self.to_currency = to_currency
        self._rates: dict[str, Decimal | None] = {}

    def rate(self, from_currency: str) -> Decimal | None:
        if from_currency == self.to_currency:
            return Decimal(1)
        if from_currency not in self._rates:
            self._rates[from_currency] = _display_rate(from_currency, self.to_currency)
        return self._rates[from_currency]

    def convert(self, amount: Decimal | None, from_currency: str) -> Decimal | None:
        if amount is None:
            return None
        factor = self.rate(from_currency)
        if factor is None:
            return None
        # Unrounded until here, then once to the display currency's minor unit (JPY: none).
        return quantize(Decimal(amount) * factor, self.to_currency)


@lru_cache(maxsize=20_000)
def formatted(amount: Decimal, currency: str, language: str) -> str:
    """``format_money`` memoised: Babel formatting is the slowest part of a price cell."""
    return format_money(amount, currency, language)


@lru_cache(maxsize=1024)
def _country_options(language: str, selected: str) -> SafeString:
    with translation.override(language):
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((c.code, " selected" if c.code == selected else "", c.name) for c in countries),
        )


def country_options(selected: str) -> SafeString:
    """``<option>`` tags for every country, built once per language and selection."""
    return _country_options(translation.get_language() or "en", selected or "")


def currency_options(selected: str) -> SafeString:
    """``<option>`` tags for the header's currency switch, built once per selection."""
    return _currency_options(tuple(settings.CURRENCIES), selected)


@lru_cache(maxsize=64)
def _currency_options(currencies: tuple[str, ...], selected: str) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((c, " selected" if c == selected else "", c) for c in currencies),
    )
