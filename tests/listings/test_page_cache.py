"""The anonymous whole-page cache of list pages: per-visitor CSRF, invalidation, bypasses."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from marketplace.listings.page_cache import CSRF_PLACEHOLDER
from tests.listings.factories import make_category, make_listing, make_profile

pytestmark = pytest.mark.usefixtures("customs_tables")


@pytest.fixture
def page(shop, settings):
    settings.LISTINGS_CACHE_SECONDS = 60
    category = make_category("Clothing")
    make_listing(
        shop, title="Organic cotton T-shirt", category=category, profile=make_profile(shop)
    )
    return reverse("listings:category", kwargs={"path": "clothing"})


def _token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_second_anonymous_view_is_served_from_the_cache_with_its_own_csrf_token(page):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    one = first.get(page)
    two = second.get(page)
    assert (one["X-Catalog-Cache"], two["X-Catalog-Cache"]) == ("miss", "hit")
    html = two.content.decode()
    assert CSRF_PLACEHOLDER not in html and "Organic cotton T-shirt" in html
    assert _token(html) != _token(one.content.decode())
    # The token in the cached page works for this visitor's currency switch.
    response = second.post(
        reverse("listings:preferences"),
        {"csrfmiddlewaretoken": _token(html), "currency": "GBP", "next": page},
    )
    assert response.status_code == 302


def test_a_catalog_write_invalidates_cached_pages(page, shop):
    client = Client()
    client.get(page)
    make_listing(
        shop,
        title="Striped linen shirt",
        category=make_category("Shirts"),
        profile=shop.shipping_profiles.get(),
    )
    response = client.get(page)
    assert response["X-Catalog-Cache"] == "miss"


def test_display_currency_and_country_are_part_of_the_key(page):
    client = Client()
    client.get(page)
    assert client.get(page)["X-Catalog-Cache"] == "hit"
    client.post(reverse("listings:preferences"), {"currency": "JPY", "country": "JP"})
    response = client.get(page)
    assert response["X-Catalog-Cache"] == "miss"
    assert "¥" in response.content.decode()


def test_signed_in_users_and_pending_messages_bypass_the_cache(page, client_for, buyer):
    client = client_for(buyer)
    client.get(page)
    assert "X-Catalog-Cache" not in client.get(page)
    anonymous = Client()
    anonymous.post(reverse("listings:preferences"), {"currency": "XXX"})  # error message
    assert "X-Catalog-Cache" not in anonymous.get(page)  # shows the message, uncached


def test_listing_pages_are_never_cached(page, shop):
    listing = shop.listings.get()
    client = Client()
    client.get(listing.get_absolute_url())
    assert "X-Catalog-Cache" not in client.get(listing.get_absolute_url())


def test_cache_off_means_no_page_cache(page, settings):
    settings.LISTINGS_CACHE_SECONDS = 0
    client = Client()
    client.get(page)
    assert "X-Catalog-Cache" not in client.get(page)


def test_unknown_query_parameters_are_not_cached(page):
    client = Client()
    client.get(page + "?utm_source=x")
    assert "X-Catalog-Cache" not in client.get(page + "?utm_source=x")
    client.get(page + "?sort=price")
    assert client.get(page + "?sort=price")["X-Catalog-Cache"] == "hit"
