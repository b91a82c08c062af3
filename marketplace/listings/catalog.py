"""The buyer-facing read side: category tree, browsing, search, facets.

Every page does a fixed number of queries whatever the catalog or page size: one for the
page of results, one count, one per facet (grouped), one to load the page's listings with
their shop and cover photo, and one for live stock. The ids, count and facets of a query are
cached per catalog generation (``cache.py``), so repeated views of a popular page skip the
grouping queries until a write changes the catalog.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from marketplace.listings.buyer import PriceConverter, country_name
from marketplace.listings.cache import cached, recent_generation
from marketplace.listings.models import Category, Listing, Variant
from marketplace.listings.search import apply_search, ranked_page, uses_postgres
from marketplace.listings.shipping import filter_ships_to

PAGE_SIZE = 24
MAX_PAGES = 400  # deep pages are for crawlers; beyond this, refine the search instead
FACET_LIMIT = 12


# --- Category tree -------------------------------------------------------------------------


class CategoryTree:
    """All categories in memory (a few hundred rows), rebuilt when the catalog changes."""

    def __init__(self, categories: list[Category]) -> None:
        self.by_id = {c.pk: c for c in categories}
        self.by_path = {c.path: c for c in categories}
        self.children: dict[int | None, list[Category]] = {}
        for category in sorted(categories, key=lambda c: (c.position, c.name)):
            self.children.setdefault(category.parent_id, []).append(category)

    @property
    def roots(self) -> list[Category]:
        return self.children.get(None, [])

    def subtree_ids(self, category: Category) -> list[int]:
        ids, stack = [], [category]
        while stack:
            node = stack.pop()
            ids.append(node.pk)
            stack.extend(self.children.get(node.pk, []))
        return ids

    def ancestors(self, category: Category) -> list[Category]:
        chain = []
        node = self.by_id.get(category.parent_id)
        while node is not None:
            chain.append(node)
            node = self.by_id.get(node.parent_id)
        return list(reversed(chain))

    def child_of(self, category_id: int, parent: Category | None) -> Category | None:
        """The child of ``parent`` (a root if None) on the path to ``category_id``."""
        node = self.by_id.get(category_id)
        parent_id = parent.pk if parent else None
        while node is not None and node.parent_id != parent_id:
            node = self.by_id.get(node.parent_id)
        return node


_tree: tuple[int, CategoryTree] | None = None
_tree_lock = threading.Lock()


def category_tree(generation: int | None = None) -> CategoryTree:
    global _tree
    gen = recent_generation() if generation is None else generation
    current = _tree
    if current is not None and current[0] == gen and gen != 0:
        return current[1]
    tree = CategoryTree(list(Category.objects.all()))
    with _tree_lock:
        _tree = (gen, tree)
    return tree


# --- Browsing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowseQuery:
    text: str = ""
    category_id: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    origin: str = ""
    shop_id: int | None = None
    ships_to: str = ""
    sort: str = "newest"
    page: int = 1
    currency: str = settings.DEFAULT_CURRENCY

    def cache_parts(self) -> tuple:
        # The display currency only matters when prices filter or sort the results.
        priced = self.min_price is not None or self.max_price is not None or "price" in self.sort
        return (
            "browse",
            self.text,
            self.category_id,
            str(self.min_price),
            str(self.max_price),
            self.origin,
            self.shop_id,
            self.ships_to,
            self.sort,
            self.page,
            self.currency if priced else "",
        )


@dataclass
class Facets:
    categories: list[tuple[int, int]] = field(default_factory=list)  # (category id, count)
    origins: list[tuple[str, int]] = field(default_factory=list)
    shops: list[tuple[str, str, int]] = field(default_factory=list)  # (slug, name, count)


@dataclass
class BrowseResult:
    ids: list[int]
    total: int
    page: int
    pages: int
    facets: Facets


def _price_factors(to_currency: str) -> dict[str, Decimal]:
    """Units of ``to_currency`` per unit of each catalog currency (missing rates left out)."""
    converter = PriceConverter(to_currency)
    factors = {}
    for currency in settings.CURRENCIES:
        factor = converter.rate(currency)
        if factor is not None:
            factors[currency] = factor
    return factors


def _price_filter(query: BrowseQuery) -> Q | None:
    if query.min_price is None and query.max_price is None:
        return None
    condition = Q(pk__in=[])
    for currency, factor in _price_factors(query.currency).items():
        # Convert the buyer's bounds into each listing currency: the filter stays a plain
        # indexed range on (currency, price_min), exact for today's rate.
        part = Q(currency=currency)
        if query.min_price is not None:
            part &= Q(price_min__gte=query.min_price / factor)
        if query.max_price is not None:
            part &= Q(price_min__lte=query.max_price / factor)
        condition |= part
    return condition


def _base(query: BrowseQuery, tree: CategoryTree, *, skip: str = "") -> QuerySet:
    listings = Listing.objects.public()
    if query.category_id and skip != "category":
        category = tree.by_id.get(query.category_id)
        ids = tree.subtree_ids(category) if category else [query.category_id]
        listings = listings.filter(category_id__in=ids)
    if query.origin and skip != "origin":
        listings = listings.filter(origin_country=query.origin)
    if query.shop_id and skip != "shop":
        listings = listings.filter(shop_id=query.shop_id)
    if query.ships_to:
        listings = filter_ships_to(listings, query.ships_to)
    price = _price_filter(query)
    if price is not None:
        listings = listings.filter(price)
    return listings


def browse(query: BrowseQuery, *, facets: bool = True) -> BrowseResult:
    """The page of listing ids, the total and the facets for one query (cached)."""
    generation = recent_generation()
    tree = category_tree(generation)

    def compute() -> BrowseResult:
        return _browse(query, tree, facets=facets)

    return cached((*query.cache_parts(), facets), compute, generation=generation)


def _browse(query: BrowseQuery, tree: CategoryTree, *, facets: bool) -> BrowseResult:
    base = _base(query, tree)
    listings, searching = apply_search(base, query.text) if query.text else (base, False)
    grouped = _grouped_counts(listings) if facets else None
    # Every listing has one category, so the category counts add up to the total.
    total = sum(grouped["category"].values()) if grouped is not None else listings.count()
    pages = max(1, min(MAX_PAGES, math.ceil(total / PAGE_SIZE)))
    page = min(max(1, query.page), pages)
    sort = query.sort
    if sort == "relevance" and not searching:
        sort = "newest"
    if sort == "relevance":
        ordered = listings.order_by("-rank", "-published_at", "-pk")
    elif sort in ("price", "-price"):
        # The stored EUR order key: the same order as in any display currency.
        ordered = listings.order_by(
            F("sort_price").asc(nulls_last=True)
            if sort == "price"
            else F("sort_price").desc(nulls_last=True),
            "-pk",
        )
    else:
        ordered = listings.order_by("-published_at", "-pk")
    start = (page - 1) * PAGE_SIZE
    if not total:
        ids = []
    elif sort == "relevance" and not uses_postgres():
        ids = ranked_page(listings, query.text, start, PAGE_SIZE)
    else:
        ids = list(ordered.values_list("pk", flat=True)[start : start + PAGE_SIZE])
    result = BrowseResult(ids=ids, total=total, page=page, pages=pages, facets=Facets())
    if facets and total:
        result.facets = _facets(query, tree, listings, searching, grouped)
    return result


def _grouped_counts(listings: QuerySet) -> dict[str, dict]:
    """Counts by category, origin and shop in one scan of the matching rows.

    Three GROUP BY queries would read the matching rows three times, plus once more for the
    total. PostgreSQL groups by GROUPING SETS (with the covering ``listing_facets`` index, an
    index-only scan); other databases group by the (category, origin, shop) triple, a few
    hundred rows at most, and add up here.
    """
    counts: dict[str, dict] = {"category": {}, "origin": {}, "shop": {}}
    inner = listings.order_by().values(
        c=F("category_id"), o=F("origin_country"), s=F("shop__slug"), n=F("shop__display_name")
    )
    if connection.vendor != "postgresql":
        for row in inner.annotate(k=Count("pk")).values_list("c", "o", "s", "n", "k"):
            category_id, origin, slug, name, n = row
            for facet, key in (
                ("category", category_id),
                ("origin", origin),
                ("shop", (slug, name)),
            ):
                counts[facet][key] = counts[facet].get(key, 0) + n
        return counts
    sql, params = inner.query.sql_with_params()
    grouped_sql = (
        'SELECT "c", "o", "s", "n", GROUPING("c", "o", "s") AS g, COUNT(*) '  # noqa: S608
        f"FROM ({sql}) AS matches "
        'GROUP BY GROUPING SETS (("c"), ("o"), ("s", "n"))'
    )
    with connection.cursor() as cursor:
        cursor.execute(grouped_sql, params)
        for category_id, origin, slug, name, grouping, n in cursor.fetchall():
            if grouping == 0b011:
                counts["category"][category_id] = n
            elif grouping == 0b101:
                counts["origin"][origin] = n
            else:
                counts["shop"][(slug, name)] = n
    return counts


def _facets(
    query: BrowseQuery,
    tree: CategoryTree,
    listings: QuerySet,
    searching: bool,
    grouped: dict[str, dict] | None,
) -> Facets:
    def scoped(skip: str) -> QuerySet:
        base = _base(query, tree, skip=skip)
        return apply_search(base, query.text)[0] if searching else base

    facets = Facets()
    if grouped is not None:
        by_category = grouped["category"].items()
    else:
        rows = listings.order_by().values("category_id").annotate(n=Count("pk"))
        by_category = [(row["category_id"], row["n"]) for row in rows]
    parent = tree.by_id.get(query.category_id) if query.category_id else None
    rolled: dict[int, int] = {}
    for category_id, n in by_category:
        child = tree.child_of(category_id, parent)
        if child is not None and child.pk != (parent.pk if parent else None):
            rolled[child.pk] = rolled.get(child.pk, 0) + n
    facets.categories = sorted(rolled.items(), key=lambda item: (-item[1], item[0]))

    # A facet whose own filter is set counts without that filter, so buyers can switch.
    if grouped is not None and not query.origin:
        origins = [(code, n) for code, n in grouped["origin"].items() if code]
    else:
        source = scoped("origin") if query.origin else listings
        rows = (
            source.exclude(origin_country="")
            .order_by()
            .values("origin_country")
            .annotate(n=Count("pk"))
        )
        origins = [(row["origin_country"], row["n"]) for row in rows]
    facets.origins = sorted(origins, key=lambda item: (-item[1], item[0]))[:FACET_LIMIT]

    if grouped is not None and not query.shop_id:
        shops = [(slug, name, n) for (slug, name), n in grouped["shop"].items()]
    else:
        source = scoped("shop") if query.shop_id else listings
        rows = source.order_by().values("shop__slug", "shop__display_name").annotate(n=Count("pk"))
        shops = [(row["shop__slug"], row["shop__display_name"], row["n"]) for row in rows]
    facets.shops = sorted(shops, key=lambda item: (-item[2], item[1]))[:FACET_LIMIT]
    return facets


def load_cards(ids: list[int]) -> list[Listing]:
    """The listings of a result page, in the page's order, with what a card shows.

    Two queries for any page size: the listings (with shop and cover photo joined) and an
    ``in_stock`` flag computed in the same SELECT.
    """
    if not ids:
        return []
    in_stock = Exists(Variant.objects.filter(listing=OuterRef("pk"), stock__gt=0))
    rows = (
        Listing.objects.filter(pk__in=ids)
        .select_related("shop", "cover_image")
        .only(
            "pk",
            "title",
            "slug",
            "currency",
            "price_min",
            "price_max",
            "export_ready",
            "origin_country",
            "shop__slug",
            "shop__display_name",
            "shop__country",
            "cover_image__thumbnail",
            "cover_image__thumbnail_status",
            "cover_image__alt_text",
        )
        .annotate(in_stock=in_stock)
    )
    by_id = {row.pk: row for row in rows}
    return [by_id[pk] for pk in ids if pk in by_id]


def origin_name(code: str) -> str:
    return country_name(code)


def reset_local_state() -> None:
    """Forget the in-process category tree and generation memo (tests, after a flush)."""
    global _tree
    from marketplace.listings import cache as catalog_cache
    from marketplace.listings.fragments import clear_local

    _tree = None
    catalog_cache._recent = (0.0, 0)
    clear_local()
