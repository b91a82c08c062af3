"""Seller journeys through the pages: listings with variants, photos, customs data, shipping."""

from decimal import Decimal

import pytest
from django.urls import reverse

from marketplace.listings.models import Listing, ListingImage, ShippingRate, ShippingZone, Variant
from tests.listings.factories import image_bytes, make_category, make_listing, make_profile, upload

pytestmark = pytest.mark.usefixtures("customs_tables")


@pytest.fixture
def tees():
    return make_category("T-shirts", parent=make_category("Clothing"))


def _listing_post(category, profile=None, **overrides):
    data = {
        "title": "Organic cotton T-shirt",
        "description": "Heavyweight jersey.",
        "category": category.pk,
        "shipping_profile": profile.pk if profile else "",
        "hs_code": "6109.10",
        "customs_description": "Men's cotton T-shirt, knitted",
        "origin_country": "US",
        "material": "100% organic cotton",
        "variants-TOTAL_FORMS": "2",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "100",
        "variants-0-sku": "TEE-M",
        "variants-0-options_text": "size=M; colour=Blue",
        "variants-0-price": "25.00",
        "variants-0-stock": "12",
        "variants-0-net_weight_kg": "0.180",
        "variants-0-low_stock_threshold": "3",
        "variants-1-sku": "TEE-L",
        "variants-1-options_text": "size=L; colour=Blue",
        "variants-1-price": "27.50",
        "variants-1-stock": "2",
        "variants-1-net_weight_kg": "0.200",
        "variants-1-low_stock_threshold": "3",
    }
    data.update(overrides)
    return data


def test_seller_creates_a_listing_with_variants_and_customs_data(client_for, seller, shop, tees):
    client = client_for(seller)
    profile = make_profile(shop)
    response = client.post(
        reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        _listing_post(tees, profile),
    )
    listing = Listing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "listings:seller-listing-edit", kwargs={"slug": shop.slug, "pk": listing.pk}
    )
    assert listing.hs_code == "610910"  # dots removed
    assert listing.status == Listing.Status.DRAFT
    assert listing.export_ready is True
    assert (listing.price_min, listing.price_max) == (Decimal("25.00"), Decimal("27.50"))
    variants = list(listing.variants.order_by("position"))
    assert [(v.sku, v.options, v.stock) for v in variants] == [
        ("TEE-M", {"size": "M", "colour": "Blue"}, 12),
        ("TEE-L", {"size": "L", "colour": "Blue"}, 2),
    ]
    assert variants[0].net_weight_kg == Decimal("0.180")
    page = client.get(response["Location"])
    assert page.context["readiness"].ready
    assert "Ready to ship abroad?" in page.content.decode()


def test_an_invalid_hs_code_is_refused_with_the_field_named(client_for, seller, shop, tees):
    response = client_for(seller).post(
        reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        _listing_post(tees, hs_code="1234"),
    )
    assert response.status_code == 200
    assert "hs_code" in response.context["form"].errors
    assert "6, 8 or 10 digits" in response.context["form"].errors["hs_code"][0]
    assert not Listing.objects.exists()


def test_a_vague_customs_description_is_refused_with_the_ics2_reason(
    client_for, seller, shop, tees
):
    response = client_for(seller).post(
        reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        _listing_post(tees, customs_description="Accessories"),
    )
    errors = response.context["form"].errors["customs_description"]
    assert "too general for customs" in errors[0]
    assert not Listing.objects.exists()


def test_a_draft_without_customs_data_is_saved_and_the_checklist_says_what_is_missing(
    client_for, seller, shop, tees
):
    client = client_for(seller)
    response = client.post(
        reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        _listing_post(tees, hs_code="", customs_description="", origin_country="", material=""),
    )
    listing = Listing.objects.get()
    assert listing.export_ready is False
    page = client.get(response["Location"])
    missing = [item.key for item in page.context["readiness"].missing]
    assert missing == ["hs_code", "customs_description", "origin_country", "material"]


def test_duplicate_and_foreign_skus_are_refused(client_for, seller, shop, other_shop, tees):
    make_listing(shop, status=Listing.Status.DRAFT, variants=[{"sku": "TAKEN"}], category=tees)
    make_listing(other_shop, status=Listing.Status.DRAFT, variants=[{"sku": "ELSEWHERE"}])
    client = client_for(seller)
    url = reverse("listings:seller-listing-create", kwargs={"slug": shop.slug})
    response = client.post(url, _listing_post(tees, **{"variants-1-sku": "TEE-M"}))
    assert "Each variant needs its own SKU." in response.content.decode()
    response = client.post(url, _listing_post(tees, **{"variants-0-sku": "TAKEN"}))
    assert response.context["formset"].forms[0].errors["sku"]
    response = client.post(url, _listing_post(tees, **{"variants-0-sku": "ELSEWHERE"}))
    assert response.status_code == 302  # another shop's SKU is no clash


