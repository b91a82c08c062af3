"""``place_order`` for a cart of 3 shops x 2 lines: queries and latency.

    .venv/bin/python bench/orders_place_order.py --orders 200
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_orders_bench \
        .venv/bin/python bench/orders_place_order.py --orders 200

Builds a throw-away database (SQLite by default; ``BENCH_DATABASE_URL`` for an empty
PostgreSQL database the bench may truncate), loads the customs rules and a three-shop
marketplace, then for each order fills a fresh cart (not timed) and times:

- ``place_order``: price the three consignments (two customs quotes, one domestic), lock
  the six variants, decrement stock, write the order, 3 parcels, 6 lines, audit events,
  screening of the two international parcels;
- ``place_order`` + ``start_payment``: the test provider's authorisation and capture, the
  paid transitions, ledger postings, cart clean-up and the two customs declarations.

Reference in the same process: a transaction that inserts one cart row (the unit cost of a
write on this database), so figures from different machines compare as ratios. After-commit
hooks publish to the local filesystem broker (no worker runs), as on a one-machine install.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

from orders_common import buyers, marketplace, reset_database, setup_django


@contextlib.contextmanager
def _nothing():
    yield None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()

    setup_django()
    reset_database()
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from marketplace.orders import cart as carts
    from marketplace.orders.checkout import place_order, price_cart
    from marketplace.orders.models import Cart
    from marketplace.orders.payments import service as payments
    from marketplace.orders.payments.testprovider import SUCCESS

    variants = marketplace()
    people = buyers(args.orders * 2 + 30)
    card = {"card_number": SUCCESS, "expiry": "12/34"}

    def ready_cart(user):
        now = timezone.now()
        cart = carts.open_cart_for_user(user=user, now=now)
        for variant in variants:
            carts.add_to_cart(cart=cart, variant=variant, quantity=1, now=now)
        carts.set_shipping_address(cart=cart, address=user.addresses.get(), now=now)
        cart.refresh_from_db()
        total = price_cart(
            cart, currency="EUR", address=cart.shipping_address, on=now.date(), buyer=user
        ).total
        return cart, total

    def place(user, *, pay: bool, count: bool = False):
        cart, total = ready_cart(user)
        now = timezone.now()
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) if count else _nothing() as queries:
            started = time.perf_counter()
            order, _ = place_order(
                buyer=user,
                cart=cart,
                checkout_token=cart.checkout_token,
                address=cart.shipping_address,
                currency="EUR",
                payment_method="card",
                expected_total=total,
                now=now,
            )
            if pay:
                payments.start_payment(order=order, details=card, now=now)
            elapsed = time.perf_counter() - started
        return elapsed, len(queries.captured_queries) if count else 0, order

    def reference() -> float:
        started = time.perf_counter()
        with transaction.atomic():
            Cart.objects.create(created_at=timezone.now(), updated_at=timezone.now())
        return time.perf_counter() - started

    # Warm up: rule book, FX tables, screening index, templates.
    for user in people[:10]:
        place(user, pay=True)
    refs = [reference() for _ in range(200)]

    results = {}
    pool = iter(people[10:])
    for label, pay in (("place_order", False), ("place_order + payment", True)):
        times = []
        for _ in range(args.orders):
            elapsed, _count, order = place(next(pool), pay=pay)
            times.append(elapsed)
        # Queries counted on separate runs: logging them slows the timed ones down.
        counts = [place(next(pool), pay=pay, count=True)[1] for _ in range(5)]
        assert order.shop_orders.count() == 3 and order.total > 0
        times.sort()
        results[label] = {
            "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 2),
            "mean_ms": round(statistics.mean(times) * 1000, 2),
            "queries": max(counts),
            "orders_per_s_one_process": round(1 / statistics.mean(times), 1),
        }
    ref_ms = statistics.median(refs) * 1000
    for row in results.values():
        row["x_reference"] = round(row["p50_ms"] / ref_ms, 1)
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "orders": args.orders,
                "cart": "3 shops x 2 lines (US + CN international, DE domestic), buyer in DE, EUR",
                "reference_one_insert_transaction_ms": round(ref_ms, 3),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
