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
        _cancel_locked(order=order, shop_order=shop_order, actor=actor, reason=reason, now=now)
        sync_order_status(order, now=now, actor=actor)


def cancel_order(*, order: Order, actor: User | None, reason: str, now: datetime) -> None:
    """The buyer (or an admin) cancels everything not yet shipped."""
    from marketplace.orders.payments import service as payments

    if not reason.strip():
        raise DomainError(_("Reason: say why the order is cancelled."), code="reason")
    with transaction.atomic():
        order = lock_order(order)
        shop_orders = lock_shop_orders(order)
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
        restock(open_quantities([shop_order]))
        close_lines([shop_order])
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
