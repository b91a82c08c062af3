"""Full-text search: the stored document (PostgreSQL tsvector) and the query on either database.

On PostgreSQL each listing keeps a weighted ``tsvector`` (title A; category, material and shop B;
description C) in ``Listing.search_vector`` with a GIN index; the services that
save listings refresh it in one statement (``refresh_search_vectors``). Queries use
``websearch_to_tsquery`` (quotes, ``-word`` and ``or`` work as in web search engines) and rank
with ``ts_rank``. On SQLite every word must appear in the title, description or material
(case-insensitive), and title matches rank first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

CONFIG = "english"
MAX_QUERY_LENGTH = 200

# One statement for any number of listings: the document is built from the listing, its
# category (and parent) and its shop, so a rename of those can be re-indexed the same way.
# The only interpolations are the constant CONFIG and a fixed WHERE clause; ids are parameters.
_REFRESH_SQL = f"""
UPDATE listings_listing AS l SET search_vector =
    setweight(to_tsvector('{CONFIG}', coalesce(l.title, '')), 'A')
    || setweight(to_tsvector('{CONFIG}',
        coalesce(c.name, '') || ' ' || coalesce(p.name, '') || ' ' || coalesce(l.material, '')
        || ' ' || coalesce(s.display_name, '')), 'B')
    || setweight(to_tsvector('{CONFIG}', left(coalesce(l.description, ''), 4000)), 'C')
FROM listings_category AS c
LEFT JOIN listings_category AS p ON p.id = c.parent_id, accounts_shop AS s
WHERE c.id = l.category_id AND s.id = l.shop_id AND {{where}}
"""  # noqa: S608


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def refresh_search_vectors(listing_ids: Iterable[int] | None = None) -> int:
    """Rebuild the search document of these listings (all when None). No-op off PostgreSQL."""
    if not uses_postgres():
        return 0
    with connection.cursor() as cursor:
        if listing_ids is None:
            cursor.execute(_REFRESH_SQL.format(where="TRUE"))
        else:
            ids = list(listing_ids)
            if not ids:
                return 0
            cursor.execute(_REFRESH_SQL.format(where="l.id = ANY(%s)"), [ids])
        return cursor.rowcount


def clean_query(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w'-]+", text.casefold()) if len(w) > 1 or w.isdigit()][:8]


def apply_search(listings: QuerySet, text: str) -> tuple[QuerySet, bool]:
    """(filtered queryset annotated with ``rank``, whether the query had any words)."""
    text = clean_query(text)
    if not text:
        return listings, False
    if uses_postgres():
        query = SearchQuery(text, config=CONFIG, search_type="websearch")
        return (
            listings.filter(search_vector=query).annotate(
                rank=SearchRank(F("search_vector"), query)
            ),
            True,
        )
    words = _words(text)
    if not words:
        return listings.none(), True
    for word in words:
        listings = listings.filter(
            Q(title__icontains=word) | Q(description__icontains=word) | Q(material__icontains=word)
        )
    title_hits = [
        Case(When(title__icontains=w, then=Value(1)), default=Value(0), output_field=IntegerField())
        for w in words
    ]
    rank = title_hits[0]
    for hit in title_hits[1:]:
        rank = rank + hit
    return listings.annotate(rank=rank), True
