"""Cached fragments of list pages: shared by every visitor, invalidated by catalog writes."""

import pytest
from django.test import Client
from django.urls import reverse

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


def test_second_view_reuses_the_result_fragment(page):
    one = Client().get(page)
    two = Client().get(page)
    assert (one["X-Catalog-Cache"], two["X-Catalog-Cache"]) == ("miss", "hit")
    assert "Organic cotton T-shirt" in two.content.decode()


def test_a_hit_runs_none_of_the_browse_queries(page, django_assert_max_num_queries):
    Client().get(page)
    client = Client()
    # Session-less anonymous visitor: no session, no user, no cart; the catalog is in memory.
    with django_assert_max_num_queries(0):
        response = client.get(page)
    assert response["X-Catalog-Cache"] == "hit"


def test_signed_in_visitors_share_the_fragments(page, client_for, buyer):
    anonymous = Client()
    # An anonymous visitor with the buyer's country and currency renders the fragment.
    anonymous.post(
        reverse("listings:preferences"),
        {"country": buyer.country.code, "currency": buyer.preferred_currency or "EUR"},
    )
    assert anonymous.get(page)["X-Catalog-Cache"] == "miss"
    response = client_for(buyer).get(page)
    assert response["X-Catalog-Cache"] == "hit"
    assert "Sign out" in response.content.decode()
    assert "Organic cotton T-shirt" in response.content.decode()


def test_a_catalog_write_invalidates_cached_fragments(page, shop):
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


def test_the_home_page_catalog_is_a_fragment_per_currency(page):
    client = Client()
    assert client.get("/")["X-Catalog-Cache"] == "miss"
    assert client.get("/")["X-Catalog-Cache"] == "hit"
    client.post(reverse("listings:preferences"), {"currency": "JPY"})
    response = client.get("/")
    assert response["X-Catalog-Cache"] == "miss"
    assert "¥" in response.content.decode()


def test_listing_pages_are_never_cached(page, shop):
    listing = shop.listings.get()
    client = Client()
    client.get(listing.get_absolute_url())
    assert "X-Catalog-Cache" not in client.get(listing.get_absolute_url())


def test_cache_off_means_no_fragment_cache(page, settings):
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
