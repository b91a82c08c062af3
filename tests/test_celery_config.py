"""Celery is configured as the reliability notes ask, and a dead broker never fails a request."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import override_settings

from accounts.models import Notification
from accounts.services import notify
from marketplace.celery import app


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
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    app.pool.force_close_all()
    started = time.monotonic()
    try:
        note = notify(user=buyer, kind="shop_rejected", context={"shop_name": "A", "reason": "B"})
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
        app.pool.force_close_all()
    elapsed = time.monotonic() - started

    assert Notification.objects.get(pk=note.pk).email_status == Notification.EmailStatus.PENDING
    assert elapsed < 5, f"publishing hung for {elapsed:.1f}s"


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings only")
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    with override_settings():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
    assert mode == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
