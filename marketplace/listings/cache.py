"""The catalog generation: one counter that every catalog write moves forward.

Public list pages cache their expensive parts (counts, facets, rendered result grids) under
keys that include the generation, so a write makes every old entry unreachable at once,
with no key scanning. Entries also expire after ``LISTINGS_CACHE_SECONDS``, which bounds how
stale stock shown on list pages can get when stock changes outside these services (orders).

A cache outage never fails a request: reads miss and writes are skipped.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

GENERATION_KEY = "listings:generation"


def cache_seconds() -> int:
    return settings.LISTINGS_CACHE_SECONDS


def catalog_generation() -> int:
    try:
        generation = cache.get(GENERATION_KEY)
        if generation is None:
            # Start from the clock, so a restarted cache never reuses an old generation.
            generation = int(time.time() * 1000)
            cache.add(GENERATION_KEY, generation, timeout=None)
            generation = cache.get(GENERATION_KEY, generation)
        return int(generation)
    except Exception:
        logger.warning("catalog cache unavailable", exc_info=True)
        return 0


# Per-process memo of the generation for anonymous page views (``recent_generation``).
RECENT_SECONDS = 1.0
_recent: tuple[float, int] = (0.0, 0)


def recent_generation() -> int:
    """The generation as seen at most a second ago: saves a cache round trip per request.

    This process's own writes reset it at once; other processes see them within a second.
    """
    global _recent
    now = time.monotonic()
    if now - _recent[0] < RECENT_SECONDS:
        return _recent[1]
    generation = catalog_generation()
    _recent = (now, generation)
    return generation


def _bump() -> None:
    global _recent
    _recent = (0.0, 0)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.add(GENERATION_KEY, int(time.time() * 1000), timeout=None)
    except Exception:
        logger.warning("could not bump the catalog generation", exc_info=True)


def bump_catalog_generation() -> None:
    """Invalidate cached catalog pages now and again once the transaction commits.

    The first bump makes this process's next read fresh; the second drops anything another
    process cached from the old rows between the first bump and the commit.
    """
    _bump()
    transaction.on_commit(_bump)


def cache_key(*parts: object) -> str:
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()
    return f"listings:{digest}"


def cached(parts: tuple, compute, *, generation: int | None = None):
    """``compute()``'s value, memoised under ``parts`` for the current generation."""
    seconds = cache_seconds()
    if seconds <= 0:
        return compute()
    gen = catalog_generation() if generation is None else generation
    key = cache_key(gen, *parts)
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("catalog cache unavailable", exc_info=True)
        return compute()
    if value is not None:
        return value
    value = compute()
    try:
        cache.set(key, value, timeout=seconds)
    except Exception:
        logger.warning("could not store a catalog cache entry", exc_info=True)
    return value
