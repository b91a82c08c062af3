"""Celery is configured as the reliability notes ask, and a dead broker never fails a request."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.db import connection

from accounts.models import Notification
from accounts.services import notify
from marketplace.celery import app
from tests.workers import publishing_to

DEAD_BROKER = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def test_queues_and_delivery_guarantees():
    conf = app.conf
    assert {q.name for q in conf.task_queues} == {"default", "notifications", "paperwork"}
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert app.amqp.router.route({}, "accounts.tasks.deliver_notification_email")["queue"].name == (
        "notifications"
    )


@pytest.mark.django_db(transaction=True)
def test_a_dead_broker_after_commit_leaves_the_work_pending_instead_of_failing(buyer):
    """The order/shop/notification row commits; publishing fails fast; the sweeper retries."""
    started = time.monotonic()
    with publishing_to(DEAD_BROKER):
        note = notify(user=buyer, kind="shop_rejected", context={"shop_name": "A", "reason": "B"})
    elapsed = time.monotonic() - started

    assert Notification.objects.get(pk=note.pk).email_status == Notification.EmailStatus.PENDING
    assert elapsed < 5, f"publishing hung for {elapsed:.1f}s"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    assert mode == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.django_db(transaction=True)
def test_after_one_failed_publish_the_next_ones_skip_the_broker_for_a_while(buyer):
    import marketplace.celery as celery_module

    with (
        publishing_to(DEAD_BROKER),
        mock.patch.object(app.Task, "apply_async", side_effect=OSError("refused")) as send,
    ):
        for _ in range(3):
            notify(user=buyer, kind="shop_rejected", context={"shop_name": "A", "reason": "B"})

    assert send.call_count == 1
    assert celery_module._broker_down_until > time.monotonic()
    assert Notification.objects.filter(email_status="pending").count() == 3
