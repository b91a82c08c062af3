"""Template helpers of the order pages: the header's cart link, status pills, percentages."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.db.models import Sum
from django.utils.html import format_html

from marketplace.orders.dashboard import SESSION_CART_KEY
from marketplace.orders.models import CartItem

register = template.Library()

PILL_CLASSES = {
    "pending_payment": "pending",
    "paid": "active",
    "paperwork_ready": "ready",
    "shipped": "ok",
    "delivered": "ok",
    "cancelled": "failed",
    "expired": "failed",
    "payment_failed": "failed",
    "refunded": "warn",
    "queued": "queued",
    "ready": "ready",
    "failed": "failed",
    "held": "warn",
    "waiting": "pending",
    "not_needed": "ok",
}


def _cart_count(request) -> int:
    """Items in the visitor's cart: one query, none for a visitor who never added anything."""
    if request is None:
        return 0
    items = CartItem.objects.filter(cart__status="open")
    if request.user.is_authenticated:
        items = items.filter(cart__user=request.user)
    else:
        token = request.session.get(SESSION_CART_KEY) if hasattr(request, "session") else None
        if not token:
            return 0
        items = items.filter(cart__token=token, cart__user__isnull=True)
    return items.aggregate(n=Sum("quantity"))["n"] or 0


@register.inclusion_tag("orders/_nav.html", takes_context=True)
def orders_nav(context):
    request = context.get("request")
    return {
        "cart_count": _cart_count(request),
        "signed_in": bool(request and request.user.is_authenticated),
    }


@register.simple_tag
def status_pill(value: str, label: str = ""):
    css = PILL_CLASSES.get(value, "pending")
    return format_html('<span class="pill pill-{}">{}</span>', css, label or value)


@register.filter
def percent(rate):
    """A rate stored as a fraction (``0.0800``) in percent (``8.0000``); pipe it to floatformat."""
    if rate is None or rate == "":
        return ""
    return Decimal(str(rate)) * 100
