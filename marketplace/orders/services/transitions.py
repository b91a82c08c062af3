"""Status moves: compare-and-swap transitions with their event, order roll-up, locks."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.orders import events
from marketplace.orders.locks import lock_one, lock_rows
from marketplace.orders.models import (
    Order,
    OrderEvent,
    ShopOrder,
)

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


def _changed_elsewhere() -> DomainError:
    return DomainError(
        _("This order was changed by someone else meanwhile. Reload and try again."),
        code="conflict",
    )


def move_order(
    order: Order,
    target: str,
    *,
    now: datetime,
    actor: User | None = None,
    kind: str = OrderEvent.Kind.STATUS,
    note: str = "",
    data: dict | None = None,
) -> None:
    order.check_transition(target)
    values: dict = {"status": target}
    if target == Order.Status.PAID:
        values["paid_at"] = now
    if not Order.TRANSITIONS[target]:
        values["closed_at"] = now
    moved = Order.objects.filter(pk=order.pk, status=order.status).update(**values)
    if moved != 1:
        raise _changed_elsewhere()
    old = order.status
    for name, value in values.items():
        setattr(order, name, value)
    events.record(
        order=order,
        kind=kind,
        actor=actor,
        from_status=old,
        to_status=target,
        note=note,
        data=data,
        now=now,
    )


def move_shop_order(
    shop_order: ShopOrder,
    target: str,
    *,
    now: datetime,
    actor: User | None = None,
    kind: str = OrderEvent.Kind.STATUS,
    note: str = "",
    data: dict | None = None,
    **fields,
) -> None:
    shop_order.check_transition(target)
    values = {"status": target, **fields}
    if target == SO.CANCELLED and shop_order.paperwork_status in (
        ShopOrder.Paperwork.WAITING,
        ShopOrder.Paperwork.QUEUED,
        ShopOrder.Paperwork.HELD,
        ShopOrder.Paperwork.FAILED,
    ):
        # A cancelled parcel needs no paperwork: the watcher and sweeper stop following it.
        values["paperwork_status"] = ShopOrder.Paperwork.NOT_NEEDED
    moved = ShopOrder.objects.filter(pk=shop_order.pk, status=shop_order.status).update(**values)
    if moved != 1:
        raise _changed_elsewhere()
    old = shop_order.status
    for name, value in values.items():
        setattr(shop_order, name, value)
    events.record(
        order=shop_order.order,
        shop_order=shop_order,
        kind=kind,
        actor=actor,
        from_status=old,
        to_status=target,
        note=note,
        data=data,
        now=now,
    )


def rolled_up_status(order: Order, shop_orders: list[ShopOrder]) -> str:
    """The order status its shop orders imply."""
    live = [so for so in shop_orders if so.is_live]
    if not live:
        if any(so.status == SO.REFUNDED for so in shop_orders):
            return Order.Status.REFUNDED
        return Order.Status.CANCELLED
    least = min(live, key=lambda so: ShopOrder.PROGRESS.index(so.status))
    return least.status  # the values are shared by both machines


def sync_order_status(order: Order, *, now: datetime, actor: User | None = None) -> None:
    """Move the order to what its shop orders imply, if that is a legal step."""
    shop_orders = list(ShopOrder.objects.filter(order=order).order_by("pk"))
    target = rolled_up_status(order, shop_orders)
    if order.status in (Order.Status.EXPIRED, Order.Status.PAYMENT_FAILED):
        return
    if target != order.status and target in Order.TRANSITIONS[order.status]:
        move_order(order, target, now=now, actor=actor)


def lock_order(order: Order) -> Order:
    return lock_one(Order.objects.all(), order.pk)


def lock_shop_orders(order: Order) -> list[ShopOrder]:
    ids = ShopOrder.objects.filter(order=order).values_list("pk", flat=True)
    rows = lock_rows(ShopOrder.objects.select_related("shop"), ids)
    shop_orders = [rows[pk] for pk in sorted(rows)]
    for shop_order in shop_orders:
        shop_order.order = order
    return shop_orders
