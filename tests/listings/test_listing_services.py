from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.core.errors import DomainError, IllegalTransition
from marketplace.listings import services
from marketplace.listings.models import Listing, ListingEvent, Variant
from tests.listings.factories import make_category, make_listing, make_profile

pytestmark = pytest.mark.usefixtures("customs_tables")


def test_saving_a_listing_keeps_price_range_currency_and_export_flag(shop, seller):
    listing = make_listing(
        shop,
        status=Listing.Status.DRAFT,
        variants=[
            {"sku": "TS-S", "price": "19.50", "options": {"size": "S"}},
            {"sku": "TS-L", "price": "24.00", "options": {"size": "L"}},
        ],
        actor=seller,
    )
    assert listing.currency == "USD"
    assert listing.price_min == Decimal("19.50")
    assert listing.price_max == Decimal("24.00")
    assert listing.export_ready is True
    assert listing.slug == "organic-cotton-t-shirt"
    assert [v.sku for v in listing.variants.all()] == ["TS-S", "TS-L"]
    assert listing.events.get().kind == ListingEvent.Kind.CREATED


def test_missing_customs_data_makes_a_listing_domestic_only(shop):
    listing = make_listing(shop, status=Listing.Status.DRAFT, customs={})
    assert listing.export_ready is False
    readiness = listing.export_readiness()
    assert not readiness.ready
    assert {item.key for item in readiness.missing} == {
        "hs_code",
        "customs_description",
        "origin_country",
        "material",
    }


def test_readiness_names_the_reason_for_an_invalid_hs_code_and_a_vague_description(shop):
    listing = make_listing(
        shop,
        status=Listing.Status.DRAFT,
        customs={
            "hs_code": "999999",
            "customs_description": "Gift",
            "origin_country": "US",
            "material": "cotton",
        },
    )
    missing = {item.key: item.detail for item in listing.export_readiness().missing}
    assert "reserved for national use" in missing["hs_code"]
    assert "too general for customs" in missing["customs_description"]
    assert listing.export_ready is False


def test_readiness_needs_a_net_weight_on_every_variant(shop):
    listing = make_listing(
        shop,
        status=Listing.Status.DRAFT,
        variants=[{"sku": "A", "weight": "0.2"}, {"sku": "B", "weight": None}],
    )
    missing = {item.key: item.detail for item in listing.export_readiness().missing}
    assert missing == {"net_weight": "Missing for B."}
    assert listing.export_ready is False


def test_sku_is_unique_per_shop_but_not_across_shops(shop, other_shop):
    make_listing(shop, status=Listing.Status.DRAFT, variants=[{"sku": "MUG-1"}])
    with pytest.raises(DomainError, match="already used"):
        make_listing(shop, status=Listing.Status.DRAFT, variants=[{"sku": "MUG-1"}])
    make_listing(other_shop, status=Listing.Status.DRAFT, variants=[{"sku": "MUG-1"}])
    assert Variant.objects.filter(sku="MUG-1").count() == 2


def test_the_database_refuses_negative_stock(shop):
    listing = make_listing(shop, status=Listing.Status.DRAFT)
    variant = listing.variants.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Variant.objects.filter(pk=variant.pk).update(stock=-1)


def test_publishing_needs_a_shipping_profile_with_rates(shop, seller):
    listing = make_listing(shop, status=Listing.Status.DRAFT)
    with pytest.raises(DomainError, match="choose a shipping profile"):
        services.change_listing_status(
            listing=listing, target=Listing.Status.ACTIVE, actor=seller, now=timezone.now()
        )
    listing.refresh_from_db()
    assert listing.status == Listing.Status.DRAFT


def test_publish_pause_resume_and_back_to_draft_write_events(shop, seller):
    profile = make_profile(shop)
    listing = make_listing(shop, profile=profile, status=Listing.Status.DRAFT)
    now = timezone.now()
    listing = services.change_listing_status(
        listing=listing, target=Listing.Status.ACTIVE, actor=seller, now=now
    )
    assert listing.published_at == now
    later = now + timezone.timedelta(hours=1)
    services.change_listing_status(
        listing=listing, target=Listing.Status.PAUSED, actor=seller, now=later
    )
    listing = services.change_listing_status(
        listing=listing, target=Listing.Status.ACTIVE, actor=seller, now=later
    )
    assert listing.published_at == now  # a resume does not make it "new" again
    services.change_listing_status(
        listing=listing, target=Listing.Status.PAUSED, actor=seller, now=later
    )
    services.change_listing_status(
        listing=listing, target=Listing.Status.DRAFT, actor=seller, now=later
    )
    kinds = list(listing.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["created", "published", "paused", "published", "paused", "unpublished"]


def test_an_illegal_transition_is_refused(shop, seller):
    listing = make_listing(shop, status=Listing.Status.DRAFT)
    with pytest.raises(IllegalTransition):
        services.change_listing_status(
            listing=listing, target=Listing.Status.PAUSED, actor=seller, now=timezone.now()
        )


def test_a_pending_shop_cannot_publish(shop, seller):
    shop.status = shop.Status.PENDING
    shop.save()
    listing = make_listing(shop, profile=make_profile(shop), status=Listing.Status.DRAFT)
    with pytest.raises(DomainError, match="approved"):
        services.change_listing_status(
            listing=listing, target=Listing.Status.ACTIVE, actor=seller, now=timezone.now()
        )


def test_category_paths_follow_renames_and_moves():
    clothing = make_category("Clothing")
    tops = make_category("Tops", parent=clothing)
    tees = make_category("T-shirts", parent=tops)
    assert tees.path == "clothing/tops/t-shirts"
    assert tees.depth == 2
    clothing.slug = "apparel"
    services.save_category(category=clothing)
    tees.refresh_from_db()
    assert tees.path == "apparel/tops/t-shirts"
    home = make_category("Home")
    tops.parent = home
    services.save_category(category=tops)
    tees.refresh_from_db()
    assert (tees.path, tees.depth) == ("home/tops/t-shirts", 2)
    home.parent = tees  # tees is inside home
    with pytest.raises(DomainError, match="inside itself"):
        services.save_category(category=home)
