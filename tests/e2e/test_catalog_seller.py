"""A seller creates a listing in the browser: HS finder, ICS2 check, photo, readiness, publish."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from customs.loaders import load_all
from marketplace.listings import services
from marketplace.listings.catalog import reset_local_state
from marketplace.listings.models import (
    Listing,
    ListingImage,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
)
from tests.e2e.helpers import sign_in
from tests.listings.factories import make_category

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(shop, seller, tmp_path):
    cache.clear()
    reset_local_state()
    load_all(only={"hs", "fx"})
    make_category("T-shirts & tops", parent=make_category("Clothing"))
    profile = services.save_shipping_profile(
        profile=ShippingProfile(shop=shop, name="Standard shipping"), now=timezone.now()
    )
    for name, countries, first in (
        ("United States", ["US"], "5.00"),
        ("Europe", ["DE", "FR"], "19.00"),
    ):
        services.save_shipping_zone(
            zone=ShippingZone(profile=profile, name=name, countries=countries),
            rates=[
                ShippingRate(
                    service_level="postal",
                    first_item=first,
                    additional_item="2.00",
                    min_days=3,
                    max_days=9,
                )
            ],
        )
    photo = tmp_path / "tshirt-front.jpg"
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (45.0, 31.0, 12.0), 3: "W", 4: (122.0, 40.0, 30.0)}
    out = io.BytesIO()
    Image.new("RGB", (900, 900), (46, 94, 140)).save(out, format="JPEG", exif=exif)
    photo.write_bytes(out.getvalue())
    return photo


def test_seller_creates_a_listing_with_a_photo_and_passes_the_readiness_checklist(
    page, screenshot, setup, seller, shop
):
    sign_in(page, seller.email)
    page.goto(f"/sell/{shop.slug}/listings/")
    page.get_by_role("link", name="New listing").click()

    page.locator("#id_title").fill("Organic cotton T-shirt")
    page.locator("#id_description").fill("Heavyweight organic jersey, made in Portland.")
    page.locator("#id_category").select_option(label="— T-shirts & tops")
    page.locator("#id_shipping_profile").select_option(label="Standard shipping")

    # HS finder: words in, ranked subheadings out; a click fills the HS code.
    page.get_by_label("HS finder: describe the product").fill("cotton t-shirt")
    result = page.locator("[data-hs-results] button[data-code='610910']")
    expect(result).to_be_visible()
    result.click()
    expect(page.locator("#id_hs_code")).to_have_value("610910")

    # The customs description is checked against EU ICS2 as the seller types.
    description = page.locator("#id_customs_description")
    description.fill("Gift")
    expect(page.locator("[data-ics2-feedback]")).to_contain_text("too general for customs")
    screenshot("catalog-seller-ics2-refused")
    description.fill("Men's cotton T-shirt, knitted")
    expect(page.locator("[data-ics2-feedback]")).to_have_class(re.compile(r"\bok\b"))
    page.locator("#id_origin_country").select_option("US")
    page.locator("#id_material").fill("100% organic cotton")

    page.locator("#id_variants-0-sku").fill("TEE-M")
    page.locator("#id_variants-0-options_text").fill("size=M")
    page.locator("#id_variants-0-price").fill("28.00")
    page.locator("#id_variants-0-stock").fill("12")
    page.locator("#id_variants-0-net_weight_kg").fill("0.18")
    page.get_by_role("button", name="Add a variant").click()
    page.locator("#id_variants-1-sku").fill("TEE-L")
    page.locator("#id_variants-1-options_text").fill("size=L")
    page.locator("#id_variants-1-price").fill("28.00")
    page.locator("#id_variants-1-stock").fill("7")
    page.locator("#id_variants-1-net_weight_kg").fill("0.19")
    page.get_by_role("button", name="Create listing").click()
    expect(page.get_by_text("The listing was saved.")).to_be_visible()

    readiness = page.locator("[data-testid=readiness]")
    expect(readiness).to_contain_text("Yes")
    expect(readiness.locator("li.todo")).to_have_count(0)

    page.locator("#id_image").set_input_files(str(setup))
    page.locator("#id_alt_text").fill("Blue T-shirt, front")
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_text("The photo was added")).to_be_visible()
    expect(page.locator(".photo-list img.table-thumb:not(.placeholder)")).to_have_count(1)

    page.locator("[data-testid=publish]").click()
    expect(page.get_by_text("The listing is live.")).to_be_visible()
    screenshot("catalog-seller-listing-ready")

    listing = Listing.objects.get()
    assert (listing.status, listing.export_ready, listing.hs_code) == ("active", True, "610910")
    assert sorted(listing.variants.values_list("sku", flat=True)) == ["TEE-L", "TEE-M"]
    image = ListingImage.objects.get()
    assert image.thumbnail_status == "ready" and image.alt_text == "Blue T-shirt, front"
    with image.image.open("rb") as fh, Image.open(fh) as stored:
        assert not stored.getexif()  # the GPS position did not survive the upload

    page.goto(listing.get_absolute_url())
    expect(page.get_by_role("heading", name="Organic cotton T-shirt")).to_be_visible()
    screenshot("catalog-seller-public-listing")
