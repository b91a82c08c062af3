"""Template helpers for catalog pages: prices in the buyer's currency, photos, facet links."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from django import template
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from marketplace.listings import buyer

register = template.Library()


def _converter(context) -> buyer.PriceConverter | None:
    request = context.get("request")
    if request is None:
        return None
    converter = getattr(request, "_price_converter", None)
    if converter is None:
        converter = buyer.PriceConverter(buyer.display_currency(request))
        request._price_converter = converter
    return converter


@register.simple_tag(takes_context=True)
def price(context, amount: Decimal | None, currency: str, upper: Decimal | None = None):
    """The price in the buyer's display currency (marked ≈) with the seller's price beside it.

    With ``upper`` (a price range) it reads "from …" when the variants' prices differ.
    """
    if amount is None or not currency:
        return ""
    language = translation.get_language() or "en"
    original = buyer.formatted(amount, currency, language)
    ranged = upper is not None and upper != amount
    converter = _converter(context)
    converted = converter.convert(amount, currency) if converter else None
    if converter is None or converted is None or converter.to_currency == currency:
        return format_html(
            '<span class="price">{}</span>', _from_price(original) if ranged else original
        )
    shown = format_html("≈&nbsp;{}", buyer.formatted(converted, converter.to_currency, language))
    return format_html(
        '<span class="price"><span class="price-converted" title="{}">{}</span>'
        ' <span class="price-original">{}</span></span>',
        _("Approximate, converted at the ECB reference rate; you pay in %(currency)s.")
        % {"currency": currency},
        _from_price(shown) if ranged else shown,
        original,
    )


def _from_price(price) -> str:
    """The lowest price of a range as one "from <price>" phrase: languages order it their way.

    The translation is split at the placeholder so that ``format_html`` escapes the words and
    keeps the price's own markup.
    """
    before, _placeholder, after = _("from %(price)s").partition("%(price)s")
    return format_html("{}{}{}", before, price, after)


@register.simple_tag
def thumb(image, css: str = "thumb", size: str = "thumbnail"):
    """A listing photo's thumbnail (or large image), or the placeholder until it exists."""
    if image is not None and image.thumbnail_status == "ready":
        file = image.large if size == "large" else image.thumbnail
        if file:
            return format_html(
                '<img class="{}" src="{}" alt="{}" loading="lazy">',
                css,
                file.url,
                image.alt_text,
            )
    return format_html(
        '<img class="{} placeholder" src="{}" alt="{}">',
        css,
        static("img/listing-placeholder.svg"),
        _("Photo being prepared") if image is not None else _("No photo yet"),
    )


@lru_cache(maxsize=512)
def _params(querystring: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in parse_qsl(querystring, keep_blank_values=True) if k != "page")


@register.simple_tag
def with_param(querystring: str, key: str, value=None) -> str:
    """``?…`` with ``key`` set to ``value`` (removed when None/''), always without page."""
    params = [(k, v) for k, v in _params(querystring) if k != key]
    if value not in (None, ""):
        params.append((key, str(value)))
    return f"?{urlencode(params)}" if params else "?"


@register.simple_tag
def page_url(querystring: str, page: int) -> str:
    return f"?{urlencode([*_params(querystring), ('page', page)])}"


@register.filter
def country_name(code: str) -> str:
    return buyer.country_name(code)


@register.simple_tag(takes_context=True)
def home_catalog(context):
    """The home page's catalog sections: one fragment per language and display currency."""
    from marketplace.listings.fragments import cached_fragment, render_fragment
    from marketplace.listings.home import home_sections

    request = context.get("request")
    if request is None:
        return render_fragment("listings/_home_catalog.html", home_sections())
    currency = buyer.display_currency(request)

    def render() -> str:
        return render_fragment(
            "listings/_home_catalog.html", {"request": request, **home_sections()}
        )

    return cached_fragment(request, "home", (currency,), render)


@register.inclusion_tag("listings/_nav.html", takes_context=True)
def catalog_nav(context):
    request = context.get("request")
    if request is None:
        return {}
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "currency_options": buyer.currency_options(buyer.display_currency(request)),
        "search_text": request.GET.get("q", "")
        if request.resolver_match and request.resolver_match.view_name == "listings:search"
        else "",
    }


@register.inclusion_tag("listings/_ship_to.html", takes_context=True)
def ship_to_form(context):
    request = context.get("request")
    country = buyer.buyer_country(request) if request is not None else ""
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "buyer_country": country,
        "country_options": buyer.country_options(country),
    }