def test_editing_updates_variants_and_removes_one(client_for, seller, shop, tees):
    listing = make_listing(
        shop,
        status=Listing.Status.DRAFT,
        category=tees,
        variants=[{"sku": "A", "price": "10.00"}, {"sku": "B", "price": "12.00"}],
    )
    a, b = listing.variants.order_by("position")
    data = _listing_post(
        tees,
        **{
            "variants-TOTAL_FORMS": "2",
            "variants-INITIAL_FORMS": "2",
            "variants-0-id": str(a.pk),
            "variants-0-sku": "A",
            "variants-0-price": "11.00",
            "variants-1-id": str(b.pk),
            "variants-1-sku": "B",
            "variants-1-DELETE": "on",
        },
    )
    response = client_for(seller).post(
        reverse("listings:seller-listing-edit", kwargs={"slug": shop.slug, "pk": listing.pk}), data
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert list(listing.variants.values_list("sku", "price")) == [("A", Decimal("11.00"))]
    assert listing.price_max == Decimal("11.00")


def test_publishing_from_the_page_and_the_readiness_gate(client_for, seller, shop, tees, client):
    profile = make_profile(
        shop,
        zones=[("Home", ["US"], "5.00", "1.00", 2, 4), ("World", None, "15.00", "4.00", 7, 14)],
    )
    listing = make_listing(
        shop, status=Listing.Status.DRAFT, category=tees, profile=profile, customs={}
    )
    seller_client = client_for(seller)
    status_url = reverse(
        "listings:seller-listing-status", kwargs={"slug": shop.slug, "pk": listing.pk}
    )
    seller_client.post(status_url, {"status": "active"})
    listing.refresh_from_db()
    assert listing.status == Listing.Status.ACTIVE
    client.logout()
    # Domestic buyers can order it; abroad it is not offered until the customs data is in.
    client.post(reverse("listings:preferences"), {"country": "GB"})
    assert (
        "does not ship to United Kingdom" in client.get(listing.get_absolute_url()).content.decode()
    )
    listing.hs_code, listing.customs_description = "610910", "Men's cotton T-shirt, knitted"
    listing.origin_country, listing.material = "US", "cotton"
    from django.utils import timezone

    from marketplace.listings import services

    services.save_listing(
        listing=listing, variants=list(listing.variants.all()), actor=seller, now=timezone.now()
    )
    page = client.get(listing.get_absolute_url())
    assert [o.price for o in page.context["shipping_options"]] == [Decimal("15.00")]


def test_publishing_without_shipping_shows_why(client_for, seller, shop, tees):
    listing = make_listing(shop, status=Listing.Status.DRAFT, category=tees)
    client = client_for(seller)
    response = client.post(
        reverse("listings:seller-listing-status", kwargs={"slug": shop.slug, "pk": listing.pk}),
        {"status": "active"},
        follow=True,
    )
    assert "cannot go live yet: choose a shipping profile" in response.content.decode()


def test_photo_upload_from_the_page_and_a_refused_file(
    client_for, seller, shop, tees, run_on_commit
):
    listing = make_listing(shop, status=Listing.Status.DRAFT, category=tees)
    client = client_for(seller)
    url = reverse("listings:seller-image-upload", kwargs={"slug": shop.slug, "pk": listing.pk})
    with run_on_commit():
        response = client.post(
            url, {"image": upload("front.jpg", image_bytes()), "alt_text": "Front view"}
        )
    assert response.status_code == 302
    image = ListingImage.objects.get()
    assert (image.alt_text, image.thumbnail_status) == ("Front view", "ready")
    response = client.post(
        url, {"image": upload("evil.svg", b"<svg onload='x'/>"), "alt_text": ""}, follow=True
    )
    assert "Photo: SVG files are not accepted" in response.content.decode()
    assert ListingImage.objects.count() == 1
    edit_url = reverse(
        "listings:seller-image-edit",
        kwargs={"slug": shop.slug, "pk": listing.pk, "image_pk": image.pk},
    )
    client.post(edit_url, {"action": "save", "alt_text": "Front, navy"})
    image.refresh_from_db()
    assert image.alt_text == "Front, navy"
    client.post(edit_url, {"action": "delete"})
    assert not ListingImage.objects.exists()


def test_hs_finder_ranks_subheadings_as_json_and_html(client_for, seller, shop):
    client = client_for(seller)
    url = reverse("listings:seller-hs-finder", kwargs={"slug": shop.slug})
    data = client.get(url, {"q": "cotton t-shirt", "format": "json"}).json()
    codes = [r["code"] for r in data["results"]]
    assert "610910" in codes[:3]
    first = data["results"][codes.index("610910")]
    assert first["heading"] == "6109" and first["chapter"] == "61"
    html = client.get(url, {"q": "ceramic mug"}).content.decode()
    assert "6912" in html or "6911" in html


def test_ics2_check_endpoint_explains_the_refusal(client_for, seller, shop):
    url = reverse("listings:seller-ics2-check", kwargs={"slug": shop.slug})
    data = client_for(seller).get(url, {"text": "Gift"}).json()
    assert data["ok"] is False and "too general" in data["errors"][0]
    assert client_for(seller).get(url, {"text": "Porcelain tea mug, glazed"}).json()["ok"]


def test_another_sellers_listing_is_404(client_for, other_seller, shop, tees):
    listing = make_listing(shop, status=Listing.Status.DRAFT, category=tees)
    client = client_for(other_seller)
    # Their own shop slug with our listing id, and our shop slug: both 404.
    assert client.get(f"/sell/jade-studio/listings/{listing.pk}/").status_code == 404
    assert client.get(f"/sell/{shop.slug}/listings/{listing.pk}/").status_code == 404
    assert (
        client.post(
            f"/sell/jade-studio/listings/{listing.pk}/status/", {"status": "active"}
        ).status_code
        == 404
    )


def test_buyers_cannot_reach_seller_pages(client_for, buyer, shop):
    client = client_for(buyer)
    for name in ("seller-listings", "seller-shipping", "seller-import", "seller-export"):
        assert (
            client.get(reverse(f"listings:{name}", kwargs={"slug": shop.slug})).status_code == 404
        )


def test_listing_list_shows_stock_alerts_and_readiness_filters(client_for, seller, shop, tees):
    profile = make_profile(shop)
    make_listing(
        shop,
        title="Low tee",
        category=tees,
        profile=profile,
        variants=[{"sku": "LOW", "stock": 2}, {"sku": "OUT", "stock": 0}],
    )
    make_listing(
        shop,
        title="Plenty tee",
        category=tees,
        profile=profile,
        customs={},
        variants=[{"sku": "MANY", "stock": 50}],
    )
    client = client_for(seller)
    url = reverse("listings:seller-listings", kwargs={"slug": shop.slug})
    response = client.get(url)
    assert response.context["alerts"] == {"low": 1, "out": 1}
    assert "Stock alerts on live listings" in response.content.decode()
    titles = lambda r: [item.title for item in r.context["page"].object_list]  # noqa: E731
    assert titles(client.get(url, {"stock": "low"})) == ["Low tee"]
    assert titles(client.get(url, {"readiness": "missing"})) == ["Plenty tee"]
    assert titles(client.get(url, {"q": "MANY"})) == ["Plenty tee"]


def test_shipping_profile_and_zone_from_the_pages(client_for, seller, seller_staff, shop):
    client = client_for(seller)
    response = client.post(
        reverse("listings:seller-shipping-create", kwargs={"slug": shop.slug}),
        {"name": "Parcels", "handling_days": "2"},
    )
    profile = shop.shipping_profiles.get()
    zone_url = reverse("listings:seller-zone-create", kwargs={"slug": shop.slug, "pk": profile.pk})
    rates = {
        "rates-TOTAL_FORMS": "2",
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "0",
        "rates-MAX_NUM_FORMS": "2",
        "rates-0-service_level": "postal",
        "rates-0-first_item": "9.50",
        "rates-0-additional_item": "2.00",
        "rates-0-min_days": "5",
        "rates-0-max_days": "9",
        "rates-1-service_level": "courier",
        "rates-1-first_item": "24.00",
        "rates-1-additional_item": "4.00",
        "rates-1-min_days": "2",
        "rates-1-max_days": "3",
    }
    response = client.post(zone_url, {"name": "EU", "countries": ["DE", "FR", "IT"], **rates})
    assert response.status_code == 302
    zone = ShippingZone.objects.get()
    assert zone.country_codes() == {"DE", "FR", "IT"}
    assert ShippingRate.objects.filter(zone=zone).count() == 2
    # A country already in a zone cannot be in another one of the same profile.
    response = client.post(zone_url, {"name": "Germany", "countries": ["DE"], **rates})
    assert "Already in another zone of this profile: DE." in response.content.decode()
    # Staff can edit but not delete the profile.
    delete_url = reverse(
        "listings:seller-shipping-delete", kwargs={"slug": shop.slug, "pk": profile.pk}
    )
    assert client_for(seller_staff).post(delete_url).status_code == 403
    listing = make_listing(shop, profile=profile)
    response = client_for(seller).post(delete_url, follow=True)
    assert "1 listing uses this profile" in response.content.decode()
    listing.delete()
    Variant.objects.all().delete()
    client_for(seller).post(delete_url)
    assert not shop.shipping_profiles.exists()


def test_dashboard_shows_catalog_sections_and_checklist(client_for, seller, shop, tees):
    client = client_for(seller)
    html = client.get(
        reverse("accounts:shop-dashboard", kwargs={"slug": shop.slug})
    ).content.decode()
    assert "Shipping profile with rates" in html
    assert "Manage listings" in html
    make_listing(
        shop, category=tees, profile=make_profile(shop), variants=[{"sku": "X", "stock": 0}]
    )
    html = client.get(
        reverse("accounts:shop-dashboard", kwargs={"slug": shop.slug})
    ).content.decode()
    assert "Stock alerts" in html and "1 variant is sold out" in html
