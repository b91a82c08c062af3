"""Stock going back on the shelf: restock in pk order, open quantities, closed lines."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db.models import F

from marketplace.listings.models import Variant
from marketplace.orders.locks import lock_variants
from marketplace.orders.models import (
    OrderLine,
    ShopOrder,
)

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


def restock(quantities: dict[int, int]) -> None:
    """Put sold units back: {variant id: quantity}, locked in pk order."""
    quantities = {pk: q for pk, q in quantities.items() if q > 0}
    if not quantities:
        return
    lock_variants(sorted(quantities))
    for variant_id in sorted(quantities):
        Variant.objects.filter(pk=variant_id).update(stock=F("stock") + quantities[variant_id])


def open_quantities(shop_orders: list[ShopOrder]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    lines = OrderLine.objects.filter(shop_order__in=shop_orders).order_by("pk")
    for line in lines:
        totals[line.variant_id] += line.quantity_open
    return dict(totals)


def close_lines(shop_orders: list[ShopOrder]) -> None:
    """Everything left on these shop orders went back to stock (cancellation)."""
    OrderLine.objects.filter(shop_order__in=shop_orders).update(quantity_refunded=F("quantity"))
