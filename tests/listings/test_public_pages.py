from decimal import Decimal

import pytest
from django.urls import reverse

from customs.models import ExchangeRate
from marketplace.listings.buyer import SESSION_COUNTRY, SESSION_CURRENCY, clear_rate_cache
from marketplace.listings.models import Listing
from tests.factories import UserFactory
from tests.listings.factories import make_category, make_listing, make_profile

pytestmark = pytest.mark.usefixtures("customs_tables")


@pytest.fixture
def rates(db):
    """Known ECB rates for today (FACTS §7 example: USD 1.1700, GBP 0.8500)."""
    from django.utils import timezone

    from customs import fx

    today = timezone.localdate()
    for currency, value in {
        "USD": "1.1700",
        "GBP": "0.8500",
        "CNY": "8.3000",
        "JPY": "163.45",
    }.items():
        ExchangeRate.objects.update_or_create(
            date=today,
            currency=currency,
            rate_kind=ExchangeRate.Kind.ECB_DAILY,
            defaults={"rate": Decimal(value), "source": "test"},
        )
    fx.clear_cache()
    clear_rate_cache()
    return today


@pytest.fixture
def catalog(shop, other_shop, rates):
    clothing = make_category("Clothing", is_featured=True)
    tees = make_category("T-shirts", parent=clothing)
    home = make_category("Home & kitchen")
    mugs = make_category("Mugs", parent=home)
    us_world = make_profile(
        shop,
        name="US and Europe",
        zones=[
            ("Domestic", ["US"], "5.00", "1.00", 2, 4),
            ("Europe", ["DE", "FR"], "12.00", "3.00", 6, 10),
        ],
    )
    cn_world = make_profile(
        other_shop,
        name="Asia",
        zones=[("Asia", ["CN", "JP", "SG"], "20.00", "5.00", 5, 9)],
    )
    tee = make_listing(
        shop,
        title="Organic cotton T-shirt",
        category=tees,
        profile=us_world,
        variants=[{"sku": "TEE-M", "price": "25.00"}],
    )
    domestic = make_listing(
        shop,
        title="Cotton tote bag",
        category=clothing,
        profile=us_world,
        variants=[{"sku": "TOTE", "price": "12.00"}],
        customs={},
    )
    mug = make_listing(
        other_shop,
        title="Celadon porcelain mug",
        category=mugs,
        profile=cn_world,
        variants=[{"sku": "MUG", "price": "98.00"}],
        customs={
            "hs_code": "691110",
            "customs_description": "Porcelain tea mug, glazed",
            "origin_country": "CN",
            "material": "porcelain",
        },
    )
    draft = make_listing(
        shop, title="Secret cotton draft", category=tees, status=Listing.Status.DRAFT
    )
    return {
        "tee": tee,
        "tote": domestic,
        "mug": mug,
        "draft": draft,
        "clothing": clothing,
        "tees": tees,
        "home": home,
        "mugs": mugs,
    }


def test_category_page_lists_its_subtree_with_child_facets(client, catalog):
    response = client.get(reverse("listings:category", kwargs={"path": "clothing"}))
    assert response.status_code == 200
    titles = [card.title for card in response.context["cards"]]
    assert titles == ["Cotton tote bag", "Organic cotton T-shirt"]  # newest first
    assert [(c.name, n) for c, n in response.context["category_facets"]] == [("T-shirts", 1)]
    assert "Secret cotton draft" not in response.content.decode()


def test_unknown_category_is_404(client, catalog):
    assert client.get("/c/no-such-thing/").status_code == 404


def test_search_finds_words_and_filters_by_origin_and_shop(client, catalog):
    response = client.get(reverse("listings:search"), {"q": "cotton"})
    assert {c.title for c in response.context["cards"]} == {
        "Organic cotton T-shirt",
        "Cotton tote bag",
    }
    response = client.get(reverse("listings:search"), {"q": "mug"})
    assert [c.title for c in response.context["cards"]] == ["Celadon porcelain mug"]
    response = client.get(reverse("listings:search"), {"origin": "CN"})
    assert [c.title for c in response.context["cards"]] == ["Celadon porcelain mug"]
    origins = {code: n for code, _name, n in response.context["origin_facets"]}
    assert origins == {"CN": 1, "US": 1}  # the origin facet ignores its own filter
    response = client.get(reverse("listings:search"), {"shop": "maple-thread"})
    assert {c.title for c in response.context["cards"]} == {
        "Organic cotton T-shirt",
        "Cotton tote bag",
    }


def test_price_range_is_in_the_display_currency(client, catalog):
    session = client.session
    session[SESSION_CURRENCY] = "EUR"
    session.save()
    # USD 25.00 = EUR 21.37, USD 12.00 = EUR 10.26, CNY 98.00 = EUR 11.81
    response = client.get(reverse("listings:search"), {"min_price": "11", "max_price": "22"})
    assert {c.title for c in response.context["cards"]} == {
        "Organic cotton T-shirt",
        "Celadon porcelain mug",
    }
    response = client.get(reverse("listings:search"), {"sort": "price"})
    assert [c.title for c in response.context["cards"]] == [
        "Cotton tote bag",
        "Celadon porcelain mug",
        "Organic cotton T-shirt",
    ]
    response = client.get(reverse("listings:search"), {"sort": "-price"})
    assert response.context["cards"][0].title == "Organic cotton T-shirt"


