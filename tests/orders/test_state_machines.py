"""Transition tables, compare-and-swap moves, audit events, database backstops, immutability."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from marketplace.core.errors import DomainError, IllegalTransition
from marketplace.listings.models import Variant
from marketplace.orders.locks import LockOutsideTransaction, lock_variants
from marketplace.orders.models import (
    Order,
    OrderEvent,
    Payment,
    ShopOrder,
    WebhookEvent,
)
from marketplace.orders.services import fulfilment, transitions
from tests.orders import factories as f
from tests.orders.records import paid_order

pytestmark = pytest.mark.django_db

ORDER_MATRIX = list(itertools.product(Order.Status.values, Order.Status.values))
SHOP_ORDER_MATRIX = list(itertools.product(ShopOrder.Status.values, ShopOrder.Status.values))


@pytest.mark.parametrize(("source", "target"), ORDER_MATRIX)
def test_every_order_move_outside_the_table_is_refused(source, target, buyer, shop):
    order = paid_order(buyer, shop, with_documents=False)
    Order.objects.filter(pk=order.pk).update(status=source)
    order.refresh_from_db()
    allowed = target in Order.TRANSITIONS[source]
    if allowed:
        transitions.move_order(order, target, now=timezone.now())
        assert Order.objects.get(pk=order.pk).status == target
        event = OrderEvent.objects.get(order=order)
        assert (event.from_status, event.to_status) == (source, target)
    else:
        with pytest.raises(IllegalTransition):
            transitions.move_order(order, target, now=timezone.now())
        assert Order.objects.get(pk=order.pk).status == source
        assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.parametrize(("source", "target"), SHOP_ORDER_MATRIX)
def test_every_parcel_move_outside_the_table_is_refused(source, target, buyer, shop):
    order = paid_order(buyer, shop, with_documents=False)
    so = order.shop_orders.get()
    ShopOrder.objects.filter(pk=so.pk).update(status=source)
    so.refresh_from_db()
    if target in ShopOrder.TRANSITIONS[source]:
        transitions.move_shop_order(so, target, now=timezone.now())
        assert ShopOrder.objects.get(pk=so.pk).status == target
    else:
        with pytest.raises(IllegalTransition):
            transitions.move_shop_order(so, target, now=timezone.now())
        assert ShopOrder.objects.get(pk=so.pk).status == source


def test_terminal_states_have_no_way_out():
    for status in ("cancelled", "expired", "payment_failed", "refunded"):
        assert Order.TRANSITIONS[status] == set()
    for status in ("cancelled", "refunded"):
        assert ShopOrder.TRANSITIONS[status] == set()


def test_a_move_from_a_stale_status_loses_the_compare_and_swap(buyer, shop):
    order = paid_order(buyer, shop, with_documents=False)
    stale = Order.objects.get(pk=order.pk)
    transitions.move_order(order, Order.Status.SHIPPED, now=timezone.now())
    with pytest.raises(DomainError, match="changed by someone else"):
        transitions.move_order(stale, Order.Status.CANCELLED, now=timezone.now())
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_each_transition_writes_one_event_with_actor_and_time(
    buyer, tshirt, scarf, seller, run_on_commit
):
    with run_on_commit():
        order = f.order_for(buyer, [(tshirt, 1), (scarf, 1)])
    us = order.shop_orders.get(shop__slug="maple-thread")
    fulfilment.ship_shop_order(
        shop_order=us,
        carrier="post",
        tracking_number="RR123456785US",
        actor=seller,
        now=timezone.now(),
    )
    shipped = OrderEvent.objects.get(shop_order=us, kind=OrderEvent.Kind.SHIPPED)
    assert (shipped.actor, shipped.actor_label, shipped.from_status, shipped.to_status) == (
        seller,
        seller.email,
        "paperwork_ready",
        "shipped",
    )
    for event in OrderEvent.objects.filter(order=order):
        assert event.created_at is not None and event.actor_label
    # One status event per parcel move: placed, paid, 2 x paid, 2 x paperwork ready, shipped.
    moves = OrderEvent.objects.filter(order=order).exclude(to_status="")
    assert moves.count() == 1 + 1 + 2 + 2 + 1 + 1  # + the order's own move to paperwork ready


def test_the_order_shows_its_least_advanced_live_parcel():
    def so(status):
        return ShopOrder(status=status)

    order = Order(status=Order.Status.PAID)
    rollup = transitions.rolled_up_status
    assert rollup(order, [so("shipped"), so("paperwork_ready")]) == "paperwork_ready"
    assert rollup(order, [so("shipped"), so("cancelled")]) == "shipped"
    assert rollup(order, [so("cancelled"), so("cancelled")]) == "cancelled"
    assert rollup(order, [so("refunded"), so("cancelled")]) == "refunded"
    assert rollup(order, [so("delivered"), so("delivered")]) == "delivered"


# --- Database backstops ----------------------------------------------------------------------


def test_the_database_refuses_what_the_services_never_write(buyer, shop, tshirt):
    order = paid_order(buyer, shop, with_documents=False)
    so = order.shop_orders.get()
    refusals = 0
    attempts = [
        lambda: Variant.objects.filter(pk=tshirt.pk).update(stock=-1),
        lambda: ShopOrder.objects.create(
            order=order,
            shop=shop,
            shop_currency="USD",
            commission_rate=Decimal("0.1"),
            fx_rate=Decimal(1),
            service_level="postal",
            service_label="Postal",
        ),
        lambda: Payment.objects.bulk_create(
            [
                Payment(
                    order=order,
                    provider="test",
                    amount=Decimal("1"),
                    currency="EUR",
                    idempotency_key="same",
                )
                for _ in range(2)
            ]
        ),
        lambda: WebhookEvent.objects.bulk_create(
            [WebhookEvent(provider="test", event_id="evt", event_type="x") for _ in range(2)]
        ),
        lambda: ShopOrder.objects.filter(pk=so.pk).update(amount_refunded=so.total + 1),
        lambda: Order.objects.create(
            buyer=buyer,
            checkout_token=order.checkout_token,
            currency="EUR",
            ship_name="x",
            ship_line1="x",
            ship_city="x",
            ship_country="DE",
            payment_method="card",
        ),
        lambda: Payment.objects.create(
            order=order,
            provider="test",
            amount=Decimal("-1"),
            currency="EUR",
            idempotency_key=str(uuid.uuid4()),
        ),
    ]
    for attempt in attempts:
        try:
            with transaction.atomic():
                attempt()
        except IntegrityError:
            refusals += 1
    assert refusals == len(attempts)


@pytest.mark.django_db(transaction=True)
def test_the_lock_helper_refuses_to_run_outside_a_transaction(buyer, shop):
    variant = paid_order(buyer, shop, with_documents=False).shop_orders.get().lines.get().variant
    with pytest.raises(LockOutsideTransaction):
        lock_variants([variant.pk])
    with transaction.atomic():
        assert set(lock_variants([variant.pk])) == {variant.pk}


def test_orders_cannot_be_deleted(buyer, shop, staff, client_for):
    order = paid_order(buyer, shop)
    with pytest.raises(ProtectedError):
        order.delete()
    admin = client_for(staff)
    assert admin.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    response = admin.post(
        reverse("admin:orders_order_changelist"),
        {"action": "delete_selected", "_selected_action": [order.pk]},
    )
    assert Order.objects.filter(pk=order.pk).exists()
    assert response.status_code in (200, 302)
    # Read-only in the admin: the change page shows the record and saves nothing.
    change = reverse("admin:orders_order_change", args=[order.pk])
    assert admin.get(change).status_code == 200
    admin.post(change, {"total": "0.01"})
    assert Order.objects.get(pk=order.pk).total == order.total


def test_a_sold_variant_cannot_be_deleted(buyer, tshirt):
    f.order_for(buyer, [(tshirt, 1)], pay=False)
    with pytest.raises(ProtectedError):
        Variant.objects.filter(pk=tshirt.pk).delete()
