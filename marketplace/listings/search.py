"""Full-text search on either database: the stored document and the query.

The document is the same on both engines: the title (weight A); the category, its parent,
the material and the shop's name (B); the first 4,000 characters of the description (C).
The services that save listings refresh it in one statement (``refresh_search_vectors``).

- PostgreSQL: a weighted ``tsvector`` in ``Listing.search_vector`` with a GIN index, queried
  with ``websearch_to_tsquery`` and ranked with ``ts_rank`` (weights A 1.0, B 0.4, C 0.2).
- SQLite (the embedded default): an FTS5 virtual table (``ListingText``, migration 0008) with
  one column per weight, Porter stemming like the English configuration, queried with MATCH
  and ranked with ``bm25`` under the same weights; the web-search syntax (quotes, ``-word``,
  ``or``) is translated to an FTS5 expression by ``fts_expression``. Not a table scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.expressions import RawSQL

CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_TERMS = 8
# ts_rank's default weights of A, B and C; bm25 on SQLite gets the same per column.
WEIGHTS = (1.0, 0.4, 0.2)
FTS_TABLE = "listings_listing_fts"

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


# The same document for SQLite's FTS5 table (rowid = listing id).
_FTS_INSERT_SQL = f"""
INSERT INTO {FTS_TABLE} (rowid, title, tags, description)
SELECT l.id, coalesce(l.title, ''),
    coalesce(c.name, '') || ' ' || coalesce(p.name, '') || ' ' || coalesce(l.material, '')
    || ' ' || coalesce(s.display_name, ''),
    substr(coalesce(l.description, ''), 1, 4000)
FROM listings_listing AS l
JOIN listings_category AS c ON c.id = l.category_id
LEFT JOIN listings_category AS p ON p.id = c.parent_id
JOIN accounts_shop AS s ON s.id = l.shop_id
WHERE {{where}}
"""  # noqa: S608
_FTS_BATCH = 500  # ids per statement, well under SQLite's bound-parameter limit

# PostgreSQL's English configuration drops these; FTS5 would require them in the document.
STOP_WORDS = frozenset(
    {
        *("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into"),
        *("is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then"),
        *("there", "these", "they", "this", "to", "was", "will", "with"),
    }
)


def uses_postgres() -> bool:
    return connection.vendor == "postgresql"


def _refresh_fts(listing_ids: Iterable[int] | None) -> int:
    with connection.cursor() as cursor:
        if listing_ids is None:
            cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
            cursor.execute(_FTS_INSERT_SQL.format(where="1"))
            return cursor.rowcount
        ids = list(listing_ids)
        done = 0
        for start in range(0, len(ids), _FTS_BATCH):
            batch = ids[start : start + _FTS_BATCH]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", batch)  # noqa: S608
            cursor.execute(_FTS_INSERT_SQL.format(where=f"l.id IN ({marks})"), batch)
            done += cursor.rowcount
        return done


def refresh_search_vectors(listing_ids: Iterable[int] | None = None) -> int:
    """Rebuild the search document of these listings (all when None), on either engine."""
    if not uses_postgres():
        return _refresh_fts(listing_ids) if connection.vendor == "sqlite" else 0
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
    return re.findall(r"\w+", text.casefold())


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fts_expression(text: str) -> str:
    """Web-search syntax as an FTS5 query, as ``websearch_to_tsquery`` reads it.

    Words must all match (AND); ``"a phrase"`` matches in order; ``or`` between two terms
    makes either do; ``-word`` excludes. Every term is quoted, so no FTS5 syntax gets through.
    Returns "" when nothing searchable is left (only stop words, only exclusions).
    """
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    pending_or = False
    terms = 0
    for sign, phrase, bare in _TOKEN.findall(clean_query(text)):
        if bare and bare.casefold() == "or":
            pending_or = bool(groups[-1])
            continue
        negative = bool(sign) or (bare.startswith("-") and len(bare) > 1)
        words = _words(bare or phrase)
        if bare:
            words = [w for w in words if w not in STOP_WORDS]
        if not words or terms >= MAX_TERMS:
            continue
        terms += 1
        term = '"' + " ".join(words) + '"'
        if negative:
            excluded.append(term)
        elif pending_or:
            groups.append([term])
        else:
            groups[-1].append(term)
        pending_or = False
    groups = [group for group in groups if group]
    if not groups:
        return ""
    expression = " OR ".join("(" + " AND ".join(group) + ")" for group in groups)
    if excluded:
        expression = f"({expression}) NOT ({' OR '.join(excluded)})"
    return expression


def _weights() -> str:
    return ", ".join(str(w) for w in WEIGHTS)


def ranked_page(listings: QuerySet, text: str, offset: int, limit: int) -> list[int]:
    """SQLite: ids of ``listings`` (already searched) in relevance order, one page of them.

    The full-text table drives the statement (``CROSS JOIN`` fixes SQLite's join order), so
    bm25 is computed once per match in a single pass instead of once per row in a correlated
    subquery; ties fall back to newest first as on PostgreSQL.
    """
    expression = fts_expression(text)
    if not expression:
        return []
    inner, params = listings.order_by().values("pk").query.sql_with_params()
    sql = (
        f"SELECT l.id FROM {FTS_TABLE} CROSS JOIN listings_listing AS l "  # noqa: S608
        f"WHERE {FTS_TABLE} MATCH %s AND l.id = {FTS_TABLE}.rowid AND l.id IN ({inner}) "
        f"ORDER BY bm25({FTS_TABLE}, {_weights()}), l.published_at DESC, l.id DESC "
        "LIMIT %s OFFSET %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [expression, *params, limit, offset])
        return [row[0] for row in cursor.fetchall()]


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
    expression = fts_expression(text)
    if not expression:
        return listings.annotate(rank=Value(0.0, output_field=FloatField())).none(), True
    # The MATCH runs once, as an id list the planner drives the listings from (as a join,
    # SQLite without ANALYZE statistics starts from the listings and re-runs the full-text
    # query per row). bm25 is lower for better matches; negated, higher ranks first as with
    # ts_rank; it is only computed where the page is ordered by relevance.
    weights = _weights()
    # Only constants are interpolated below; the expression is a parameter.
    matches = RawSQL(  # noqa: S611
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608
        [expression],
    )
    rank = RawSQL(  # noqa: S611
        f"SELECT -bm25({FTS_TABLE}, {weights}) FROM {FTS_TABLE} "  # noqa: S608
        f"WHERE {FTS_TABLE} MATCH %s AND rowid = listings_listing.id",
        [expression],
        output_field=FloatField(),
    )
    return listings.filter(pk__in=matches).annotate(rank=rank), True
