"""Catalog services: every write that crosses rows, opens a transaction or enqueues work.

Views validate forms and call one function here; ``DomainError`` carries the message a seller
reads. After each write the listing summaries (price range, export flag, cover image, search
document) are refreshed in the same transaction, and the catalog generation is bumped after
commit so cached public pages drop the old version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, OuterRef, ProtectedError, Q, Subquery
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Shop, User
from marketplace.core.errors import DomainError
from marketplace.listings.cache import bump_catalog_generation
from marketplace.listings.images import render_thumbnails, sanitize_upload
from marketplace.listings.models import (
    Category,
    Listing,
    ListingEvent,
    ListingImage,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)
from marketplace.listings.pricing import refresh_sort_prices
from marketplace.listings.readiness import check_export_readiness
from marketplace.listings.search import refresh_search_vectors

logger = logging.getLogger(__name__)

MAX_IMAGES_PER_LISTING = 10
MAX_VARIANTS_PER_LISTING = 100


# --- Categories ------------------------------------------------------------------------------


def save_category(*, category: Category) -> Category:
    """Save a category and keep ``path``/``depth`` right for it and its whole subtree."""
    category.slug = slugify(category.slug or category.name)[:60] or "category"
    with transaction.atomic():
        parent = category.parent
        if parent is not None and category.pk:
            ancestor = parent
            while ancestor is not None:
                if ancestor.pk == category.pk:
                    raise DomainError(_("A category cannot be placed inside itself."))
                ancestor = ancestor.parent
        old_path = ""
        if category.pk:
            old_path = Category.objects.filter(pk=category.pk).values_list("path", flat=True)[0]
        category.path = f"{parent.path}/{category.slug}" if parent else category.slug
        category.depth = parent.depth + 1 if parent else 0
        if len(category.path) > 255:
            raise DomainError(_("The category is nested too deeply."))
        try:
            with transaction.atomic():
                category.save()
        except IntegrityError:
            raise DomainError(
                _("Another category at this place already uses the address %(slug)s.")
                % {"slug": category.slug}
            ) from None
        if old_path and old_path != category.path:
            # Longest paths last: children are rewritten after their parents.
            for child in Category.objects.filter(path__startswith=f"{old_path}/").order_by("depth"):
                child.path = category.path + child.path[len(old_path) :]
                child.depth = child.path.count("/")
                child.save(update_fields=["path", "depth"])
        if old_path:
            # Category names are part of the search document of every listing below.
            subtree = Listing.objects.filter(
                Q(category__path=category.path) | Q(category__path__startswith=f"{category.path}/")
            )
            refresh_search_vectors(subtree.values_list("pk", flat=True))
    bump_catalog_generation()
    return category


# --- Listings and variants -------------------------------------------------------------------


def _listing_slug(title: str) -> str:
    return slugify(title)[:80].strip("-") or "item"


def save_listing(
    *,
    listing: Listing,
    variants: Sequence[Variant],
    removed: Sequence[Variant] = (),
    actor: User | None,
    now: datetime,
) -> Listing:
    """Create or update a listing with its variants, in one transaction.

    ``variants`` are the listing's variants after the edit (new ones unsaved); ``removed``
    are existing variants to delete. A variant that already has orders cannot be deleted
    (its stock can be set to 0 instead).
    """
    if not variants:
        raise DomainError(_("A listing needs at least one variant."))
    if len(variants) > MAX_VARIANTS_PER_LISTING:
        raise DomainError(
            _("A listing has at most %(n)d variants.") % {"n": MAX_VARIANTS_PER_LISTING}
        )
    if listing.shipping_profile_id and listing.shipping_profile.shop_id != listing.shop_id:
        raise DomainError(_("Choose one of your shop's shipping profiles."))
    skus = [v.sku.strip() for v in variants]
    duplicated = sorted({s for s in skus if skus.count(s) > 1})
    if duplicated:
        raise DomainError(
            _("Each variant needs its own SKU; %(skus)s is used twice.")
            % {"skus": ", ".join(duplicated)}
        )
    created = listing.pk is None
    try:
        with transaction.atomic():
            if created:
                listing.currency = listing.shop.currency
                listing.created_at = now
            else:
                # Serialise concurrent edits of one listing (two tabs, an import).
                Listing.objects.select_for_update().filter(pk=listing.pk).first()
            listing.slug = _listing_slug(listing.title)
            listing.updated_at = now
            listing.save()
            for variant in removed:
                if variant.listing_id != listing.pk:
                    raise DomainError(_("That variant belongs to another listing."))
                variant.delete()
            for position, variant in enumerate(variants):
                variant.listing = listing
                variant.shop_id = listing.shop_id
                variant.sku = variant.sku.strip()
                variant.position = position
                variant.updated_at = now
                if variant.pk is None:
                    variant.created_at = now
                variant.save()
            _record(
                listing,
                ListingEvent.Kind.CREATED if created else ListingEvent.Kind.UPDATED,
                actor,
                now,
            )
            refresh_listing_summaries(listing_ids=[listing.pk])
    except ProtectedError:
        raise DomainError(
            _("A variant that has been ordered cannot be deleted; set its stock to 0 instead.")
        ) from None
    except IntegrityError as exc:
        if "sku" in str(exc).lower():
            raise DomainError(
                _("One of these SKUs is already used by another listing of your shop.")
            ) from None
        raise
    listing.refresh_from_db()
    return listing


def _record(listing: Listing, kind: str, actor: User | None, now: datetime, note: str = ""):
    ListingEvent.objects.create(
        listing=listing, kind=kind, actor=actor, note=note[:300], created_at=now
    )


def refresh_listing_summaries(*, listing_ids: Iterable[int]) -> None:
    """Recompute price range, export flag, cover image and search document of listings.

    Call it after changing variants, customs data or images outside ``save_listing`` (the
    CSV import and the catalog generator do). Stock is not summarised: list pages read it
    live, so stock moves by orders need no refresh.
    """
    ids = sorted(set(listing_ids))
    if not ids:
        return
    prices = (
        Variant.objects.filter(listing=OuterRef("pk"))
        .order_by()
        .values("listing")
        .annotate(low=Min("price"), high=Max("price"))
    )
    first_image = ListingImage.objects.filter(listing=OuterRef("pk")).order_by("position", "pk")
    Listing.objects.filter(pk__in=ids).update(
        price_min=Subquery(prices.values("low")),
        price_max=Subquery(prices.values("high")),
        cover_image=Subquery(first_image.values("pk")[:1]),
    )
    refresh_sort_prices(listing_ids=ids)
    listings = Listing.objects.filter(pk__in=ids).prefetch_related("variants").order_by("pk")
    for listing in listings:
        ready = check_export_readiness(listing, variants=listing.variants.all()).ready
        if ready != listing.export_ready:
            Listing.objects.filter(pk=listing.pk).update(export_ready=ready)
    refresh_search_vectors(ids)
    bump_catalog_generation()


def _publish_problems(listing: Listing) -> list[str]:
    problems = []
    if listing.shop.status != Shop.Status.APPROVED:
        problems.append(_("your shop must be approved by Tradepost first"))
    variants = list(listing.variants.all())
    if not variants:
        problems.append(_("add at least one variant"))
    elif any(v.price <= 0 for v in variants):
        problems.append(_("every variant needs a price above zero"))
    if listing.shipping_profile_id is None:
        problems.append(_("choose a shipping profile"))
    elif not ShippingRate.objects.filter(zone__profile_id=listing.shipping_profile_id).exists():
        problems.append(_("the shipping profile has no rates yet"))
    return problems


def change_listing_status(
    *, listing: Listing, target: str, actor: User | None, now: datetime
) -> Listing:
    """Publish, pause, resume or take back a listing, following ``Listing.TRANSITIONS``.

    Publishing needs an approved shop, priced variants and a shipping profile with rates;
    it does not need customs data (domestic buyers can order; see ``export_readiness``).
    """
    with transaction.atomic():
        locked = Listing.objects.select_for_update().select_related("shop").get(pk=listing.pk)
        locked.check_transition(target)
        if target == Listing.Status.ACTIVE:
            problems = _publish_problems(locked)
            if problems:
                raise DomainError(
                    _("This listing cannot go live yet: %(problems)s.")
                    % {"problems": "; ".join(problems)}
                )
        kind = {
            Listing.Status.ACTIVE: ListingEvent.Kind.PUBLISHED,
            Listing.Status.PAUSED: ListingEvent.Kind.PAUSED,
            Listing.Status.DRAFT: ListingEvent.Kind.UNPUBLISHED,
        }[target]
        locked.status = target
        locked.updated_at = now
        fields = ["status", "updated_at"]
        if target == Listing.Status.ACTIVE and locked.published_at is None:
            # First publication: "newest" sorts by it, so a pause does not bump a listing.
            locked.published_at = now
            fields.append("published_at")
        locked.save(update_fields=fields)
        _record(locked, kind, actor, now)
    bump_catalog_generation()
    return locked


def pause_listings(*, listings: Iterable[Listing], actor: User | None, now: datetime) -> int:
    """Pause every active listing given (moderation); others are left alone."""
    paused = 0
    for listing in sorted(listings, key=lambda item: item.pk):
        if listing.status == Listing.Status.ACTIVE:
            change_listing_status(
                listing=listing, target=Listing.Status.PAUSED, actor=actor, now=now
            )
            paused += 1
    return paused


# --- Images --------------------------------------------------------------------------------


def add_listing_image(*, listing: Listing, upload, alt_text: str, now: datetime) -> ListingImage:
    """Validate and re-encode an upload, attach it, and ask for thumbnails after commit.

    Raises ``ValidationError`` (the reason names what is wrong with the file) or
    ``DomainError`` (too many photos, the same photo twice).
    """
    from marketplace.listings.tasks import make_thumbnails

    clean = sanitize_upload(upload)
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        existing = list(locked.images.values_list("sha256", flat=True))
        if len(existing) >= MAX_IMAGES_PER_LISTING:
            raise DomainError(
                _("A listing has at most %(n)d photos.") % {"n": MAX_IMAGES_PER_LISTING}
            )
        if clean.sha256 in existing:
            raise DomainError(_("This photo is already on the listing."))
        image = ListingImage(
            listing=locked,
            alt_text=alt_text.strip()[:200],
            position=len(existing),
            sha256=clean.sha256,
            created_at=now,
        )
        image.image.save(clean.content.name, clean.content, save=False)
        image.save()
        _renumber_images(locked)
        make_thumbnails.delay_on_commit(image.pk)
    return image


def update_listing_image(*, image: ListingImage, alt_text: str) -> ListingImage:
    image.alt_text = alt_text.strip()[:200]
    image.save(update_fields=["alt_text"])
    bump_catalog_generation()
    return image


def move_listing_image(*, image: ListingImage, offset: int) -> None:
    """Move a photo earlier (-1) or later (+1); the first photo is the listing's cover."""
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=image.listing_id)
        images = list(listing.images.order_by("position", "pk"))
        index = next(i for i, item in enumerate(images) if item.pk == image.pk)
        target = max(0, min(len(images) - 1, index + offset))
        images.insert(target, images.pop(index))
        for position, item in enumerate(images):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
        _renumber_images(listing)