def test_ships_to_my_country_uses_the_session_choice(client, catalog):
    client.post(reverse("listings:preferences"), {"country": "DE", "next": "/search/"})
    assert client.session[SESSION_COUNTRY] == "DE"
    response = client.get(reverse("listings:search"), {"ships": "1"})
    # Only the T-shirt: the tote has no customs data, the mug's profile does not serve DE.
    assert [c.title for c in response.context["cards"]] == ["Organic cotton T-shirt"]
    assert "Ships to Germany" in response.content.decode()


def test_ships_to_my_country_defaults_to_the_buyers_address(client_for, buyer, catalog):
    client = client_for(buyer)  # default address in Berlin
    response = client.get(reverse("listings:search"), {"ships": "1"})
    assert [c.title for c in response.context["cards"]] == ["Organic cotton T-shirt"]


def test_a_domestic_buyer_sees_listings_without_customs_data(client, catalog):
    client.post(reverse("listings:preferences"), {"country": "US"})
    response = client.get(reverse("listings:search"), {"ships": "1"})
    assert {c.title for c in response.context["cards"]} == {
        "Organic cotton T-shirt",
        "Cotton tote bag",
    }


def test_currency_switch_converts_prices_marked_approximate(client, catalog):
    client.post(reverse("listings:preferences"), {"currency": "GBP", "next": "/c/clothing/"})
    page = client.get(reverse("listings:category", kwargs={"path": "clothing/t-shirts"}))
    html = page.content.decode()
    # USD 25.00 x 0.85 / 1.17 = GBP 18.16 (half-up to pence), the seller's price beside it
    assert "≈&nbsp;£18.16" in html
    assert "$25.00" in html
    client.post(reverse("listings:preferences"), {"currency": "JPY"})
    html = client.get(
        reverse("listings:category", kwargs={"path": "clothing/t-shirts"})
    ).content.decode()
    assert "≈&nbsp;¥3,493" in html  # 25 x 163.45 / 1.17 = 3492.52..., JPY has no minor unit


def test_signed_in_buyers_currency_choice_is_saved_on_the_profile(client_for, buyer, catalog):
    client = client_for(buyer)
    client.post(reverse("listings:preferences"), {"currency": "CNY", "next": "/"})
    buyer.refresh_from_db()
    assert buyer.preferred_currency == "CNY"


