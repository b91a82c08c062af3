"""Shipping quotes: zones, first and additional items, delivery times, the export gate."""

from decimal import Decimal

import pytest

from marketplace.listings.models import Listing, ShippingProfile
from marketplace.listings.shipping import (
    SHIPPING_PREFETCH,
    filter_ships_to,
    listing_shipping_options,
    quote_shipping,
    shipping_options,
    ships_to,
)
from tests.listings.factories import make_listing, make_profile

pytestmark = pytest.mark.usefixtures("customs_tables")


@pytest.fixture
def profile(shop):
    return make_profile(
        shop,
        handling_days=2,
        zones=[
            ("Domestic", ["US"], "4.50", "1.25", 2, 5),
            ("Europe", ["DE", "FR", "NL"], "14.00", "3.50", 6, 12),
            ("Europe express", ["GB"], "30.00", "6.00", 2, 3, "courier"),
            ("Everywhere else", None, "22.00", "5.00", 10, 25),
        ],
    )


def test_first_item_plus_each_additional_item(profile):
    quote = quote_shipping(profile, "DE", 3)
    assert quote.price == Decimal("21.00")  # 14.00 + 2 x 3.50
    assert (quote.currency, quote.service_level) == ("USD", "postal")
    assert (quote.min_days, quote.max_days) == (6, 12)
    assert (quote.delivery_min_days, quote.delivery_max_days) == (8, 14)  # + 2 handling days


def test_a_country_in_no_zone_uses_everywhere_else(profile):
    assert quote_shipping(profile, "JP", 1).price == Decimal("22.00")
    assert quote_shipping(profile, "jp", 2).price == Decimal("27.00")


def test_no_rest_of_world_zone_means_no_quote(shop):
    profile = make_profile(shop, name="Home only")
    assert quote_shipping(profile, "US", 1).price == Decimal("5.00")
    assert quote_shipping(profile, "FR", 1) is None
    assert quote_shipping(None, "US", 1) is None


def test_options_are_cheapest_first_and_can_be_chosen_by_service(shop):
    profile = make_profile(shop, name="Two services")
    from django.utils import timezone  # noqa: F401

    from marketplace.listings import services
    from marketplace.listings.models import ShippingRate

    zone = profile.zones.get()
    courier = ShippingRate(
        service_level="courier",
        first_item=Decimal("18.00"),
        additional_item=Decimal("2.00"),
        min_days=1,
        max_days=2,
    )
    services.save_shipping_zone(zone=zone, rates=[*zone.rates.all(), courier])
    levels = [(q.service_level, q.price) for q in shipping_options(profile, "US", 2)]
    assert levels == [("postal", Decimal("6.00")), ("courier", Decimal("20.00"))]
    assert quote_shipping(profile, "US", 1, service_level="courier").price == Decimal("18.00")


def test_quantity_must_be_positive(profile):
    with pytest.raises(ValueError):
        shipping_options(profile, "US", 0)


def test_quotes_round_to_the_shop_currency(other_shop):
    profile = make_profile(other_shop, zones=[("Asia", ["JP"], "35.5", "0", 3, 6)])
    assert quote_shipping(profile, "JP", 1).price == Decimal("35.50")  # CNY has fen


def test_prefetched_profiles_quote_without_queries(profile, django_assert_num_queries):
    loaded = (
        ShippingProfile.objects.select_related("shop")
        .prefetch_related(SHIPPING_PREFETCH)
        .get(pk=profile.pk)
    )
    with django_assert_num_queries(0):
        for country in ("US", "DE", "GB", "JP", "BR"):
            quote_shipping(loaded, country, 2)


def test_abroad_only_when_export_ready(shop, profile):
    ready = make_listing(shop, profile=profile, title="Ready")
    domestic = make_listing(shop, profile=profile, title="Domestic only", customs={})
    assert ships_to(ready, "DE") and ships_to(domestic, "US")
    assert not ships_to(domestic, "DE")
    assert listing_shipping_options(domestic, "DE") == []
    public = Listing.objects.public()
    assert set(filter_ships_to(public, "DE").values_list("title", flat=True)) == {"Ready"}
    assert set(filter_ships_to(public, "US").values_list("title", flat=True)) == {
        "Ready",
        "Domestic only",
    }
    assert set(filter_ships_to(public, "JP").values_list("title", flat=True)) == {"Ready"}


def test_the_eu_customs_union_is_not_abroad(db):
    """No customs data is needed where no customs border is crossed (customs' rule)."""
    from tests.factories import ShopFactory

    german = ShopFactory(slug="black-forest", country="DE", currency="EUR")
    eu_profile = make_profile(
        german,
        zones=[
            ("Europe", ["DE", "FR", "CH"], "6.00", "1.00", 2, 5),
        ],
    )
    domestic = make_listing(german, profile=eu_profile, title="German, no customs", customs={})
    assert ships_to(domestic, "FR") and ships_to(domestic, "DE")
    assert not ships_to(domestic, "CH")  # Switzerland is outside the customs union
    public = Listing.objects.public()
    assert set(filter_ships_to(public, "FR").values_list("title", flat=True)) == {
        "German, no customs"
    }
    assert not filter_ships_to(public, "CH").exists()
