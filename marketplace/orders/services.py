"""Order actions after placement: payment outcome, paperwork, shipping, cancellation, refunds.

Every status change is a compare-and-swap (``UPDATE ... WHERE status = <old>``) checked
against the model's transition table and written with an ``OrderEvent`` in the same
transaction. Row locks follow ``locks``: order, then shop orders (pk order), then payment,
then variants (pk order, one query). The order's status is rolled up from its shop orders:
it shows the least advanced live parcel.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize
from marketplace.listings.models import Variant
from marketplace.orders import customs_bridge, events, ledger
from marketplace.orders.locks import lock_one, lock_rows, lock_variants
from marketplace.orders.models import (
    Cart,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Refund,
    ShopOrder,
)

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


# --- Transitions ---------------------------------------------------------------------------


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


def _lock_order(order: Order) -> Order:
    return lock_one(Order.objects.all(), order.pk)


def _lock_shop_orders(order: Order) -> list[ShopOrder]:
    ids = ShopOrder.objects.filter(order=order).values_list("pk", flat=True)
    rows = lock_rows(ShopOrder.objects.select_related("shop"), ids)
    shop_orders = [rows[pk] for pk in sorted(rows)]
    for shop_order in shop_orders:
        shop_order.order = order
    return shop_orders


# --- Stock --------------------------------------------------------------------------------------


def restock(quantities: dict[int, int]) -> None:
    """Put sold units back: {variant id: quantity}, locked in pk order."""
    quantities = {pk: q for pk, q in quantities.items() if q > 0}
    if not quantities:
        return
    lock_variants(sorted(quantities))
    for variant_id in sorted(quantities):
        Variant.objects.filter(pk=variant_id).update(stock=F("stock") + quantities[variant_id])


def _open_quantities(shop_orders: list[ShopOrder]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    lines = OrderLine.objects.filter(shop_order__in=shop_orders).order_by("pk")
    for line in lines:
        totals[line.variant_id] += line.quantity_open
    return dict(totals)


def _close_lines(shop_orders: list[ShopOrder]) -> None:
    """Everything left on these shop orders went back to stock (cancellation)."""
    OrderLine.objects.filter(shop_order__in=shop_orders).update(quantity_refunded=F("quantity"))


# --- Payment outcome ---------------------------------------------------------------------------


def mark_paid(*, order: Order, payment: Payment, now: datetime, actor: User | None = None) -> bool:
    """The order's money is captured: move it and its parcels to paid, book the sale.

    Returns False when the order can no longer take the money (it expired or was cancelled
    meanwhile); the payment service then gives the money back.
    """
    with transaction.atomic():
        order = _lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT:
            return order.status not in (
                Order.Status.EXPIRED,
                Order.Status.CANCELLED,
                Order.Status.PAYMENT_FAILED,
            )
        shop_orders = _lock_shop_orders(order)
        move_order(
            order,
            Order.Status.PAID,
            now=now,
            actor=actor,
            kind=OrderEvent.Kind.PAID,
            data={"payment": payment.pk, "amount": str(payment.amount)},
        )
        for shop_order in shop_orders:
            move_shop_order(shop_order, SO.PAID, now=now, actor=actor)
            ledger.book_sale(shop_order=shop_order, now=now)
        release_cart(order=order, now=now)
        for shop_order in shop_orders:
            if shop_order.international and not shop_order.held_at:
                request_paperwork(shop_order=shop_order, now=now, actor=None)
    return True


def release_cart(*, order: Order, now: datetime) -> None:
    """Take what was ordered out of the buyer's cart (paid, or awaiting a bank transfer)."""
    from marketplace.orders.cart import clear_ordered_items

    if order.cart_id is None:
        return
    quantities: dict[int, int] = defaultdict(int)
    for variant_id, quantity in OrderLine.objects.filter(shop_order__order=order).values_list(
        "variant_id", "quantity"
    ):
        quantities[variant_id] += quantity
    clear_ordered_items(cart_id=order.cart_id, quantities=dict(quantities), now=now)
    Order.objects.filter(pk=order.pk).update(cart=None)
    order.cart_id = None


def fail_payment(*, order: Order, reason: str, now: datetime) -> None:
    """The payment was declined or abandoned: release the stock, keep the cart as it was.

    The cart gets a new checkout token, so trying again places a new order.
    """
    with transaction.atomic():
        order = _lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT:
            return
        shop_orders = _lock_shop_orders(order)
        restock(_open_quantities(shop_orders))
        _close_lines(shop_orders)
        for shop_order in shop_orders:
            move_shop_order(
                shop_order, SO.CANCELLED, now=now, cancelled_at=now, cancel_reason=reason
            )
        move_order(
            order,
            Order.Status.PAYMENT_FAILED,
            now=now,
            kind=OrderEvent.Kind.PAYMENT_FAILED,
            note=reason,
        )
        if order.cart_id:
            Cart.objects.filter(pk=order.cart_id).update(checkout_token=uuid.uuid4())


