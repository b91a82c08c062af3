import pytest
from django.utils import timezone

from accounts import demo as accounts_demo
from marketplace.listings import demo
from marketplace.listings.models import Category, Listing, ListingImage, Variant

pytestmark = pytest.mark.usefixtures("customs_tables")


def _counts() -> tuple[int, int, int]:
    return Listing.objects.count(), Variant.objects.count(), ListingImage.objects.count()


def test_demo_catalog_is_complete_valid_and_idempotent():
    now = timezone.now()
    accounts_demo.seed(now=now)
    demo.seed(now=now)
    first = _counts()
    demo.seed(now=now)
    assert _counts() == first
    assert first[0] == sum(len(products) for products in demo.PRODUCTS.values())
    assert Category.objects.count() == len(demo.CATEGORIES)
    # Every product with customs data passes the export checks (real HS codes, ICS2-clean).
    assert all(listing.export_ready for listing in Listing.objects.exclude(hs_code=""))
    assert Listing.objects.filter(export_ready=False).count() == 1  # the bandana, on purpose
    assert not ListingImage.objects.exclude(thumbnail_status="ready").exists()
    assert set(Listing.objects.values_list("status", flat=True)) == {"active", "draft"}