def delete_listing_image(*, image: ListingImage) -> None:
    with transaction.atomic():
        listing = Listing.objects.select_for_update().get(pk=image.listing_id)
        files = [f.name for f in (image.image, image.thumbnail, image.large) if f]
        storage = image.image.storage
        image.delete()
        _renumber_images(listing)
        # Files go only once the row is gone for good.
        transaction.on_commit(lambda: [storage.delete(name) for name in files])


def _renumber_images(listing: Listing) -> None:
    images = list(listing.images.order_by("position", "pk"))
    for position, item in enumerate(images):
        if item.position != position:
            ListingImage.objects.filter(pk=item.pk).update(position=position)
    cover = images[0].pk if images else None
    if listing.cover_image_id != cover:
        Listing.objects.filter(pk=listing.pk).update(cover_image=cover)
    bump_catalog_generation()


def generate_thumbnails(*, image_id: int, force: bool = False) -> bool:
    """Make the card thumbnail and the large image of one photo. Idempotent.

    Returns False when there is nothing to do (already made, or the photo was deleted).
    A photo that cannot be decoded is marked failed, visibly in the admin; storage errors
    propagate so the task retries them.
    """
    image = ListingImage.objects.filter(pk=image_id).first()
    if image is None:
        return False
    if (
        not force
        and image.thumbnail_status == ListingImage.ThumbnailStatus.READY
        and image.thumbnail
    ):
        return False
    with image.image.open("rb") as handle:
        data = handle.read()
    try:
        thumb, large = render_thumbnails(data)
    except (OSError, ValueError) as exc:
        ListingImage.objects.filter(pk=image_id).update(
            thumbnail_status=ListingImage.ThumbnailStatus.FAILED,
            thumbnail_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        return False
    stem = image.image.name.rsplit(".", 1)[0]
    storage = image.image.storage
    names = {}
    for field_name, payload in (("thumbnail", thumb), ("large", large)):
        # Fixed names, overwritten on a re-run: running twice leaves the same two files.
        name = f"{stem}-{field_name}.webp"
        if storage.exists(name):
            storage.delete(name)
        names[field_name] = storage.save(name, ContentFile(payload))
    ListingImage.objects.filter(pk=image_id).update(
        thumbnail=names["thumbnail"],
        large=names["large"],
        thumbnail_status=ListingImage.ThumbnailStatus.READY,
        thumbnail_error="",
    )
    bump_catalog_generation()
    return True


def request_thumbnails(*, image_ids: Iterable[int]) -> int:
    """Regenerate thumbnails (admin action): mark pending and enqueue after commit."""
    from marketplace.listings.tasks import make_thumbnails

    ids = sorted(set(image_ids))
    ListingImage.objects.filter(pk__in=ids).update(
        thumbnail_status=ListingImage.ThumbnailStatus.PENDING, thumbnail_error=""
    )
    for image_id in ids:
        make_thumbnails.delay_on_commit(image_id, force=True)
    return len(ids)


def pending_thumbnail_images(*, now: datetime) -> list[int]:
    """Photos whose thumbnail task was never published (broker down) or died."""
    return list(
        ListingImage.objects.filter(
            thumbnail_status=ListingImage.ThumbnailStatus.PENDING,
            created_at__lt=now - timedelta(minutes=5),
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


# --- Shipping ------------------------------------------------------------------------------


def save_shipping_profile(*, profile: ShippingProfile, now: datetime) -> ShippingProfile:
    try:
        with transaction.atomic():
            if profile.pk is None:
                profile.created_at = now
            profile.save()
    except IntegrityError:
        raise DomainError(
            _("Your shop already has a shipping profile called %(name)s.") % {"name": profile.name}
        ) from None
    bump_catalog_generation()
    return profile


def delete_shipping_profile(*, profile: ShippingProfile) -> None:
    in_use = profile.listings.count()
    if in_use:
        raise DomainError(
            ngettext(
                "%(n)d listing uses this profile; give it another profile first.",
                "%(n)d listings use this profile; give them another profile first.",
                in_use,
            )
            % {"n": in_use}
        )
    profile.delete()
    bump_catalog_generation()


def save_shipping_zone(
    *,
    zone: ShippingZone,
    rates: Sequence[ShippingRate],
    removed: Sequence[ShippingRate] = (),
) -> ShippingZone:
    """Save a zone and its rates. A country may be in one zone of a profile only."""
    if not zone.rest_of_world and not zone.countries:
        raise DomainError(_("Choose the countries of this zone, or make it “everywhere else”."))
    if not rates:
        raise DomainError(_("Add at least one rate (postal or courier) to the zone."))
    levels = [rate.service_level for rate in rates]
    if len(set(levels)) != len(levels):
        raise DomainError(_("A zone has one rate per service level."))
    for rate in rates:
        if rate.min_days > rate.max_days:
            raise DomainError(_("The shortest delivery time cannot exceed the longest."))
    with transaction.atomic():
        ShippingProfile.objects.select_for_update().filter(pk=zone.profile_id).first()
        others = ShippingZone.objects.filter(profile_id=zone.profile_id).exclude(pk=zone.pk)
        if zone.rest_of_world and others.filter(rest_of_world=True).exists():
            raise DomainError(_("This profile already has an “everywhere else” zone."))
        mine = zone.country_codes()
        clashes = sorted({code for other in others for code in other.country_codes() & mine})
        if clashes:
            raise DomainError(
                _("Already in another zone of this profile: %(countries)s.")
                % {"countries": ", ".join(clashes)}
            )
        zone.save()
        for rate in removed:
            if rate.zone_id == zone.pk:
                rate.delete()
        for rate in rates:
            rate.zone = zone
            rate.save()
    bump_catalog_generation()
    return zone


def delete_shipping_zone(*, zone: ShippingZone) -> None:
    zone.delete()
    bump_catalog_generation()
