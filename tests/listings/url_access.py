"""Every catalog URL, classified for the authorization matrix (tests/test_url_matrix.py)."""

from __future__ import annotations

from tests.url_matrix import MEMBER, OWNER, PUBLIC, Rule

SELLER_SIDE = ("seller_staff",)


def _unique(prefix: str) -> str:
    import uuid

    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _shop(p):
    return {"slug": p["shop"].slug}


def _listing(p):
    from tests.listings.factories import make_listing, make_profile

    listing = make_listing(p["shop"], profile=make_profile(p["shop"], name=_unique("Live")))
    return {"slug": p["shop"].slug, "pk": listing.pk}


def _draft(p):
    from marketplace.listings.models import Listing
    from tests.listings.factories import make_listing

    listing = make_listing(p["shop"], status=Listing.Status.DRAFT)
    return {"slug": p["shop"].slug, "pk": listing.pk}


def _image(p):
    from django.utils import timezone

    from marketplace.listings import services
    from marketplace.listings.models import Listing
    from tests.listings.factories import image_bytes, make_listing, upload

    listing = make_listing(p["shop"], status=Listing.Status.DRAFT)
    image = services.add_listing_image(
        listing=listing, upload=upload("a.jpg", image_bytes()), alt_text="", now=timezone.now()
    )
    return {"slug": p["shop"].slug, "pk": listing.pk, "image_pk": image.pk}


def _profile(p):
    from tests.listings.factories import make_profile

    return {"slug": p["shop"].slug, "pk": make_profile(p["shop"], name=_unique("Profile")).pk}


def _zone(p):
    from tests.listings.factories import make_profile

    profile = make_profile(p["shop"], name=_unique("Zones"))
    return {"slug": p["shop"].slug, "pk": profile.pk, "zone_pk": profile.zones.get().pk}


def _import(p):
    from marketplace.listings.models import ImportJob

    job = ImportJob.objects.create(shop=p["shop"], original_name="x.csv", file="imports/x.csv")
    return {"slug": p["shop"].slug, "pk": job.pk}


def _public_listing(p):
    from tests.listings.factories import make_listing, make_profile

    listing = make_listing(
        p["other_shop"], profile=make_profile(p["other_shop"], name=_unique("Public"))
    )
    return {"pk": listing.pk, "slug": listing.slug}


def _category(p):
    from tests.listings.factories import make_category

    return {"path": make_category("Clothing").path}


def _member(**extra):
    return {"owner": "seller", "also": SELLER_SIDE, **extra}


RULES = {
    # Public catalog
    "listings:category-index": Rule(PUBLIC),
    "listings:category": Rule(PUBLIC, kwargs=_category),
    "listings:search": Rule(PUBLIC),
    "listings:listing": Rule(PUBLIC, kwargs=_public_listing),
    "listings:listing-short": Rule(PUBLIC, kwargs=lambda p: {"pk": _public_listing(p)["pk"]}),
    "listings:shop": Rule(PUBLIC, kwargs=lambda p: {"slug": p["other_shop"].slug}),
    "listings:preferences": Rule(PUBLIC, method="post"),
    # Seller pages: members of the shop; everyone else 404
    "listings:seller-listings": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-listing-create": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-listing-edit": Rule(MEMBER, kwargs=_draft, **_member()),
    "listings:seller-listing-status": Rule(MEMBER, kwargs=_listing, method="post", **_member()),
    "listings:seller-image-upload": Rule(MEMBER, kwargs=_draft, method="post", **_member()),
    "listings:seller-image-edit": Rule(MEMBER, kwargs=_image, method="post", **_member()),
    "listings:seller-hs-finder": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-ics2-check": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-shipping": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-shipping-create": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-shipping-edit": Rule(MEMBER, kwargs=_profile, **_member()),
    "listings:seller-shipping-delete": Rule(OWNER, kwargs=_profile, method="post", **_member()),
    "listings:seller-zone-create": Rule(MEMBER, kwargs=_profile, **_member()),
    "listings:seller-zone-edit": Rule(MEMBER, kwargs=_zone, **_member()),
    "listings:seller-zone-delete": Rule(OWNER, kwargs=_zone, method="post", **_member()),
    "listings:seller-import": Rule(MEMBER, kwargs=_shop, **_member()),
    "listings:seller-import-detail": Rule(MEMBER, kwargs=_import, **_member()),
    "listings:seller-import-status": Rule(MEMBER, kwargs=_import, **_member()),
    "listings:seller-export": Rule(MEMBER, kwargs=_shop, **_member()),
}
