"""The catalog sections of the home page: featured categories, shops and new arrivals."""

from __future__ import annotations

from django.db.models import Count, Q

from accounts.models import Shop
from marketplace.listings.cache import cached, recent_generation
from marketplace.listings.catalog import PAGE_SIZE, category_tree, load_cards
from marketplace.listings.models import Listing

NEW_ARRIVALS = 8
FEATURED_SHOPS = 6


def _compute() -> dict:
    newest = list(
        Listing.objects.public()
        .order_by("-published_at", "-pk")
        .values_list("pk", flat=True)[:NEW_ARRIVALS]
    )
    shops = list(
        Shop.objects.filter(status=Shop.Status.APPROVED)
        .annotate(live=Count("listings", filter=Q(listings__status=Listing.Status.ACTIVE)))
        .filter(live__gt=0)
        .order_by("-live", "display_name")
        .values("slug", "display_name", "country", "live")[:FEATURED_SHOPS]
    )
    return {"newest": newest, "shops": shops}


def home_sections() -> dict:
    generation = recent_generation()
    tree = category_tree(generation)
    data = cached(("home", NEW_ARRIVALS, PAGE_SIZE), _compute, generation=generation)
    featured = [c for c in tree.by_id.values() if c.is_featured] or tree.roots
    return {
        "featured_categories": sorted(featured, key=lambda c: (c.position, c.name))[:8],
        "new_arrivals": load_cards(data["newest"]),
        "featured_shops": data["shops"],
    }
