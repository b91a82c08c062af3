"""Whole-page cache for anonymous visitors on catalog list pages (category, search, shop).

A list page for a visitor who is not signed in depends only on the URL, the language, the
display currency, the "ship to" country and the catalog; so its HTML is cached under those
plus the catalog generation (``cache.py``), and a catalog write makes it unreachable at once.
The one per-visitor piece, the CSRF token of the currency and language forms, is rendered as
a placeholder and replaced on the way out, so every visitor gets their own token.

Signed-in users, pages with a pending flash message and non-200 responses are never cached.
The listing page is not cached here: buyers decide there, so it reads stock live.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation

from marketplace.listings import buyer
from marketplace.listings.cache import cache_key, cache_seconds, recent_generation

logger = logging.getLogger(__name__)

CSRF_PLACEHOLDER = "__catalog_csrf_token__"
# Per-process copies of the hottest pages, in front of the shared cache: a hit then costs no
# network round trip. Keys carry the generation, so writes still invalidate them; the short
# life bounds how long stock moves made outside the catalog services stay unseen.
LOCAL_SECONDS = 5.0
LOCAL_ENTRIES = 256
_local: OrderedDict[str, tuple[float, str]] = OrderedDict()
_local_lock = threading.Lock()


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


# Query parameters the list pages understand; a URL with anything else is rendered but not
# stored, so junk parameters cannot fill the cache with copies of the same page.
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


def _cacheable(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD") or cache_seconds() <= 0:
        return False
    if not set(request.GET) <= KNOWN_PARAMS or any(
        len(values) > 1 or len(values[0]) > 200 for _key, values in request.GET.lists()
    ):
        return False
    if request.user.is_authenticated:
        return False
    # A flash message (cookie or session storage) belongs to this visitor's next page only.
    return "messages" not in request.COOKIES and not request.session.get("_messages")


def context_token(request: HttpRequest) -> dict:
    """Extra template context for a view whose page may be cached: the token placeholder."""
    if getattr(request, "_catalog_page_cache", False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def _key(request: HttpRequest, generation: int) -> str:
    return cache_key(
        "page",
        generation,
        request.get_full_path(),
        translation.get_language(),
        buyer.display_currency(request),
        buyer.buyer_country(request),
    )


def cached_page(view):
    """Serve anonymous GETs of a catalog list view from the cache (see the module doc)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _cacheable(request):
            return view(request, *args, **kwargs)
        generation = recent_generation()
        key = _key(request, generation)
        html = _local_get(key)
        if html is None:
            try:
                html = cache.get(key)
            except Exception:
                logger.warning("page cache unavailable", exc_info=True)
                return view(request, *args, **kwargs)
            if html is not None:
                _local_set(key, html)
        if html is not None:
            response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
            response["X-Catalog-Cache"] = "hit"
            return response
        request._catalog_page_cache = True
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or getattr(response, "streaming", False):
            return response
        html = response.content.decode(response.charset)
        try:
            cache.set(key, html, timeout=cache_seconds())
        except Exception:
            logger.warning("could not store a cached page", exc_info=True)
        _local_set(key, html)
        response.content = html.replace(CSRF_PLACEHOLDER, get_token(request))
        response["X-Catalog-Cache"] = "miss"
        return response

    return wrapper
