"""The whole order journey in a real browser (Playwright + Debian chromium).

A buyer in Germany orders from a shop in China and a shop in the United States, sees duty and
VAT collected at checkout, pays with the test provider's card; each seller downloads the
customs declaration and marks the parcel shipped; the buyer sees both tracking numbers.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from customs.loaders import load_all
from marketplace.orders.models import Order, ShopOrder
from tests.e2e.helpers import sign_in
from tests.orders import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

TRACKING = {"maple-thread": "RR123456785US", "jade-studio": "LX987654326CN"}


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()


def add_to_cart(page, variant, quantity: int) -> None:
    page.goto(variant.listing.get_absolute_url())
    page.locator("#add-quantity").fill(str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_text("is in your cart").wait_for()


@pytest.fixture
def catalog(buyer, shop, seller, other_shop, other_seller, settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
    load_all()
    for each, name in ((shop, "Sam Seller"), (other_shop, "Li Wei")):
        each.signatory_name = name
        each.save()
    tshirt = f.make_listing(shop, title="Organic cotton T-shirt", price="20.00", sku="TEE-M")
    scarf_profile = f.make_profile(
        other_shop,
        zones=[
            (["CN"], [("postal", "10.00", "2.00", 1, 3)]),
            (f.EU, [("postal", "45.00", "15.00", 8, 15)]),
        ],
    )
    scarf = f.make_listing(
        other_shop,
        title="Silk scarf",
        price="180.00",
        sku="SCARF-1",
        customs=f.SCARF,
        profile=scarf_profile,
    )
    return tshirt, scarf


def test_a_buyer_in_germany_orders_from_china_and_the_us_and_both_sellers_ship(
    page, live_server, screenshot, catalog, buyer, seller, other_seller, browser
):
    tshirt, scarf = catalog
    sign_in(page, buyer.email)
    add_to_cart(page, tshirt, 2)
    add_to_cart(page, scarf, 1)

    page.goto("/cart/")
    expect(page.locator("[data-cart-link] .badge")).to_have_text("3")
    screenshot("orders-cart")
    page.get_by_role("link", name="Check out").click()

    # Duty and VAT collected at checkout, per parcel (EU IOSS + EUR 3 per tariff line).
    expect(page.locator('[data-incoterm="DDP"]')).to_have_count(2)
    expect(page.locator("[data-consignment] [data-duty]")).to_have_count(2)
    for duty in page.locator("[data-consignment] [data-duty]").all():
        expect(duty).to_have_text("€3.00")
    expect(page.locator("[data-consignment] [data-tax]")).to_have_count(2)
    expect(page.locator("[data-total-duty]")).to_have_text("€6.00")
    expect(page.locator("[data-fx]")).to_contain_text("1 USD =")
    screenshot("orders-checkout")

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.locator("[data-place-order]").click()
    page.get_by_text("Thank you! Your order is paid.").wait_for()
    order = Order.objects.get()
    assert order.duty_total == 6 and order.tax_total > 0
    assert order.buyer == buyer and order.shop_orders.count() == 2
    screenshot("orders-paid")

    # Each seller: download the declaration, then ship with a tracking number.
    for seller_user, slug in ((seller, "maple-thread"), (other_seller, "jade-studio")):
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        seller_page = context.new_page()
        seller_page.set_default_timeout(15_000)
        sign_in(seller_page, seller_user.email)
        seller_page.goto(f"/sell/{slug}/orders/")
        seller_page.get_by_role("link", name=order.number).click()
        expect(seller_page.locator("[data-paperwork]")).to_have_attribute("data-paperwork", "ready")
        with seller_page.expect_download() as download:
            seller_page.locator('[data-document="cn22"], [data-document="cn23"]').click()
        assert re.search(r"-cn2[23]-v1\.pdf$", download.value.suggested_filename)
        assert download.value.path().read_bytes().startswith(b"%PDF")
        seller_page.get_by_label("Carrier").select_option("post")
        seller_page.get_by_label("Tracking number").fill(TRACKING[slug])
        seller_page.get_by_role("button", name="Mark as shipped").click()
        seller_page.get_by_text("Marked as shipped").wait_for()
        screenshot(f"orders-seller-{slug}", seller_page)
        context.close()

    assert set(ShopOrder.objects.values_list("status", flat=True)) == {"shipped"}
    page.goto(order.get_absolute_url())
    expect(page.locator("[data-tracking]")).to_have_count(2)
    for number in TRACKING.values():
        expect(page.get_by_text(number)).to_be_visible()
    screenshot("orders-buyer-tracking")


def test_a_declined_card_in_the_browser_keeps_the_cart(page, catalog, buyer, screenshot):
    tshirt, _scarf = catalog
    sign_in(page, buyer.email)
    add_to_cart(page, tshirt, 1)
    page.goto("/checkout/")
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.locator("[data-place-order]").click()
    page.get_by_text("Nothing was charged and your cart is unchanged.").wait_for()
    screenshot("orders-declined")
    page.goto("/cart/")
    expect(page.locator('[data-cart-line="TEE-M"]')).to_have_count(1)
