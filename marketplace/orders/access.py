"""One way to fetch the orders a request may touch. Someone else's order is a 404, never a 403."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from accounts.access import shop_for_member
from marketplace.orders.models import Order, ShopOrder


def order_for_buyer(request: HttpRequest, number: str) -> Order:
    return get_object_or_404(Order, number=number, buyer=request.user)


def shop_order_for_member(
    request: HttpRequest, slug: str, number: str, *, owner: bool = False
) -> ShopOrder:
    """A parcel of an order placed with the member's shop (paid orders only)."""
    shop = shop_for_member(request, slug, owner=owner)
    shop_order = get_object_or_404(
        ShopOrder.objects.select_related("order", "order__buyer"),
        shop=shop,
        order__number=number,
        order__paid_at__isnull=False,
    )
    shop_order.shop = shop
    return shop_order
