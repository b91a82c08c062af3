"""Extension points of the seller dashboard.

Apps that add seller pages register here (in their ``AppConfig.ready``) instead of editing
the dashboard: a nav entry is ``(url name taking the shop slug, label)``; a section or a
checklist provider is a callable ``(shop) -> dict | None``.
"""

from __future__ import annotations

from collections.abc import Callable

SHOP_NAV: list[tuple[str, str]] = []
SHOP_SECTIONS: list[Callable] = []
SHOP_CHECKLIST: list[Callable] = []


def shop_nav(request):
    return {"shop_nav": SHOP_NAV}


def dashboard_context(shop) -> dict:
    sections = [s for provider in SHOP_SECTIONS if (s := provider(shop))]
    checklist = [c for provider in SHOP_CHECKLIST if (c := provider(shop))]
    return {"sections": sections, "checklist": checklist}