def expire_order(*, order: Order, now: datetime) -> bool:
    """An unpaid order ran out of time: release its stock and void its payment."""
    from marketplace.orders.payments import service as payments

    with transaction.atomic():
        order = _lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT or (
            order.expires_at and order.expires_at > now
        ):
            return False
        shop_orders = _lock_shop_orders(order)
        restock(_open_quantities(shop_orders))
        _close_lines(shop_orders)
        reason = _("Not paid in time.")
        for shop_order in shop_orders:
            move_shop_order(
                shop_order, SO.CANCELLED, now=now, cancelled_at=now, cancel_reason=reason
            )
        move_order(order, Order.Status.EXPIRED, now=now, kind=OrderEvent.Kind.EXPIRED)
        payments.void_open_payments(order=order, now=now)
    return True


def expire_unpaid_orders(*, now: datetime, limit: int = 500) -> int:
    """The periodic sweep: expire every unpaid order past its payment window."""
    due = list(
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in due:
        try:
            expired += expire_order(order=Order(pk=pk), now=now)
        except DomainError:
            logger.info("order %s changed while expiring; skipped", pk)
    return expired


# --- Paperwork ---------------------------------------------------------------------------------


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
        order = _lock_order(shop_order.order)
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
            order = _lock_order(shop_order.order)
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


# --- Fulfilment --------------------------------------------------------------------------------


def ship_shop_order(
    *, shop_order: ShopOrder, carrier: str, tracking_number: str, actor: User, now: datetime
) -> None:
    """The seller handed the parcel over: record carrier and tracking number.

    A postal tracking number must be a valid UPU S10 id; it also becomes the item barcode on
    the customs declaration (the documents are re-rendered with it).
    """
    tracking_number = "".join(tracking_number.split()).upper()
    if carrier not in ShopOrder.Carrier.values:
        raise DomainError(_("Carrier: choose one from the list."), code="carrier")
    if not tracking_number:
        raise DomainError(_("Tracking number: enter the number on the receipt."), code="tracking")
    if carrier == ShopOrder.Carrier.POST:
        problem = customs_bridge.s10_problem(tracking_number)
        if problem:
            raise DomainError(
                _("Tracking number: %(problem)s") % {"problem": problem}, code="tracking"
            )
    elif len(tracking_number) > 40 or not tracking_number.isalnum():
        raise DomainError(_("Tracking number: letters and digits only, up to 40."), code="tracking")
    with transaction.atomic():
        order = _lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        if shop_order.held_at:
            raise DomainError(_("This parcel is on hold for review and cannot ship yet."))
        if shop_order.status == SO.PAID and shop_order.international:
            raise DomainError(
                _("The customs paperwork is not ready yet: ship once the CN22/CN23 is ready.")
            )
        if shop_order.status not in (SO.PAID, SO.PAPERWORK_READY):
            raise DomainError(
                _("A parcel that is “%(status)s” cannot be shipped.")
                % {"status": shop_order.get_status_display()}
            )
        move_shop_order(
            shop_order,
            SO.SHIPPED,
            now=now,
            actor=actor,
            kind=OrderEvent.Kind.SHIPPED,
            data={"carrier": carrier, "tracking_number": tracking_number},
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
        )
        if (
            shop_order.international
            and shop_order.declaration_id
            and carrier == ShopOrder.Carrier.POST
        ):
            # The S10 id becomes the barcode on the CN22/CN23 (a new document version).
            customs_bridge.set_tracking_number(
                declaration_id=shop_order.declaration_id, tracking_number=tracking_number
            )
        sync_order_status(order, now=now, actor=actor)


def mark_delivered(*, shop_order: ShopOrder, actor: User | None, now: datetime) -> None:
    with transaction.atomic():
        order = _lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        move_shop_order(
            shop_order,
            SO.DELIVERED,
            now=now,
            actor=actor,
            kind=OrderEvent.Kind.DELIVERED,
            delivered_at=now,
        )
        sync_order_status(order, now=now, actor=actor)


# --- Cancellation and refunds -----------------------------------------------------------------


def cancel_shop_order(
    *, shop_order: ShopOrder, actor: User | None, reason: str, now: datetime
) -> None:
    """Cancel one parcel before it ships: stock back, money back (if paid), ledger reversed."""
    if not reason.strip():
        raise DomainError(_("Reason: tell the buyer why the parcel is cancelled."), code="reason")
    with transaction.atomic():
        order = _lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        _cancel_locked(order=order, shop_order=shop_order, actor=actor, reason=reason, now=now)
        sync_order_status(order, now=now, actor=actor)


def cancel_order(*, order: Order, actor: User | None, reason: str, now: datetime) -> None:
    """The buyer (or an admin) cancels everything not yet shipped."""
    from marketplace.orders.payments import service as payments

    if not reason.strip():
        raise DomainError(_("Reason: say why the order is cancelled."), code="reason")
    with transaction.atomic():
        order = _lock_order(order)
        shop_orders = _lock_shop_orders(order)
        if any(not so.before_shipment and so.is_live for so in shop_orders):
            raise DomainError(
                _(
                    "Part of this order has shipped: it can no longer be cancelled. "
                    "Ask the shop for a refund instead."
                )
            )
        live = [so for so in shop_orders if so.is_live]
        if not live:
            raise DomainError(_("This order is already closed."))
        if order.status == Order.Status.PENDING_PAYMENT:
            restock(_open_quantities(live))
            _close_lines(live)
            for shop_order in live:
                move_shop_order(
                    shop_order,
                    SO.CANCELLED,
                    now=now,
                    actor=actor,
                    cancelled_at=now,
                    cancel_reason=reason,
                )
            move_order(
                order,
                Order.Status.CANCELLED,
                now=now,
                actor=actor,
                kind=OrderEvent.Kind.CANCELLED,
                note=reason,
            )
            payments.void_open_payments(order=order, now=now)
            return
        for shop_order in live:
            _cancel_locked(order=order, shop_order=shop_order, actor=actor, reason=reason, now=now)
        sync_order_status(order, now=now, actor=actor)


def _cancel_locked(
    *, order: Order, shop_order: ShopOrder, actor: User | None, reason: str, now: datetime
) -> None:
    if not shop_order.before_shipment:
        raise DomainError(
            _("A parcel that is “%(status)s” cannot be cancelled; refund it instead.")
            % {"status": shop_order.get_status_display()}
        )
    if shop_order.status == SO.PENDING_PAYMENT:
        raise DomainError(_("Cancel the whole order while it awaits payment."))
    open_lines = {
        line.pk: line.quantity_open
        for line in OrderLine.objects.filter(shop_order=shop_order).order_by("pk")
        if line.quantity_open
    }
    refundable = shop_order.total - shop_order.amount_refunded
    if refundable > 0:
        _refund_locked(
            order=order,
            shop_order=shop_order,
            lines=open_lines,
            include_shipping=True,
            amount=refundable,
            reason=reason,
            actor=actor,
            now=now,
            final=True,
        )
    else:
        restock(_open_quantities([shop_order]))
        _close_lines([shop_order])
    move_shop_order(
        shop_order,
        SO.CANCELLED,
        now=now,
        actor=actor,
        kind=OrderEvent.Kind.CANCELLED,
        note=reason,
        cancelled_at=now,
        cancel_reason=reason,
    )


def refund_shop_order(
    *,
    shop_order: ShopOrder,
    lines: dict[int, int],
    include_shipping: bool,
    reason: str,
    actor: User | None,
    now: datetime,
) -> Refund:
    """Refund part or all of a paid parcel: {line id: quantity} back into stock.

    A refund of everything that is left refunds the whole rest of the parcel's total, duty
    and tax included, and closes it (refunded after shipment, cancelled before). A partial
    refund returns the lines' share of the goods (and the shipping, if asked).
    """
    if not reason.strip():
        raise DomainError(_("Reason: tell the buyer why you refund."), code="reason")
    lines = {int(pk): int(q) for pk, q in lines.items() if int(q) > 0}
    if not lines and not include_shipping:
        raise DomainError(_("Choose the items (or the shipping) to refund."), code="lines")
    with transaction.atomic():
        order = _lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        if shop_order.status not in (SO.PAID, SO.PAPERWORK_READY, SO.SHIPPED, SO.DELIVERED):
            raise DomainError(
                _("A parcel that is “%(status)s” cannot be refunded.")
                % {"status": shop_order.get_status_display()}
            )
        own_lines = {line.pk: line for line in OrderLine.objects.filter(shop_order=shop_order)}
        for pk, quantity in lines.items():
            line = own_lines.get(pk)
            if line is None:
                raise DomainError(_("That item is not part of this parcel."), code="lines")
            if quantity > line.quantity_open:
                raise DomainError(
                    _("%(sku)s: at most %(n)d can still be refunded.")
                    % {"sku": line.sku, "n": line.quantity_open},
                    code="lines",
                )
        shipping_refunded = Refund.objects.filter(
            shop_order=shop_order, includes_shipping=True, status=Refund.Status.SUCCEEDED
        ).exists()
        if include_shipping and shipping_refunded:
            raise DomainError(_("The shipping was already refunded."), code="shipping")
        everything = all(
            lines.get(pk, 0) == line.quantity_open for pk, line in own_lines.items()
        ) and (include_shipping or shipping_refunded or shop_order.shipping == 0)
        if everything:
            amount = shop_order.total - shop_order.amount_refunded
        else:
            amount = sum(
                (
                    _share(
                        own_lines[pk].line_total_presentment,
                        q,
                        own_lines[pk].quantity,
                        order.currency,
                    )
                    for pk, q in lines.items()
                ),
                start=Decimal(0),
            )
            if include_shipping:
                amount += shop_order.shipping
            amount = min(amount, shop_order.total - shop_order.amount_refunded)
        if amount <= 0:
            raise DomainError(_("Nothing is left to refund on this parcel."))
        refund = _refund_locked(
            order=order,
            shop_order=shop_order,
            lines=lines,
            include_shipping=include_shipping,
            amount=amount,
            reason=reason,
            actor=actor,
            now=now,
            final=everything,
        )
        if everything:
            target = SO.CANCELLED if shop_order.before_shipment else SO.REFUNDED
            move_shop_order(
                shop_order,
                target,
                now=now,
                actor=actor,
                note=reason,
                **(
                    {"cancelled_at": now, "cancel_reason": reason} if target == SO.CANCELLED else {}
                ),
            )
        sync_order_status(order, now=now, actor=actor)
    return refund


def _share(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    if part == whole:
        return amount
    return quantize(amount * part / whole, currency)


def _refund_locked(
    *,
    order: Order,
    shop_order: ShopOrder,
    lines: dict[int, int],
    include_shipping: bool,
    amount: Decimal,
    reason: str,
    actor: User | None,
    now: datetime,
    final: bool,
) -> Refund:
    """Money back through the provider, stock back, ledger reversed; all in one transaction.

    The provider call carries a key derived from the parcel and the refund's sequence, so a
    retry after a rollback gets the provider's first answer instead of a second refund.
    """
    from marketplace.orders.payments import service as payments

    payment = payments.settled_payment(order=order)
    if payment is None:
        raise DomainError(_("There is no captured payment to refund."))
    own_lines = {line.pk: line for line in OrderLine.objects.filter(shop_order=shop_order)}
    amount_shop = sum(
        (
            quantize(own_lines[pk].unit_price * q, shop_order.shop_currency)
            for pk, q in lines.items()
        ),
        start=Decimal(0),
    )
    if include_shipping:
        amount_shop += shop_order.shipping_shop
    if final:
        amount_shop = (
            shop_order.goods_shop + shop_order.shipping_shop - (shop_order.amount_refunded_shop)
        )
    sequence = Refund.objects.filter(shop_order=shop_order).count() + 1
    refund = Refund.objects.create(
        shop_order=shop_order,
        payment=payment,
        amount=amount,
        currency=order.currency,
        amount_shop=amount_shop,
        lines={str(pk): q for pk, q in lines.items()},
        includes_shipping=include_shipping,
        reason=reason,
        idempotency_key=f"refund:{shop_order.pk}:{sequence}",
        actor=actor,
        created_at=now,
    )
    payments.refund(payment=payment, refund=refund, now=now)
    quantities: dict[int, int] = defaultdict(int)
    for pk, quantity in lines.items():
        OrderLine.objects.filter(pk=pk).update(quantity_refunded=F("quantity_refunded") + quantity)
        quantities[own_lines[pk].variant_id] += quantity
    restock(dict(quantities))
    ShopOrder.objects.filter(pk=shop_order.pk).update(
        amount_refunded=F("amount_refunded") + amount,
        amount_refunded_shop=F("amount_refunded_shop") + amount_shop,
    )
    Order.objects.filter(pk=order.pk).update(amount_refunded=F("amount_refunded") + amount)
    shop_order.amount_refunded += amount
    shop_order.amount_refunded_shop += amount_shop
    order.amount_refunded += amount
    ledger.book_refund(refund=refund, shop_order=shop_order, final=final, now=now)
    events.record(
        order=order,
        shop_order=shop_order,
        kind=OrderEvent.Kind.REFUNDED,
        actor=actor,
        note=reason,
        data={"refund": refund.pk, "amount": str(amount), "currency": order.currency},
        now=now,
    )
    return refund
