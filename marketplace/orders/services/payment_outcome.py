"""What a payment's outcome does to the order: paid, failed, expired; the cart released."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.orders import ledger
from marketplace.orders.models import (
    Cart,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    ShopOrder,
)
from marketplace.orders.services.paperwork import request_paperwork
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


def mark_paid(*, order: Order, payment: Payment, now: datetime, actor: User | None = None) -> bool:
    """The order's money is captured: move it and its parcels to paid, book the sale.

    Returns False when the order can no longer take the money (it expired or was cancelled
    meanwhile); the payment service then gives the money back.
    """
    with transaction.atomic():
        order = lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT:
            return order.status not in (
                Order.Status.EXPIRED,
                Order.Status.CANCELLED,
                Order.Status.PAYMENT_FAILED,
            )
        shop_orders = lock_shop_orders(order)
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
            if shop_order.held_at:
                continue
            if shop_order.international:
                request_paperwork(shop_order=shop_order, now=now, actor=None)
            else:
                # No customs border (same country, or within the EU's customs union): no
                # paperwork to wait for, the parcel is ready to ship at once.
                move_shop_order(shop_order, SO.PAPERWORK_READY, now=now)
        sync_order_status(order, now=now)
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
        order = lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT:
            return
        shop_orders = lock_shop_orders(order)
        restock(open_quantities(shop_orders))
        close_lines(shop_orders)
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
        order = lock_order(order)
        if order.status != Order.Status.PENDING_PAYMENT or (
            order.expires_at and order.expires_at > now
        ):
            return False
        shop_orders = lock_shop_orders(order)
        restock(open_quantities(shop_orders))
        close_lines(shop_orders)
        reason = _("Not paid in time.")
        for shop_order in shop_orders:
            move_shop_order(
                shop_order, SO.CANCELLED, now=now, cancelled_at=now, cancel_reason=reason
            )
        move_order(order, Order.Status.EXPIRED, now=now, kind=OrderEvent.Kind.EXPIRED)
    # After the commit, outside the locks: the provider releases the authorisation.
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
