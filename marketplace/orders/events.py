"""The audit trail, and the outbox for notifications.

Every transition writes an ``OrderEvent`` in the same transaction as the change. Events that
tell someone something are sent by a task on the ``notifications`` queue after commit; the
event row is the outbox (``notified_at``), so a broker outage delays them, never loses them.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from marketplace.orders.models import Order, OrderEvent, ShopOrder


def actor_label(actor: User | None) -> str:
    if actor is None:
        return "system"
    return actor.email


def record(
    *,
    order: Order,
    kind: str,
    now: datetime,
    actor: User | None = None,
    shop_order: ShopOrder | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict | None = None,
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order,
        shop_order=shop_order,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=actor_label(actor),
        note=note,
        data=data or {},
        created_at=now,
        notified_at=None if kind in OrderEvent.NOTIFYING else now,
    )
    if kind in OrderEvent.NOTIFYING:
        from marketplace.orders.tasks import notify_order_event

        notify_order_event.delay_on_commit(event.pk)
    return event
