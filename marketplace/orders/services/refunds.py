"""Cancellation and refunds: money back, stock back, ledger reversed."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize
from marketplace.orders import events, ledger
from marketplace.orders.locks import lock_one
from marketplace.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    Refund,
    ShopOrder,
)
from marketplace.orders.services.stock import close_lines, open_quantities, restock
from marketplace.orders.services.transitions import (
    lock_order,
    lock_shop_orders,
    move_order,
    move_shop_order,
    sync_order_status,
)

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


def cancel_shop_order(
    *, shop_order: ShopOrder, actor: User | None, reason: str, now: datetime
) -> None:
    """Cancel one parcel before it ships: stock back, money back (if paid), ledger reversed."""
    if not reason.strip():
        raise DomainError(_("Reason: tell the buyer why the parcel is cancelled."), code="reason")
    with transaction.atomic():
        order = lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        refund = _cancel_locked(
            order=order, shop_order=shop_order, actor=actor, reason=reason, now=now
        )
        sync_order_status(order, now=now, actor=actor)
    # The money goes back outside the locks; the parcel closes when the provider confirms.
    _raise_failures(settle_refunds([refund] if refund else [], actor=actor, now=now))


def cancel_order(*, order: Order, actor: User | None, reason: str, now: datetime) -> None:
    """The buyer (or an admin) cancels everything not yet shipped."""
    from marketplace.orders.payments import service as payments

    if not reason.strip():
        raise DomainError(_("Reason: say why the order is cancelled."), code="reason")
    pending: list[Refund] = []
    with transaction.atomic():
        order = lock_order(order)
        shop_orders = lock_shop_orders(order)
        refusal = order.cancel_refusal(shop_orders)
        if refusal:
            raise DomainError(refusal)
        live = [so for so in shop_orders if so.is_live]
        if order.status == Order.Status.PENDING_PAYMENT:
            restock(open_quantities(live))
            close_lines(live)
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
            voids = True
        else:
            voids = False
            for shop_order in live:
                refund = _cancel_locked(
                    order=order, shop_order=shop_order, actor=actor, reason=reason, now=now
                )
                if refund is not None:
                    pending.append(refund)
            sync_order_status(order, now=now, actor=actor)
    # Provider calls after the closing transaction committed, never under its locks.
    if voids:
        payments.void_open_payments(order=order, now=now)
    _raise_failures(settle_refunds(pending, actor=actor, now=now))


def _cancel_locked(
    *, order: Order, shop_order: ShopOrder, actor: User | None, reason: str, now: datetime
) -> Refund | None:
    """Cancel a paid parcel: with money to give back, a pending refund that closes the parcel
    once the provider confirms it (``settle_refunds``); without, at once."""
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
        return _create_refund_locked(
            order=order,
            shop_order=shop_order,
            lines=open_lines,
            include_shipping=True,
            amount=refundable,
            reason=reason,
            actor=actor,
            now=now,
            final=True,
            closes_as=Refund.CLOSES_CANCEL,
        )
    restock(open_quantities([shop_order]))
    close_lines([shop_order])
    _close_cancelled(shop_order, actor=actor, reason=reason, now=now)
    return None


def _close_cancelled(shop_order: ShopOrder, *, actor: User | None, reason: str, now: datetime):
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
        order = lock_order(shop_order.order)
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
        closes_as = ""
        if everything:
            closes_as = (
                Refund.CLOSES_CANCELLED if shop_order.before_shipment else Refund.CLOSES_REFUNDED
            )
        refund = _create_refund_locked(
            order=order,
            shop_order=shop_order,
            lines=lines,
            include_shipping=include_shipping,
            amount=amount,
            reason=reason,
            actor=actor,
            now=now,
            final=everything,
            closes_as=closes_as,
        )
    # The provider call happens here, after the refund row committed and the locks are gone.
    _raise_failures(settle_refunds([refund], actor=actor, now=now))
    refund.refresh_from_db()
    return refund


def _share(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    if part == whole:
        return amount
    return quantize(amount * part / whole, currency)


def _create_refund_locked(
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
    closes_as: str,
) -> Refund:
    """The refund's intent row (``pending``), written under the parcel's locks.

    Nothing else changes yet: stock, ledger and amounts move only when the provider says the
    money went back (``apply_refund_outcome``). One pending refund per parcel at a time, so
    two refunds never both count the same refundable money.
    """
    from marketplace.orders.payments import service as payments

    payment = payments.settled_payment(order=order)
    if payment is None:
        raise DomainError(_("There is no captured payment to refund."))
    if Refund.objects.filter(shop_order=shop_order, status=Refund.Status.PENDING).exists():
        raise DomainError(
            _("A refund of this parcel is still being processed. Try again in a few minutes."),
            code="refund_pending",
        )
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
    return Refund.objects.create(
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
        final=final,
        closes_as=closes_as,
    )


def settle_refunds(refunds: list[Refund], *, actor: User | None, now: datetime) -> list[str]:
    """Send each pending refund to the provider (outside any transaction) and record the
    answer. Returns the refusals' messages; an unknown outcome leaves the refund pending for
    ``reconcile_payments``, which asks again with the same key."""
    from marketplace.orders.payments import service as payments

    failures = []
    for refund in refunds:
        result = payments.send_refund(refund=refund)
        if result is None:
            continue
        failure = apply_refund_outcome(refund=refund, result=result, actor=actor, now=now)
        if failure:
            failures.append(failure)
    return failures


def _raise_failures(failures: list[str]) -> None:
    if failures:
        raise DomainError(
            _("The payment provider refused the refund: %(error)s") % {"error": failures[0]}
        )


def apply_refund_outcome(*, refund: Refund, result, actor: User | None, now: datetime) -> str:
    """Record the provider's answer to a refund, once. Returns the refusal message, or ""."""
    from marketplace.orders.payments import service as payments

    with transaction.atomic():
        order = lock_order(refund.shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), refund.shop_order_id)
        shop_order.order = order
        refund = lock_one(Refund.objects.all(), refund.pk)
        if refund.status != Refund.Status.PENDING:
            return ""
        if result.status != "succeeded":
            message = result.message or _("The refund did not go through.")
            Refund.objects.filter(pk=refund.pk).update(
                status=Refund.Status.FAILED, failure_message=message
            )
            return str(message)
        payments.record_refund(refund=refund, reference=result.reference, message=result.message)
        lines = {int(pk): q for pk, q in refund.lines.items()}
        own_lines = {line.pk: line for line in OrderLine.objects.filter(shop_order=shop_order)}
        quantities: dict[int, int] = defaultdict(int)
        for pk, quantity in lines.items():
            OrderLine.objects.filter(pk=pk).update(
                quantity_refunded=F("quantity_refunded") + quantity
            )
            quantities[own_lines[pk].variant_id] += quantity
        restock(dict(quantities))
        ShopOrder.objects.filter(pk=shop_order.pk).update(
            amount_refunded=F("amount_refunded") + refund.amount,
            amount_refunded_shop=F("amount_refunded_shop") + refund.amount_shop,
        )
        Order.objects.filter(pk=order.pk).update(
            amount_refunded=F("amount_refunded") + refund.amount
        )
        shop_order.amount_refunded += refund.amount
        shop_order.amount_refunded_shop += refund.amount_shop
        order.amount_refunded += refund.amount
        ledger.book_refund(refund=refund, shop_order=shop_order, final=refund.final, now=now)
        events.record(
            order=order,
            shop_order=shop_order,
            kind=OrderEvent.Kind.REFUNDED,
            actor=actor,
            note=refund.reason,
            data={"refund": refund.pk, "amount": str(refund.amount), "currency": order.currency},
            now=now,
        )
        reason = refund.reason
        if refund.closes_as == Refund.CLOSES_CANCEL:
            _close_cancelled(shop_order, actor=actor, reason=reason, now=now)
        elif refund.closes_as == Refund.CLOSES_CANCELLED:
            move_shop_order(
                shop_order,
                SO.CANCELLED,
                now=now,
                actor=actor,
                note=reason,
                cancelled_at=now,
                cancel_reason=reason,
            )
        elif refund.closes_as == Refund.CLOSES_REFUNDED:
            move_shop_order(shop_order, SO.REFUNDED, now=now, actor=actor, note=reason)
        sync_order_status(order, now=now, actor=actor)
    return ""
