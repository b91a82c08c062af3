"""Import, step two: write the checked rows in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from accounts.models import Shop
from marketplace.listings.csv_io.parse import ParsedRow, group_key
from marketplace.listings.models import (
    Listing,
    ListingEvent,
    Variant,
)


@dataclass
class ApplyResult:
    created_listings: int = 0
    updated_listings: int = 0
    created_variants: int = 0
    updated_variants: int = 0


def apply_plan(*, shop: Shop, rows: list[ParsedRow], actor, now: datetime) -> ApplyResult:
    """Write the checked rows in one transaction; listings grouped as in ``group_key``."""
    from marketplace.listings.services import _publish_problems, refresh_listing_summaries

    result = ApplyResult()
    groups: dict[str, list[ParsedRow]] = {}
    for row in rows:
        groups.setdefault(group_key(row), []).append(row)
    touched: list[int] = []
    publish: list[tuple[Listing, str]] = []
    with transaction.atomic():
        ids = sorted(int(key[3:]) for key in groups if key.startswith("id:"))
        # Lock the listings we update, in pk order (as every writer of listings does).
        locked = {
            listing.pk: listing
            for listing in Listing.objects.select_for_update()
            .filter(shop=shop, pk__in=ids)
            .order_by("pk")
        }
        for key, group in groups.items():
            first = group[0]
            if key.startswith("id:"):
                listing = locked[int(key[3:])]
                result.updated_listings += 1
                new = False
            else:
                listing = Listing(shop=shop, currency=shop.currency, created_at=now)
                result.created_listings += 1
                new = True
            target_status = None
            for column, value in first.values.items():
                if column == "status":
                    target_status = value
                    continue
                setattr(listing, column, value if value is not None else _blank(column))
            if new:
                listing.status = Listing.Status.DRAFT
            from marketplace.listings.services import _listing_slug

            listing.slug = _listing_slug(listing.title)
            listing.updated_at = now
            listing.save()
            touched.append(listing.pk)
            ListingEvent.objects.create(
                listing=listing, kind=ListingEvent.Kind.IMPORTED, created_at=now, actor=actor
            )
            position = listing.variants.count() if not new else 0
            for row in group:
                variant = row.variant
                if variant is None:
                    variant = Variant(
                        listing=listing,
                        shop=shop,
                        sku=row.sku,
                        created_at=now,
                        position=position,
                    )
                    position += 1
                    result.created_variants += 1
                else:
                    result.updated_variants += 1
                if row.options is not None:
                    variant.options = row.options
                if row.price is not None:
                    variant.price = row.price
                if row.stock is not None:
                    variant.stock = row.stock
                if row.net_weight_kg != "":
                    variant.net_weight_kg = row.net_weight_kg
                variant.updated_at = now
                variant.save()
            if target_status and target_status != listing.status:
                publish.append((listing, target_status))
        refresh_listing_summaries(listing_ids=touched)
        for listing, status in publish:
            if status == Listing.Status.ACTIVE:
                problems = _publish_problems(listing)
                if problems:
                    # Saved as draft; the seller sees why on the listing page.
                    continue
                if listing.published_at is None:
                    listing.published_at = now
            listing.status = status
            listing.save(update_fields=["status", "published_at"])
    return result


def _blank(column: str):
    return "" if column not in ("category", "shipping_profile") else None
