"""Row locks for the order services.

Rules (Saleor's ``lock_objects``, pretix's sorted advisory locks):

- Locks are taken inside ``transaction.atomic()``; the helpers refuse to run outside one,
  because a lock outside a transaction is released at once and protects nothing.
- Rows of one table are locked in **one query ordered by primary key**. Two checkouts whose
  carts hold the same variants in a different order then queue behind each other instead
  of each holding one row and waiting for the other's (a deadlock).
- Across tables the order is always cart -> order -> shop orders -> payment -> variants.

``HOOKS`` is a test-only switch: the reliability tests turn the protection off to show that
the race they test really happens without it (pretix's "race condition happens if we
disable locks" controls). Nothing in the product sets it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from marketplace.listings.models import Variant


@dataclass
class RaceHooks:
    # Read rows without FOR UPDATE (and skip the application-level "already done?" checks).
    skip_locks: bool = False
    # Write stock as "old value minus n" computed in Python, not a guarded UPDATE.
    unguarded_stock_write: bool = False
    # Lock variants one query per row, in the cart's order (the deadlock-prone way).
    lock_one_by_one: bool = False
    # Widen race windows: sleep after reading stock, and between one-by-one row locks.
    pause_after_check: float = 0.0
    pause_between_locks: float = 0.0
    # What the races did, for the tests to assert on ("stock_backstop", "duplicate_submit"...).
    counters: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        self.__init__()

    def count(self, name: str) -> None:
        self.counters[name] += 1


HOOKS = RaceHooks()


class LockOutsideTransaction(RuntimeError):
    pass


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise LockOutsideTransaction("row locks must be taken inside transaction.atomic()")


def lock_rows(queryset, ids: Iterable[int]) -> dict[int, object]:
    """Lock the rows ``ids`` of ``queryset``'s model in pk order, in one query."""
    _require_atomic()
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    if HOOKS.skip_locks:
        return {row.pk: row for row in queryset.filter(pk__in=wanted)}
    # of=("self",): lock only this table's rows, not the joined listing and shop rows.
    rows = queryset.select_for_update(of=("self",)).filter(pk__in=wanted).order_by("pk")
    return {row.pk: row for row in rows}


def lock_variants(ids_in_cart_order: list[int]) -> dict[int, Variant]:
    """Lock the variants a checkout or a restock touches, with listing and shop loaded."""
    queryset = Variant.objects.select_related("listing", "listing__shop")
    if HOOKS.lock_one_by_one and not HOOKS.skip_locks:
        # The deadlock-prone way, for the control test only: one row at a time, cart order.
        _require_atomic()
        locked = {}
        for pk in ids_in_cart_order:
            locked[pk] = queryset.select_for_update(of=("self",)).get(pk=pk)
            if HOOKS.pause_between_locks:
                time.sleep(HOOKS.pause_between_locks)
        return locked
    return lock_rows(queryset, ids_in_cart_order)


def lock_one(queryset, pk: int):
    """Lock one row (cart, order, payment); raises ``DoesNotExist`` like ``get``."""
    _require_atomic()
    if HOOKS.skip_locks:
        return queryset.get(pk=pk)
    return queryset.select_for_update(of=("self",)).get(pk=pk)


# A checkout waits at most this long for a row lock, then tells the buyer to try again
# (pretix uses 3 s). Long enough for a queue of checkouts on one popular variant.
LOCK_TIMEOUT_SECONDS = 10


def cap_lock_wait(seconds: float | None = None) -> None:
    """Bound lock waits for the rest of this transaction (PostgreSQL; SQLite has busy_timeout)."""
    _require_atomic()
    seconds = LOCK_TIMEOUT_SECONDS if seconds is None else seconds
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", [f"{int(seconds * 1000)}ms"])
