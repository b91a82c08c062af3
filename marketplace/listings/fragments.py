"""Cached fragments of catalog pages, shared by every visitor, signed in or not.

The expensive part of a list page (category, search, shop) is the result block: the facets,
the grid of listing cards and the pagination. For a given URL it depends only on the
language, the display currency, the "ship to" country and the catalog, so its HTML is cached
under those plus the catalog generation (``cache.py``): a catalog write makes every old copy
unreachable at once. The home page's catalog sections are cached the same way.

Everything that belongs to one visitor is rendered per request around the fragments: the
header (cart badge, inbox, sign-in state), flash messages and every form with a CSRF token.
Fragments are rendered from an explicit context, without context processors, so neither a
message nor a token can end up inside one (``tests/security/test_catalog_cache.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import get_template
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from marketplace.listings.cache import cache_key, cache_seconds, recent_generation

logger = logging.getLogger(__name__)

# Per-process copies of the hottest fragments, in front of the shared cache: a hit then costs
# no network round trip. Keys carry the generation, so writes still invalidate them; the short
# life bounds how long stock moves made outside the catalog services stay unseen.
LOCAL_SECONDS = 5.0
LOCAL_ENTRIES = 512
_local: OrderedDict[str, tuple[float, str]] = OrderedDict()
_local_lock = threading.Lock()

# Query parameters the list pages understand; a URL with anything else is rendered but not
# stored, so junk parameters cannot fill the cache with copies of the same fragment.
KNOWN_PARAMS = {
    "q",
    "category",
    "min_price",
    "max_price",
    "origin",
    "shop",
    "ships",
    "sort",
    "page",
}
MAX_PARAM_LENGTH = 200
HEADER = "X-Catalog-Cache"


def _local_get(key: str) -> str | None:
    hit = _local.get(key)
    if hit is None or time.monotonic() - hit[0] > LOCAL_SECONDS:
        return None
    return hit[1]


def _local_set(key: str, html: str) -> None:
    with _local_lock:
        _local[key] = (time.monotonic(), html)
        _local.move_to_end(key)
        while len(_local) > LOCAL_ENTRIES:
            _local.popitem(last=False)


def clear_local() -> None:
    with _local_lock:
        _local.clear()


def _storable(request: HttpRequest) -> bool:
    if cache_seconds() <= 0 or request.method not in ("GET", "HEAD"):
        return False
    return set(request.GET) <= KNOWN_PARAMS and all(
        len(values) == 1 and len(values[0]) <= MAX_PARAM_LENGTH
        for _key, values in request.GET.lists()
    )


def _note(request: HttpRequest, outcome: str) -> None:
    # A page made of several fragments is a "hit" only when every one of them was.
    previous = getattr(request, "_catalog_cache", None)
    request._catalog_cache = "miss" if "miss" in (previous, outcome) else outcome


def cached_fragment(
    request: HttpRequest, name: str, parts: tuple, render: Callable[[], str]
) -> SafeString:
    """``render()``'s HTML, shared under (name, parts, language, catalog generation).

    ``parts`` must name everything the HTML depends on besides the language and the catalog.
    """
    if not _storable(request):
        return mark_safe(render())  # noqa: S308  (our own template output)
    key = cache_key("fragment", recent_generation(), name, translation.get_language(), *parts)
    html = _local_get(key)
    if html is None:
        try:
            html = cache.get(key)
        except Exception:
            logger.warning("catalog fragment cache unavailable", exc_info=True)
            html = None
        if html is not None:
            _local_set(key, html)
    if html is not None:
        _note(request, "hit")
        return mark_safe(html)  # noqa: S308
    html = render()
    try:
        cache.set(key, html, timeout=cache_seconds())
    except Exception:
        logger.warning("could not store a catalog fragment", exc_info=True)
    _local_set(key, html)
    _note(request, "miss")
    return mark_safe(html)  # noqa: S308


def render_fragment(template_name: str, context: dict) -> str:
    """A template rendered from ``context`` alone: no context processors, so no per-visitor
    data (user, messages, CSRF token) can slip into HTML that other visitors get."""
    return get_template(template_name).render(context)


def mark_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Say in a header whether the page's fragments came from the cache (bench, tests)."""
    outcome = getattr(request, "_catalog_cache", None)
    if outcome:
        response[HEADER] = outcome
    return response
