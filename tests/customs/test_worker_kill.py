"""A real Celery worker killed with SIGKILL mid-render: after redelivery, exactly one document
of each kind (RELIABILITY.md T3.2). Needs Redis; the worker is a separate process, so the test
commits its rows (transactional) and the worker reads the same database."""

from __future__ import annotations

import os
import signal
from unittest import mock

import pytest
import redis
from django.conf import settings

from customs import tasks
from customs.models import CustomsDocument, PaperworkJob
from tests.customs.factories import make_declaration
from tests.factories import ShopFactory
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _broker_url() -> str:
    # The runner's own Redis database (REDIS_URL): the test flushes it, so it must never be
    # a fixed number another process on a shared Redis may be using.
    return os.environ.get("REDIS_URL") or settings.REDIS_URL


WORKER_ENV = {
    # Short enough for a test: the killed worker's message comes back after 3 s, and a job
    # claimed more than 2 s ago counts as abandoned.
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CUSTOMS_JOB_LEASE_SECONDS": "2",
    "CUSTOMS_RENDER_DELAY_SECONDS": "1.5",
}


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_render_leaves_exactly_one_document_per_kind(rules, tmp_path):
    client = redis.Redis.from_url(_broker_url())
    client.flushdb()  # only this app's test database
    shop = ShopFactory(signatory_name="Sam Seller")
    with mock.patch.object(tasks.render_declaration_documents, "delay_on_commit"):
        declaration = make_declaration(shop, reference="KILL-1")
    job = PaperworkJob.objects.get(declaration=declaration)

    from marketplace.celery import app

    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    # A solo pool: SIGKILL takes down the worker's main process itself (T3.2).
    options = {"broker_url": _broker_url(), "queues": "paperwork", "pool": "solo", **WORKER_ENV}
    try:
        with celery_worker(logs[0], **options) as first:
            with app.connection_for_write(_broker_url()) as conn:
                app.send_task(
                    "customs.tasks.render_declaration_documents",
                    args=[job.pk],
                    queue="paperwork",
                    connection=conn,
                )
            # Mid-render: the job is claimed and at least one document is stored, not all.
            wait_until(
                lambda: CustomsDocument.objects.filter(declaration=declaration).exists(),
                60,
                "the first document",
                logs,
            )
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        job.refresh_from_db()
        assert job.status == "running"
        assert CustomsDocument.objects.filter(declaration=declaration).count() < 3

        with celery_worker(logs[1], **options):
            wait_until(
                lambda: PaperworkJob.objects.filter(pk=job.pk, status="done").exists(),
                90,
                "the redelivered job to finish",
                logs,
            )
    finally:
        client.flushdb()
    kinds = list(
        CustomsDocument.objects.filter(declaration=declaration)
        .order_by("kind")
        .values_list("kind", "version")
    )
    assert kinds == [("advance_data", 1), ("cn22", 1), ("cn22_label", 1), ("invoice", 1)]
    job.refresh_from_db()
    assert job.attempts == 2
