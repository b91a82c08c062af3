"""Races on PostgreSQL with real, separate connections; each with a control without protection.

pretix's rule: a race test first shows the race happens when the protection is switched off
(``locks.HOOKS``), so a passing test means the protection works, not that the race never
came. Every run ends with the stock invariant: initial stock == stock + sold not refunded.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.core.errors import DomainError
from marketplace.listings.models import Variant
from marketplace.orders.locks import HOOKS
from marketplace.orders.models import (
    Order,
    OrderEvent,
    Payment,
    ShopOrder,
    TestProviderCharge,
    WebhookEvent,
)
from marketplace.orders.payments.testprovider import ASYNC, sign
from marketplace.orders.services import fulfilment, refunds
from tests.orders import factories as f
from tests.orders.concurrency import (
    checkout_call,
    deadlock_count,
    make_shoppers,
    run_together,
    shuffled,
    signed_in_client,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAID = (Order.Status.PAID, Order.Status.PAPERWORK_READY)


@pytest.fixture
def two_german_shops(db):
    """Domestic sales (German shops, German buyers): the races need no customs tables."""
    from tests.factories import ShopFactory

    first = f.german_shop()
    second = ShopFactory(
        display_name="Alpine Wool", slug="alpine-wool", country="DE", currency="EUR"
    )
    return first, second


def initial_stock(variants) -> dict[int, int]:
    return {v.pk: Variant.objects.get(pk=v.pk).stock for v in variants}


# --- 200 checkouts of one unit on 50 units -------------------------------------------------


def stampede(shop, *, buyers: int = 200, units: int = 50):
    variant = f.make_listing(
        shop, title="Limited print", price="30.00", stock=units, sku="PRINT-1", customs=f.TEAPOT
    )
    shoppers = make_shoppers(buyers, lambda i: [(variant, 1)])
    initial = initial_stock([variant])
    calls = [checkout_call(signed_in_client(s.user), s.form) for s in shoppers]
    return variant, initial, run_together(calls)


def test_control_without_locks_the_stampede_oversells(two_german_shops, stock_invariant):
    HOOKS.skip_locks = True
    HOOKS.unguarded_stock_write = True
    HOOKS.pause_after_check = 0.05  # widen the read-then-write window
    _variant, initial, _outcome = stampede(two_german_shops[0], buyers=60, units=10)
    paid = Order.objects.filter(status__in=PAID).count()
    # Lost updates: more orders than units, and the stock no longer adds up.
    assert paid > 10
    assert stock_invariant(initial)


def test_200_checkouts_on_50_units_sell_exactly_50(two_german_shops, stock_invariant):
    deadlocks_before = deadlock_count()
    variant, initial, outcome = stampede(two_german_shops[0])
    orders = Order.objects.filter(status__in=PAID)
    sold = sum(
        line.quantity
        for so in ShopOrder.objects.filter(order__in=orders)
        for line in so.lines.all()
    )
    report = {
        "test": "T1.2",
        "successes": orders.count(),
        "sold": sold,
        "stock_end": Variant.objects.get(pk=variant.pk).stock,
        "5xx": outcome.server_errors,
        "statuses": dict(outcome.statuses),
        "p95_s": round(outcome.percentile(0.95), 3),
    }
    print(json.dumps(report))
    assert orders.count() == 50 and sold == 50
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert not Variant.objects.filter(stock__lt=0).exists()
    assert outcome.server_errors == 0, outcome.errors[:3]
    assert sum(outcome.statuses.values()) == 200
    # The 150 others were told the item sold out, and nothing was charged to them.
    assert Payment.objects.count() == 50 == TestProviderCharge.objects.count()
    assert not Order.objects.exclude(status__in=PAID).exists()
    assert deadlock_count() == deadlocks_before
    assert stock_invariant(initial) == []
    # One "paid" audit event per paid order, each with an actor label and a time.
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.PAID).count() == 50


# --- Multi-shop carts in random item order ------------------------------------------------------


def multi_shop_carts(shops, *, carts: int, seed: int):
    a, b = shops
    variants = [
        f.make_listing(
            shop,
            title=f"Item {shop.slug} {n}",
            price="10.00",
            stock=1000,
            sku=f"{shop.slug[:5].upper()}-{n}",
            customs=f.TEAPOT,
        )
        for shop in (a, b)
        for n in range(3)
    ]
    shoppers = make_shoppers(carts, lambda i: [(v, 1) for v in shuffled(variants, seed + i)])
    return variants, shoppers


def test_control_locking_rows_one_by_one_in_cart_order_deadlocks(two_german_shops):
    HOOKS.lock_one_by_one = True
    HOOKS.pause_between_locks = 0.05
    _variants, shoppers = multi_shop_carts(two_german_shops, carts=16, seed=7)
    outcome = run_together(
        [checkout_call(signed_in_client(s.user), s.form) for s in shoppers], workers=16
    )
    assert outcome.count_errors("deadlock detected") >= 1, (outcome.statuses, outcome.errors)


def test_multi_shop_carts_in_random_order_never_deadlock_or_split(
    two_german_shops, stock_invariant
):
    variants, shoppers = multi_shop_carts(two_german_shops, carts=100, seed=11)
    initial = initial_stock(variants)
    deadlocks_before = deadlock_count()
    outcome = run_together([checkout_call(signed_in_client(s.user), s.form) for s in shoppers])
    assert outcome.server_errors == 0, outcome.errors[:3]
    assert outcome.count_errors("deadlock") == 0
    assert deadlock_count() == deadlocks_before
    orders = Order.objects.all()
    assert orders.count() == 100
    for order in orders.prefetch_related("shop_orders__lines"):
        parcels = list(order.shop_orders.all())
        # No missing or partial parcel: both shops, three lines each.
        assert sorted(so.shop.slug for so in parcels) == sorted(s.slug for s in two_german_shops)
        assert all(so.lines.count() == 3 for so in parcels)
        assert order.total == sum(so.total for so in parcels)
    assert stock_invariant(initial) == []


# --- The same checkout submitted ten times at once --------------------------------------------


def ten_submits(shop):
    variant = f.make_listing(shop, price="15.00", stock=5, sku="DUP-1", customs=f.TEAPOT)
    (shopper,) = make_shoppers(1, lambda i: [(variant, 2)])
    clients = [signed_in_client(shopper.user) for _ in range(10)]
    outcome = run_together([checkout_call(c, shopper.form) for c in clients], workers=10)
    return variant, outcome


def test_control_without_the_cart_lock_the_submits_reach_the_unique_constraint(
    two_german_shops,
):
    HOOKS.skip_locks = True
    HOOKS.pause_after_check = 0.1
    _variant, _outcome = ten_submits(two_german_shops[0])
    # They raced all the way to the INSERT; the database constraint kept it to one order.
    assert HOOKS.counters["duplicate_submit_rejected_by_constraint"] >= 1
    assert Order.objects.count() == 1


def test_ten_identical_concurrent_submits_make_one_order(two_german_shops, stock_invariant):
    initial = {}
    variant, outcome = ten_submits(two_german_shops[0])
    initial[variant.pk] = 5
    order = Order.objects.get()
    assert order.status in PAID
    assert set(outcome.locations) == {order.get_absolute_url()}
    assert outcome.server_errors == 0, outcome.errors[:3]
    assert Variant.objects.get(pk=variant.pk).stock == 3  # decremented once
    assert order.shop_orders.count() == 1
    assert Payment.objects.count() == 1 == TestProviderCharge.objects.count()
    assert HOOKS.counters["duplicate_submit_rejected_by_constraint"] == 0
    assert stock_invariant(initial) == []


# --- A webhook replayed five times at once ------------------------------------------------


def replayed_webhook(shop):
    from unittest import mock

    from marketplace.orders.tasks import deliver_test_webhook

    variant = f.make_listing(shop, price="15.00", stock=5, sku="HOOK-1", customs=f.TEAPOT)
    buyer = make_shoppers(1, lambda i: [(variant, 1)])[0].user
    # Hold back the provider's own delivery: the test delivers the event itself, five times.
    with mock.patch.object(deliver_test_webhook, "apply_async"):
        order = f.order_for(buyer, [], details={"card_number": ASYNC, "expiry": "12/34"})
    assert order.status == Order.Status.PENDING_PAYMENT
    payment = order.payments.get()
    body = json.dumps(
        {
            "id": "evt_replay",
            "type": "charge.authorized",
            "data": {"reference": payment.provider_reference},
        }
    ).encode()
    url = reverse("orders:payment-webhook", args=["test"])

    def deliver():
        from django.test import Client

        return Client(raise_request_exception=False).post(
            url, body, content_type="application/json", HTTP_TRADEPOST_SIGNATURE=sign(body)
        )

    return order, run_together([deliver for _ in range(5)], workers=5)


def test_control_without_recording_first_the_replays_all_get_processed(two_german_shops):
    HOOKS.skip_locks = True
    HOOKS.pause_after_check = 0.2
    order, _outcome = replayed_webhook(two_german_shops[0])
    assert HOOKS.counters["webhook_dispatch"] >= 2  # the race happened
    assert HOOKS.counters["webhook_duplicate_rejected_by_constraint"] >= 1
    assert WebhookEvent.objects.count() == 1
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAID).count() == 1


def test_a_webhook_replayed_five_times_at_once_pays_once(two_german_shops):
    order, outcome = replayed_webhook(two_german_shops[0])
    assert outcome.statuses == {200: 5}, outcome.errors
    assert HOOKS.counters["webhook_dispatch"] == 1
    assert WebhookEvent.objects.count() == 1
    order.refresh_from_db()
    assert order.status in PAID
    payment = order.payments.get()
    assert payment.status == Payment.Status.CAPTURED
    assert TestProviderCharge.objects.get().captured == payment.amount
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.PAID).count() == 1


# --- Cancel and ship at the same moment ------------------------------------------------------


def test_cancel_racing_ship_has_exactly_one_winner(two_german_shops, stock_invariant):
    shop = two_german_shops[0]
    from accounts.models import ShopMembership
    from tests.factories import MembershipFactory, UserFactory

    owner = UserFactory(email="race-owner@example.test")
    MembershipFactory(shop=shop, user=owner, role=ShopMembership.Role.OWNER)
    variant = f.make_listing(shop, price="9.00", stock=100, sku="RACE-1", customs=f.TEAPOT)
    shoppers = make_shoppers(20, lambda i: [(variant, 1)])
    for s in shoppers:
        f.order_for(s.user, [], details=f.GOOD_CARD)
    initial = {variant.pk: 100}
    results = {"shipped": 0, "cancelled": 0, "refused": 0}
    tally = threading.Lock()

    def attempt(action, pk):
        def call():
            # Each thread its own row instance, as separate requests would have.
            shop_order = ShopOrder.objects.select_related("order", "shop").get(pk=pk)
            try:
                if action == "ship":
                    fulfilment.ship_shop_order(
                        shop_order=shop_order,
                        carrier="dhl",
                        tracking_number="JD0146000038",
                        actor=owner,
                        now=timezone.now(),
                    )
                else:
                    refunds.cancel_shop_order(
                        shop_order=shop_order,
                        actor=owner,
                        reason="Out of stock",
                        now=timezone.now(),
                    )
                key = "shipped" if action == "ship" else "cancelled"
            except DomainError:
                key = "refused"
            with tally:
                results[key] += 1
            return _Done()

        return call

    calls = []
    for pk in ShopOrder.objects.values_list("pk", flat=True):
        calls += [attempt("ship", pk), attempt("cancel", pk)]
    outcome = run_together(calls, workers=16)
    assert outcome.server_errors == 0, outcome.errors[:3]
    assert results["shipped"] + results["cancelled"] == 20
    assert results["refused"] == 20
    for so in ShopOrder.objects.all():
        assert so.status in ("shipped", "cancelled")
        assert (so.status == "cancelled") == (so.amount_refunded == so.total)
    assert stock_invariant(initial) == []


class _Done:
    status_code = 200

    def get(self, key, default=""):
        return default


def test_order_rows_are_locked_in_one_query_ordered_by_pk(two_german_shops):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketplace.orders.locks import lock_variants

    variants = [
        f.make_listing(two_german_shops[0], sku=f"LK-{n}", customs=f.TEAPOT) for n in range(3)
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        lock_variants([v.pk for v in reversed(variants)])
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert 'ORDER BY "listings_variant"."id" ASC' in locking[0]
    assert 'FOR UPDATE OF "listings_variant"' in locking[0]


def test_a_lock_wait_is_bounded(two_german_shops):
    """A checkout stuck behind a long lock gives up with a message, not a hung request."""
    import threading

    from marketplace.orders import locks

    variant = f.make_listing(
        two_german_shops[0], price="5.00", stock=3, sku="SLOW-1", customs=f.TEAPOT
    )
    (shopper,) = make_shoppers(1, lambda i: [(variant, 1)])
    held = threading.Event()
    release = threading.Event()

    def hold_the_row():
        from django.db import connection as own

        with transaction.atomic():
            Variant.objects.select_for_update().get(pk=variant.pk)
            held.set()
            release.wait(10)
        own.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    held.wait(5)
    original = locks.LOCK_TIMEOUT_SECONDS
    locks.LOCK_TIMEOUT_SECONDS = 0.5
    try:
        started = time.monotonic()
        response = signed_in_client(shopper.user).post(
            reverse("orders:checkout-place"), shopper.form
        )
        elapsed = time.monotonic() - started
    finally:
        locks.LOCK_TIMEOUT_SECONDS = original
        release.set()
        holder.join()
    assert response.status_code == 302 and response["Location"] == reverse("orders:checkout")
    assert elapsed < 5
    assert HOOKS.counters["lock_timeout"] == 1
    assert not Order.objects.exists()


# --- No row lock held while the provider is called ------------------------------------------


def test_no_row_lock_is_held_while_stripe_captures(
    two_german_shops, stripe_settings, stripe_proxy, localstripe
):
    """Stripe (localstripe, behind a proxy that makes the capture take 2 s) is capturing;
    meanwhile another transaction locks and updates the order and the payment at once."""
    from marketplace.orders.models import Payment
    from marketplace.orders.payments import service as payments
    from tests.orders.stripe_fakes import SUCCESS, Fault, browser_pays

    stripe_settings.STRIPE_TIMEOUT_SECONDS = 10
    variant = f.make_listing(two_german_shops[0], price="15.00", stock=5, sku="SLOW-1")
    buyer = make_shoppers(1, lambda i: [(variant, 1)])[0].user
    order = f.order_for(buyer, [])
    payment = order.payments.get()
    browser_pays(localstripe, payment.provider_reference, SUCCESS)
    proxy = stripe_proxy
    proxy.faults.append(Fault("/capture", "delay", seconds=2))
    outcome = {}

    def settle():
        from django.db import connection

        try:
            outcome["state"] = payments.sync_payment(payment=payment, now=timezone.now()).state
        finally:
            connection.close()

    worker = threading.Thread(target=settle)
    worker.start()
    deadline = time.monotonic() + 10
    while not any(line.endswith("/capture") for line in proxy.seen):
        assert time.monotonic() < deadline, "the capture never started"
        time.sleep(0.01)
    started = time.monotonic()
    with transaction.atomic():
        # NOWAIT: raises at once if the capturing thread held either row.
        Order.objects.select_for_update(nowait=True).filter(pk=order.pk).update(buyer_language="de")
        Payment.objects.select_for_update(nowait=True).filter(pk=payment.pk).update(
            card_last4="4242"
        )
    assert time.monotonic() - started < 1
    assert worker.is_alive()  # the provider call was still under way
    worker.join(15)

    assert outcome["state"] == "paid"
    order.refresh_from_db()
    assert order.status in PAID
    assert order.buyer_language == "de"
