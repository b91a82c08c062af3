"""Helpers for the PostgreSQL race tests: many buyers, one start gate, real connections.

Every checkout runs the real view through Django's test client in its own thread, so each
holds its own database connection, as separate web processes would. A gate releases them
together; ``HOOKS`` (marketplace.orders.locks) switches the protection off for the controls.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Address, User
from marketplace.orders.checkout import price_cart
from marketplace.orders.models import Cart, CartItem
from marketplace.orders.payments.testprovider import SUCCESS

# Kept well under PostgreSQL's 100 connections, which other test runs share.
WORKERS = 32


@dataclass
class Shopper:
    user: User
    cart: Cart
    form: dict


def make_shoppers(n: int, items_for, *, prefix: str | None = None) -> list[Shopper]:
    """``n`` buyers in Germany, each with a cart of ``items_for(i)`` = [(variant, qty)], in
    that order, and the checkout form the page would give them."""
    prefix = prefix or uuid.uuid4().hex[:6]
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            email=f"{prefix}-{i}@race.test",
            name=f"Racer {i}",
            country="DE",
            preferred_currency="EUR",
        )
        for i in range(n)
    )
    addresses = Address.objects.bulk_create(
        Address(
            user=u,
            name=u.name,
            line1="Race Street 1",
            city="Berlin",
            postcode="10117",
            country="DE",
            is_default_shipping=True,
        )
        for u in users
    )
    carts = Cart.objects.bulk_create(
        Cart(user=u, shipping_address=a, destination_country="DE", created_at=now, updated_at=now)
        for u, a in zip(users, addresses, strict=True)
    )
    items = []
    for i, cart in enumerate(carts):
        for offset, (variant, quantity) in enumerate(items_for(i)):
            items.append(
                CartItem(
                    cart=cart,
                    variant=variant,
                    quantity=quantity,
                    added_at=now + timedelta(microseconds=offset),
                )
            )
    CartItem.objects.bulk_create(items)
    shoppers = []
    totals: dict[tuple, object] = {}
    for user, address, cart in zip(users, addresses, carts, strict=True):
        key = tuple(sorted(cart.items.values_list("variant_id", "quantity")))
        if key not in totals:
            totals[key] = price_cart(cart, currency="EUR", address=address, on=now.date()).total
        shoppers.append(
            Shopper(
                user=user,
                cart=cart,
                form={
                    "checkout_token": str(cart.checkout_token),
                    "expected_total": str(totals[key]),
                    "method": "card",
                    "card_number": SUCCESS,
                    "expiry": "12/34",
                    "cvc": "123",
                },
            )
        )
    return shoppers


def shuffled(items: list, seed: int) -> list:
    items = list(items)
    random.Random(seed).shuffle(items)
    return items


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    locations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def count_errors(self, text: str) -> int:
        return sum(text in error for error in self.errors)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


def run_together(calls, *, workers: int = WORKERS) -> Outcome:
    """Run ``calls`` (callables returning a response) at once from ``workers`` threads."""
    import time

    gate = threading.Event()
    outcome = Outcome()
    lock = threading.Lock()

    def run(call):
        gate.wait()
        started = time.monotonic()
        try:
            response = call()
            with lock:
                outcome.seconds.append(time.monotonic() - started)
                outcome.statuses[response.status_code] += 1
                outcome.locations.append(response.get("Location", ""))
                exc_info = getattr(response, "exc_info", None)
                if exc_info:
                    outcome.errors.append(f"{exc_info[0].__name__}: {exc_info[1]}")
        except Exception as exc:  # a bug in the harness, not a response: keep it visible
            with lock:
                outcome.statuses[599] += 1
                outcome.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, call) for call in calls]
        gate.set()
        for future in futures:
            future.result()
    connections.close_all()
    return outcome


def signed_in_client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def checkout_call(client: Client, form: dict):
    return lambda: client.post(reverse("orders:checkout-place"), form)


def deadlock_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]
