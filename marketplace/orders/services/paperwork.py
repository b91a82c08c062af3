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
    failed with the reason instead of undoing the payment. Customs tells us when the
    documents are done (``customs.signals.paperwork_finished``, received by
    ``record_paperwork_outcome``); nothing here waits or polls for them.
    """
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


def record_paperwork_outcome(
    *, reference: str, version: int, status: str, error: str, now: datetime
) -> str:
    """Customs finished the documents of a consignment (the ``paperwork_finished`` signal,
    sent after customs committed): the parcel becomes ready to ship, or its paperwork failed.

    Returns "ready", "failed", or "idle" for a parcel that is not waiting for paperwork
    (a repeated signal, a cancelled parcel, a regenerated version after shipping).
    Idempotent: only a parcel whose paperwork is queued is changed.
    """
    number, _sep, shop_id = reference.rpartition("-")
    if not shop_id.isdigit():
        return "idle"
    pk = (
        ShopOrder.objects.filter(
            order__number=number,
            shop_id=int(shop_id),
            paperwork_status=ShopOrder.Paperwork.QUEUED,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        return "idle"
    with transaction.atomic():
        shop_order = lock_one(ShopOrder.objects.select_related("order", "shop"), pk)
        if shop_order.paperwork_status != ShopOrder.Paperwork.QUEUED:
            return "idle"
        if status == "failed":
            _paperwork_failed_locked(shop_order, error or _("Unknown error."), now)
            return "failed"
        if status != "done":
            return "idle"
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
                data={"version": version},
            )
            sync_order_status(order, now=now)
        else:
            events.record(
                order=shop_order.order,
                shop_order=shop_order,
                kind=OrderEvent.Kind.PAPERWORK_READY,
                note=_("New version %(v)d") % {"v": version},
                data={"version": version},
                now=now,
            )
    return "ready"


def catch_up_paperwork(*, now: datetime, limit: int = 500) -> int:
    """The safety net behind the signal (a receiver that failed, a worker that died between
    commit and signal): apply what customs says about every parcel still queued.

    Returns how many parcels it settled; a job still pending or running is left to its
    signal (the customs sweeper republishes lost jobs).
    """
    queued = (
        ShopOrder.objects.filter(paperwork_status=ShopOrder.Paperwork.QUEUED)
        .select_related("order")
        .order_by("paperwork_requested_at", "pk")
    )[:limit]
    settled = 0
    for shop_order in queued:
        state = customs_bridge.paperwork_state(declaration_id=shop_order.declaration_id)
        if state.status not in ("done", "failed"):
            continue
        outcome = record_paperwork_outcome(
            reference=shop_order.reference,
            version=state.version,
            status=state.status,
            error=state.error,
            now=now,
        )
        settled += outcome != "idle"
    return settled


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