def test_preferences_refuse_unknown_values_and_foreign_redirects(client, catalog):
    response = client.post(
        reverse("listings:preferences"), {"currency": "XXX", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_CURRENCY not in client.session


def test_listing_page_shows_shipping_to_the_buyers_country(client, catalog):
    tee = catalog["tee"]
    client.post(reverse("listings:preferences"), {"country": "DE", "currency": "EUR"})
    response = client.get(tee.get_absolute_url())
    assert response.status_code == 200
    options = response.context["shipping_options"]
    assert [(o.price, o.currency, o.delivery_min_days, o.delivery_max_days) for o in options] == [
        (Decimal("12.00"), "USD", 7, 11)
    ]
    html = response.content.decode()
    assert "Arrives in 7\u201311 working days" in html  # en dash
    assert "≈&nbsp;€10.26" in html  # USD 12.00 / 1.17


def test_listing_page_says_when_it_does_not_ship_to_the_buyer(client, catalog):
    client.post(reverse("listings:preferences"), {"country": "FR"})
    html = client.get(catalog["mug"].get_absolute_url()).content.decode()
    assert "This item does not ship to France." in html
    html = client.get(catalog["tote"].get_absolute_url()).content.decode()
    assert "This item does not ship to France." in html  # no customs data: domestic only


def test_listing_url_with_a_wrong_slug_redirects_to_the_canonical_one(client, catalog):
    tee = catalog["tee"]
    response = client.get(f"/l/{tee.pk}-whatever/")
    assert response.status_code == 301
    assert response["Location"] == tee.get_absolute_url()
    assert client.get(f"/l/{tee.pk}/")["Location"] == tee.get_absolute_url()


def test_drafts_are_hidden_from_buyers_but_previewed_by_members(client_for, seller, buyer, catalog):
    draft = catalog["draft"]
    assert client_for(buyer).get(draft.get_absolute_url()).status_code == 404
    response = client_for(seller).get(draft.get_absolute_url())
    assert response.status_code == 200
    assert response.context["preview"] is True


def test_listings_of_a_suspended_shop_disappear(client, catalog, shop):
    shop.status = shop.Status.SUSPENDED
    shop.save()
    from marketplace.listings.cache import bump_catalog_generation

    bump_catalog_generation()
    assert client.get(catalog["tee"].get_absolute_url()).status_code == 404
    assert client.get(reverse("listings:shop", kwargs={"slug": shop.slug})).status_code == 404
    response = client.get(reverse("listings:search"))
    assert [c.title for c in response.context["cards"]] == ["Celadon porcelain mug"]


def test_shop_page_shows_profile_and_listings(client, catalog, shop):
    response = client.get(reverse("listings:shop", kwargs={"slug": shop.slug}))
    assert response.status_code == 200
    assert {c.title for c in response.context["cards"]} == {
        "Organic cotton T-shirt",
        "Cotton tote bag",
    }
    assert "Ships from Portland, United States of America" in response.content.decode()


def test_home_shows_featured_categories_new_arrivals_and_shops(client, catalog):
    html = client.get("/").content.decode()
    assert "Shop by category" in html and "Clothing" in html
    assert "Celadon porcelain mug" in html
    assert "Jade Studio" in html


def test_category_index_lists_the_tree(client, catalog):
    html = client.get(reverse("listings:category-index")).content.decode()
    assert "Home &amp; kitchen" in html and "Mugs" in html


def _grow_catalog(shop, profile, category, count, start):
    for n in range(count):
        make_listing(
            shop,
            title=f"Linen napkin {start + n}",
            category=category,
            profile=profile,
            variants=[{"sku": f"NAP-{start + n}-A"}, {"sku": f"NAP-{start + n}-B"}],
        )


@pytest.mark.parametrize(("size", "page_size"), [(3, 24), (30, 24), (30, 5), (30, 48)])
def test_queries_per_page_do_not_grow_with_the_catalog_or_the_page_size(
    client, catalog, shop, settings, django_assert_max_num_queries, size, page_size, monkeypatch
):
    from marketplace.listings import catalog as catalog_module

    monkeypatch.setattr(catalog_module, "PAGE_SIZE", page_size)
    settings.LISTINGS_CACHE_SECONDS = 0  # measure the uncached work
    profile = shop.shipping_profiles.get()
    _grow_catalog(shop, profile, catalog["tees"], size, 0)
    client.post(reverse("listings:preferences"), {"country": "DE", "currency": "GBP"})
    tee = catalog["tee"]
    # (url, queries): the session, then the page's own fixed set; list pages on either engine:
    # one grouped count (total + facets), the page of ids, the cards (+ shop, FX rates).
    pages = [
        (reverse("listings:category", kwargs={"path": "clothing"}) + "?ships=1&sort=price", 5),
        (reverse("listings:search") + "?q=napkin&origin=US&min_price=1", 5),
        (tee.get_absolute_url(), 6),
        (reverse("listings:shop", kwargs={"slug": shop.slug}) + "?sort=newest", 6),
    ]
    for url, queries in pages:
        with django_assert_max_num_queries(queries):
            response = client.get(url)
        assert response.status_code == 200
    assert len(client.get(pages[1][0]).context["cards"]) == min(size, page_size)


def test_cached_results_follow_catalog_writes(client, catalog, shop, settings):
    settings.LISTINGS_CACHE_SECONDS = 60
    url = reverse("listings:category", kwargs={"path": "clothing/t-shirts"})
    assert [c.title for c in client.get(url).context["cards"]] == ["Organic cotton T-shirt"]
    make_listing(
        shop,
        title="Striped cotton T-shirt",
        category=catalog["tees"],
        profile=shop.shipping_profiles.get(),
    )
    assert [c.title for c in client.get(url).context["cards"]] == [
        "Striped cotton T-shirt",
        "Organic cotton T-shirt",
    ]


def test_pagination_keeps_the_filters(client, catalog, shop, settings):
    from marketplace.listings import catalog as catalog_module

    settings.LISTINGS_CACHE_SECONDS = 0
    catalog_module.PAGE_SIZE, old = 2, catalog_module.PAGE_SIZE
    try:
        _grow_catalog(shop, shop.shipping_profiles.get(), catalog["tees"], 3, 100)
        response = client.get(reverse("listings:search"), {"q": "napkin", "page": 2})
        assert response.context["result"].pages == 2
        assert len(response.context["cards"]) == 1
        assert "?q=napkin&amp;page=1" in response.content.decode()
    finally:
        catalog_module.PAGE_SIZE = old


def test_a_new_user_preference_does_not_leak_to_other_visitors(client, catalog):
    other = UserFactory(preferred_currency="USD")
    client.post(reverse("listings:preferences"), {"currency": "GBP"})
    client.force_login(other)
    assert client.get("/").wsgi_request._display_currency in ("GBP", "USD")


def test_preferences_page_shows_the_current_choices(client, catalog):
    client.post(reverse("listings:preferences"), {"currency": "GBP", "country": "FR"})
    response = client.get(reverse("listings:preferences"), {"next": "/c/clothing/"})
    form = response.context["form"]
    assert form.initial == {"currency": "GBP", "country": "FR", "next": "/c/clothing/"}
    response = client.post(
        reverse("listings:preferences"), {"currency": "EUR", "country": "", "next": "/c/clothing/"}
    )
    assert response["Location"] == "/c/clothing/"
    assert client.session[SESSION_COUNTRY] == ""
