"""Admin as an operations console; background work that survives a lost publish."""

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.listings import services, tasks
from marketplace.listings.models import Category, Listing, ListingImage
from tests.listings.factories import image_bytes, make_category, make_listing, make_profile, upload

pytestmark = pytest.mark.usefixtures("customs_tables")


@pytest.fixture
def live(shop):
    return make_listing(shop, profile=make_profile(shop))


def test_admin_changelists_and_change_pages_load(client_for, staff, live):
    client = client_for(staff)
    image = services.add_listing_image(
        listing=live, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    for name, obj in [
        ("listings_listing", live),
        ("listings_variant", live.variants.get()),
        ("listings_listingimage", image),
        ("listings_category", live.category),
        ("listings_shippingprofile", live.shipping_profile),
        ("listings_shippingzone", live.shipping_profile.zones.get()),
    ]:
        assert client.get(reverse(f"admin:{name}_changelist"), {"q": "a"}).status_code == 200
        assert client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse("admin:listings_importjob_changelist")).status_code == 200


def test_admin_pause_action_moves_the_state_machine_and_logs_the_actor(client_for, staff, live):
    response = client_for(staff).post(
        reverse("admin:listings_listing_changelist"),
        {"action": "pause_selected", "_selected_action": [live.pk]},
    )
    assert response.status_code == 302
    live.refresh_from_db()
    assert live.status == Listing.Status.PAUSED
    event = live.events.order_by("-pk").first()
    assert (event.kind, event.actor) == ("paused", staff)


def test_admin_regenerate_thumbnails_action(client_for, staff, live, run_on_commit):
    image = services.add_listing_image(
        listing=live, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    services.generate_thumbnails(image_id=image.pk)
    with run_on_commit():
        client_for(staff).post(
            reverse("admin:listings_listingimage_changelist"),
            {"action": "regenerate_thumbnails", "_selected_action": [image.pk]},
        )
    image.refresh_from_db()
    assert image.thumbnail_status == ListingImage.ThumbnailStatus.READY


def test_admin_category_save_uses_the_service(client_for, staff):
    parent = make_category("Home")
    response = client_for(staff).post(
        reverse("admin:listings_category_add"),
        {
            "name": "Tea towels",
            "slug": "tea-towels",
            "parent": parent.pk,
            "names": "{}",
            "position": 0,
        },
    )
    assert response.status_code == 302
    assert Category.objects.get(name="Tea towels").path == "home/tea-towels"


def test_admin_edit_of_customs_data_refreshes_the_export_flag(client_for, staff, shop, live):
    live.export_ready = True
    url = reverse("admin:listings_listing_change", args=[live.pk])
    variant = live.variants.get()
    data = {
        "title": live.title,
        "description": "",
        "category": live.category_id,
        "shipping_profile": live.shipping_profile_id,
        "hs_code": "",
        "customs_description": live.customs_description,
        "origin_country": "US",
        "material": "cotton",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "1",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-id": variant.pk,
        "variants-0-listing": live.pk,
        "variants-0-stock": "4",
        "variants-0-low_stock_threshold": "3",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = client_for(staff).post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    live.refresh_from_db()
    assert live.export_ready is False
    assert live.variants.get().stock == 4


def test_sweeper_republishes_thumbnails_never_made(live):
    image = services.add_listing_image(
        listing=live, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    ListingImage.objects.filter(pk=image.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=30)
    )
    assert tasks.sweep_catalog_work.delay().get() == 1  # eager: runs make_thumbnails too
    image.refresh_from_db()
    assert image.thumbnail_status == ListingImage.ThumbnailStatus.READY
    assert tasks.sweep_catalog_work.delay().get() == 0


def test_thumbnail_task_run_twice_changes_nothing(live):
    image = services.add_listing_image(
        listing=live, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    assert tasks.make_thumbnails.delay(image.pk).get() is True
    assert tasks.make_thumbnails.delay(image.pk).get() is False
