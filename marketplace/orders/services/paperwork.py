"""Customs paperwork of a paid international parcel, and the screening holds that stop it."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.orders import customs_bridge, events
from marketplace.orders.locks import lock_one
from marketplace.orders.models import (
    OrderEvent,
    ShopOrder,
)
from marketplace.orders.services.transitions import lock_order, move_shop_order, sync_order_status

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


def request_paperwork(*, shop_order: ShopOrder, now: datetime, actor: User | None) -> None:
    """Have customs freeze the declaration of a paid international parcel and render it.

    Runs inside the caller's transaction: the customs job row is written with the payment,
    so a broker outage delays the documents (the customs sweeper publishes the job later)
    but never loses them. A refusal by customs (a blocked consignment) marks the paperwork
    failed with the reason instead of undoing the payment.
    """
    from marketplace.orders.tasks import watch_paperwork

    claimed = (
        ShopOrder.objects.filter(
            pk=shop_order.pk,
            status__in=(SO.PAID, SO.PAPERWORK_READY),
            international=True,
            held_at__isnull=True,
        )
        .exclude(paperwork_status=ShopOrder.Paperwork.QUEUED)
        .update(
            paperwork_status=ShopOrder.Paperwork.QUEUED,
            paperwork_error="",
            paperwork_requested_at=now,
        )
    )
    if not claimed:
        return
    shop_order.paperwork_status = ShopOrder.Paperwork.QUEUED
    if shop_order.declaration_id is None:
        declaration, problem = customs_bridge.in_transaction_safely(
            customs_bridge.create_declaration, shop_order=shop_order, now=now
        )
        if problem:
            _paperwork_failed_locked(shop_order, problem, now)
            return
        shop_order.declaration_id = declaration.pk
        ShopOrder.objects.filter(pk=shop_order.pk).update(declaration_id=declaration.pk)
    else:
        customs_bridge.retry_documents(declaration_id=shop_order.declaration_id)
    events.record(
        order=shop_order.order,
        shop_order=shop_order,
        kind=OrderEvent.Kind.PAPERWORK_QUEUED,
        actor=actor,
        now=now,
    )
    watch_paperwork.delay_on_commit(shop_order.pk)


def retry_paperwork(*, shop_order: ShopOrder, actor: User | None, now: datetime) -> None:
    """The seller's or an admin's "try again" after a failure, or "regenerate"."""
    with transaction.atomic():
        order = lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        if not shop_order.international:
            raise DomainError(_("A domestic parcel needs no customs paperwork."))
        if shop_order.held_at:
            raise DomainError(_("This parcel is on hold for review; paperwork waits for it."))
        if shop_order.status not in (SO.PAID, SO.PAPERWORK_READY):
            raise DomainError(_("Paperwork can only be made for a paid parcel not yet shipped."))
        if shop_order.paperwork_status == ShopOrder.Paperwork.QUEUED:
            raise DomainError(_("The paperwork is already being made."))
        request_paperwork(shop_order=shop_order, now=now, actor=actor)


def sync_paperwork(*, shop_order_id: int, now: datetime, render: bool = False) -> str:
    """Bring the parcel's paperwork status in line with the customs job; returns the state.

    With ``render`` (the paperwork task), a job still pending is rendered here and now.

    "ready" and "failed" are final for this request; "waiting" means the job is still
    pending or running (the watch task tries again later, the sweeper after that).
    Idempotent: a parcel not queued is left alone.
    """
    shop_order = (
        ShopOrder.objects.filter(pk=shop_order_id)
        .only("paperwork_status", "declaration_id")
        .first()
    )
    if shop_order is None or shop_order.paperwork_status != ShopOrder.Paperwork.QUEUED:
        return "idle"
    state = customs_bridge.paperwork_state(declaration_id=shop_order.declaration_id)
    if state.status == "pending" and render:
        customs_bridge.render_pending_job(declaration_id=shop_order.declaration_id)
        state = customs_bridge.paperwork_state(declaration_id=shop_order.declaration_id)
    if state.status in ("pending", "running", "missing"):
        return "waiting"
    with transaction.atomic():
        shop_order = lock_one(ShopOrder.objects.select_related("order", "shop"), shop_order_id)
        if shop_order.paperwork_status != ShopOrder.Paperwork.QUEUED:
            return "idle"
        if state.status == "failed":
            _paperwork_failed_locked(shop_order, state.error or _("Unknown error."), now)
            return "failed"
        ShopOrder.objects.filter(pk=shop_order.pk).update(
            paperwork_status=ShopOrder.Paperwork.READY, paperwork_error=""
        )
        shop_order.paperwork_status = ShopOrder.Paperwork.READY
        if shop_order.status == SO.PAID:
            order = lock_order(shop_order.order)
            shop_order.order = order
            move_shop_order(
                shop_order,
                SO.PAPERWORK_READY,
                now=now,
                kind=OrderEvent.Kind.PAPERWORK_READY,
                data={"version": state.version},
            )
            sync_order_status(order, now=now)
        else:
            events.record(
                order=shop_order.order,
                shop_order=shop_order,
                kind=OrderEvent.Kind.PAPERWORK_READY,
                note=_("New version %(v)d") % {"v": state.version},
                data={"version": state.version},
                now=now,
            )
    return "ready"


def _paperwork_failed_locked(shop_order: ShopOrder, reason: str, now: datetime) -> None:
    ShopOrder.objects.filter(pk=shop_order.pk).update(
        paperwork_status=ShopOrder.Paperwork.FAILED,
        paperwork_error=reason[:2000],
        paperwork_attempts=F("paperwork_attempts") + 1,
    )
    shop_order.paperwork_status = ShopOrder.Paperwork.FAILED
    shop_order.paperwork_error = reason[:2000]
    events.record(
        order=shop_order.order,
        shop_order=shop_order,
        kind=OrderEvent.Kind.PAPERWORK_FAILED,
        note=reason[:2000],
        now=now,
    )


def queued_paperwork(*, limit: int = 500) -> list[int]:
    """Parcels waiting for customs: the sweeper syncs them (a watch task may have been lost)."""
    return list(
        ShopOrder.objects.filter(paperwork_status=ShopOrder.Paperwork.QUEUED)
        .order_by("paperwork_requested_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def hold_shop_order(*, shop_order: ShopOrder, reason: str, now: datetime) -> None:
    """A screening hit: no paperwork and no shipping until an admin decides."""
    ShopOrder.objects.filter(pk=shop_order.pk).update(
        held_at=now,
        hold_reason=reason[:2000],
        paperwork_status=ShopOrder.Paperwork.HELD
        if shop_order.international
        else shop_order.paperwork_status,
    )
    shop_order.held_at = now
    shop_order.hold_reason = reason
    events.record(
        order=shop_order.order,
        shop_order=shop_order,
        kind=OrderEvent.Kind.HELD,
        note=reason,
        now=now,
    )


def release_hold(*, shop_order: ShopOrder, actor: User, note: str, now: datetime) -> None:
    """An admin cleared the screening hits: the parcel goes on (paperwork if paid)."""
    with transaction.atomic():
        shop_order = lock_one(ShopOrder.objects.select_related("order", "shop"), shop_order.pk)
        if not shop_order.held_at:
            raise DomainError(_("This parcel is not on hold."))
        customs_bridge.clear_screening(shop_order=shop_order, actor=actor, note=note)
        waiting = (
            ShopOrder.Paperwork.WAITING
            if shop_order.international
            else ShopOrder.Paperwork.NOT_NEEDED
        )
        ShopOrder.objects.filter(pk=shop_order.pk).update(
            held_at=None, hold_reason="", paperwork_status=waiting
        )
        shop_order.held_at = None
        shop_order.paperwork_status = waiting
        events.record(
            order=shop_order.order,
            shop_order=shop_order,
            kind=OrderEvent.Kind.RELEASED,
            actor=actor,
            note=note,
            now=now,
        )
        if shop_order.status == SO.PAID and shop_order.international:
            request_paperwork(shop_order=shop_order, now=now, actor=actor)
