"""Real Celery workers and a real (private) Redis: a worker killed mid-render, Redis down.

Each test starts its own ``redis-server`` on a free port (never the shared one on 6379) and
its own worker processes, and stops exactly those. The test commits its rows (transactional)
so the workers, separate processes, read them from the same database.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from customs.models import CustomsDocument, PaperworkJob
from marketplace.orders import tasks
from marketplace.orders.models import Order, OrderEvent, ShopOrder
from tests.orders import factories as f
from tests.orders.concurrency import make_shoppers, run_together, signed_in_client
from tests.workers import (
    PrivateRedis,
    celery_worker,
    pool_children,
    publishing_to,
    wait_until,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@contextmanager
def worker(redis_url: str, log: Path, **options):
    """A worker on every queue whose killed tasks come back fast: visibility timeout 3 s,
    customs job lease 2 s."""
    options.setdefault("CELERY_VISIBILITY_TIMEOUT", "3")
    options.setdefault("CUSTOMS_JOB_LEASE_SECONDS", "2")
    with celery_worker(log, broker_url=redis_url, **options) as process:
        yield process


def documents_by_parcel() -> dict[int, list[tuple[str, int]]]:
    found = {}
    for so in ShopOrder.objects.exclude(declaration_id=None).order_by("pk"):
        found[so.pk] = sorted(
            CustomsDocument.objects.filter(declaration_id=so.declaration_id).values_list(
                "kind", "version"
            )
        )
    return found


# A CN22 parcel gets the CN22 on A4 and at label size (customs.documents.kinds_for).
ONE_SET = [("advance_data", 1), ("cn22", 1), ("cn22_label", 1), ("invoice", 1)]


def test_a_worker_killed_while_rendering_paperwork_leaves_exactly_one_set(
    rules, private_redis, tmp_path, buyer, tshirt, settings
):
    log = tmp_path / "worker.log"
    with publishing_to(private_redis.url):
        # Paid in this process; the declaration's job and our watcher go to the broker.
        order = f.order_for(buyer, [(tshirt, 2)])
        so = order.shop_orders.get()
        assert so.paperwork_status == ShopOrder.Paperwork.QUEUED
        job = PaperworkJob.objects.get(declaration_id=so.declaration_id)
        with worker(private_redis.url, log, CUSTOMS_RENDER_DELAY_SECONDS="1.5") as process:
            wait_until(
                lambda: CustomsDocument.objects.filter(declaration_id=so.declaration_id).exists(),
                60,
                "the first document",
                [log],
            )
            children = pool_children(process.pid)
            assert children, "no pool child to kill"
            for child in children:
                os.kill(child, signal.SIGKILL)  # the pool child, mid-render
            killed_at = time.monotonic()
            assert CustomsDocument.objects.filter(declaration_id=so.declaration_id).count() < 3
            wait_until(
                lambda: ShopOrder.objects.filter(
                    pk=so.pk, paperwork_status=ShopOrder.Paperwork.READY
                ).exists(),
                90,
                "the paperwork after redelivery",
                [log],
            )
            recovered_in = time.monotonic() - killed_at
    print(f"paperwork recovered {recovered_in:.1f} s after the kill")
    assert documents_by_parcel() == {so.pk: ONE_SET}
    job.refresh_from_db()
    assert job.status == "done" and job.attempts >= 2
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    assert OrderEvent.objects.filter(shop_order=so, kind="paperwork_ready").count() == 1
    assert "WorkerLostError" in log.read_text() or "signal 9" in log.read_text()


def test_orders_placed_while_redis_is_down_commit_and_get_their_paperwork_later(
    rules, private_redis, tmp_path, tshirt, settings
):
    settings.CUSTOMS_SWEEP_AFTER_SECONDS = 0
    settings.ORDERS_SWEEP_AFTER_SECONDS = 0
    shoppers = make_shoppers(50, lambda i: [(tshirt, 1)])
    private_redis.stop()
    with publishing_to(private_redis.url):
        started = time.monotonic()
        outcome = run_together(
            [
                (
                    lambda s=s: signed_in_client(s.user).post(
                        reverse("orders:checkout-place"), s.form
                    )
                )
                for s in shoppers
            ],
            workers=10,
        )
        elapsed = time.monotonic() - started
        print(f"50 orders with Redis down: {elapsed:.1f} s, p95 {outcome.percentile(0.95):.2f} s")
        # Every order committed and was paid; nothing hung on the dead broker.
        assert outcome.server_errors == 0, outcome.errors[:3]
        assert Order.objects.filter(status=Order.Status.PAID).count() == 50
        # RELIABILITY T3.3: no hang. The publish circuit breaker (marketplace/celery.py) makes
        # each process pay for one failed publish per outage window, not one per task. Measured
        # p95 is ~1.8 s here, most of it 10 threads queueing on one variant's row lock on 2
        # cores; the bound leaves room for a loaded CI machine while still catching a hang.
        assert outcome.percentile(0.95) < 3
        assert PaperworkJob.objects.filter(status="pending").count() == 50
        assert not CustomsDocument.objects.exists()

        private_redis.start()
        log = tmp_path / "worker.log"
        with worker(private_redis.url, log, concurrency=2):
            # Beat would run these every two minutes: the work left pending is published.
            from customs.tasks import sweep_paperwork_jobs

            assert sweep_paperwork_jobs() == 50
            assert tasks.sweep_order_notifications() >= 100  # placed + paid, per order
            wait_until(
                lambda: not PaperworkJob.objects.exclude(status="done").exists(),
                180,
                "50 paperwork jobs",
                [log],
            )
            tasks.sweep_paperwork()
            last_sweep = [time.monotonic()]

            def all_notified() -> bool:
                # Events recorded while this process's publish circuit breaker was still open
                # (it stays open for a few seconds after the outage) wait for the sweeper,
                # which beat runs every two minutes; here it runs every two seconds.
                if time.monotonic() - last_sweep[0] > 2:
                    tasks.sweep_order_notifications()
                    last_sweep[0] = time.monotonic()
                return not OrderEvent.objects.filter(
                    notified_at__isnull=True, kind__in=OrderEvent.NOTIFYING
                ).exists()

            wait_until(all_notified, 60, "the notifications", [log])
    documents = documents_by_parcel()
    assert len(documents) == 50
    assert all(kinds == ONE_SET for kinds in documents.values())  # nothing lost or doubled
    assert ShopOrder.objects.filter(status=ShopOrder.Status.PAPERWORK_READY).count() == 50
    assert Order.objects.filter(status=Order.Status.PAPERWORK_READY).count() == 50


def test_the_webhook_endpoint_works_over_http(live_server, rules, buyer, tshirt):
    """The signed HTTP endpoint, through a real server socket (not the test client)."""
    import json
    import urllib.request
    from unittest import mock

    from marketplace.orders.payments.testprovider import ASYNC, SIGNATURE_HEADER, sign
    from marketplace.orders.tasks import deliver_test_webhook

    with mock.patch.object(deliver_test_webhook, "apply_async"):
        order = f.order_for(buyer, [(tshirt, 1)], details={"card_number": ASYNC, "expiry": "12/34"})
    payment = order.payments.get()
    body = json.dumps(
        {
            "id": "evt_http",
            "type": "charge.authorized",
            "data": {"reference": payment.provider_reference},
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the live server on loopback
        live_server.url + reverse("orders:payment-webhook", args=["test"]),
        data=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        assert json.loads(response.read())["result"] == "authorized -> paid"
    order.refresh_from_db()
    assert order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)
    assert Client().get("/").status_code == 200
