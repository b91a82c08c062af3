"""A buyer in Germany searches, keeps only what ships to Germany and switches currency."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from customs import fx
from customs.loaders import load_all
from customs.models import ExchangeRate
from marketplace.listings.buyer import clear_rate_cache
from marketplace.listings.catalog import reset_local_state
from tests.e2e.helpers import sign_in
from tests.listings.factories import make_category, make_listing, make_profile

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalog(shop, other_shop):
    cache.clear()
    reset_local_state()
    load_all(only={"hs", "fx"})
    today = timezone.localdate()
    for currency, rate in {"USD": "1.1700", "GBP": "0.8500", "CNY": "8.3000"}.items():
        ExchangeRate.objects.update_or_create(
            date=today,
            currency=currency,
            rate_kind=ExchangeRate.Kind.ECB_DAILY,
            defaults={"rate": Decimal(rate), "source": "test"},
        )
    fx.clear_cache()
    clear_rate_cache()
    clothing = make_category("Clothing")
    home = make_category("Home")
    us = make_profile(
        shop,
        zones=[
            ("US", ["US"], "5.00", "1.00", 2, 4),
            ("Europe", ["DE", "FR"], "12.00", "3.00", 6, 10),
        ],
    )
    asia = make_profile(other_shop, zones=[("Asia", ["CN", "JP", "SG"], "20.00", "5.00", 5, 9)])
    make_listing(shop, title="Organic cotton T-shirt", category=clothing, profile=us,
                 variants=[{"sku": "TEE", "price": "25.00"}])  # fmt: skip
    make_listing(shop, title="Cotton bandana", category=clothing, profile=us, customs={},
                 variants=[{"sku": "BAND", "price": "12.00"}])  # fmt: skip
    make_listing(
        other_shop,
        title="Cotton tea towel",
        category=home,
        profile=asia,
        variants=[{"sku": "TOWEL", "price": "68.00"}],
        customs={
            "hs_code": "630291",
            "customs_description": "Cotton kitchen towel, woven",
            "origin_country": "CN",
            "material": "cotton",
        },
    )


def test_buyer_abroad_searches_filters_to_ships_to_me_and_switches_currency(
    page, screenshot, catalog, buyer
):
    sign_in(page, buyer.email)  # lives in Berlin (default address)
    page.get_by_placeholder("Search products").first.fill("cotton")
    page.keyboard.press("Enter")
    cards = page.locator(".listing-card .listing-title")
    expect(cards).to_have_count(3)
    screenshot("catalog-buyer-search")

    page.get_by_label("Ships to Germany").check()  # submits the filter form by itself
    expect(cards).to_have_count(1)
    expect(cards).to_have_text(["Organic cotton T-shirt"])
    expect(page.get_by_text("1 listing · shipping to Germany")).to_be_visible()

    # Buyers see EUR by default (their profile); switch to pounds in the header.
    expect(page.locator(".price-converted").first).to_contain_text("€21.37")
    page.locator("#currency-select").select_option("GBP")
    expect(page.locator(".price-converted").first).to_contain_text("£18.16")  # 25 x .85 / 1.17
    expect(page.locator(".price-original").first).to_have_text("$25.00")
    expect(page.get_by_label("Ships to Germany")).to_be_checked()  # the filter survived
    screenshot("catalog-buyer-ships-to-me-gbp")
    buyer.refresh_from_db()
    assert buyer.preferred_currency == "GBP"

    page.get_by_role("link", name="Organic cotton T-shirt").click()
    shipping = page.locator(".shipping-box")
    expect(shipping).to_contain_text("to Germany")
    expect(shipping).to_contain_text("£8.72")  # USD 12.00 postal to Europe, converted
    expect(shipping).to_contain_text("Arrives in 7\u201311 working days")
    screenshot("catalog-buyer-listing-shipping")

    page.goto("/search/?q=towel")
    page.get_by_role("link", name="Cotton tea towel").click()
    expect(page.get_by_text("This item does not ship to Germany.")).to_be_visible()
    screenshot("catalog-buyer-does-not-ship")
