"""A real Celery worker killed with SIGKILL mid-render: after redelivery, exactly one document
of each kind (RELIABILITY.md T3.2). Needs Redis; the worker is a separate process, so the test
commits its rows (transactional) and the worker reads the same database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from customs import tasks
from customs.models import CustomsDocument, PaperworkJob
from tests.customs.factories import make_declaration
from tests.factories import ShopFactory

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 4  # this app's own Redis database for worker tests
pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _broker_url() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL") or settings.REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{REDIS_DB}"))


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _start_worker(name: str, tmp_path: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.customs.worker_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": _broker_url(),
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        # Short enough for a test: the killed worker's message comes back after 3 s, and a
        # job claimed more than 2 s ago counts as abandoned.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CUSTOMS_JOB_LEASE_SECONDS": "2",
        "CUSTOMS_RENDER_DELAY_SECONDS": "1.5",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "-Q", "paperwork",
         "--pool=solo", "-n", f"{name}@customs-test", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait(predicate, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    detail = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"timed out waiting for {what}\n{detail}")


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
    first = _start_worker("a", tmp_path, logs[0])
    second = None
    try:
        with app.connection_for_write(_broker_url()) as conn:
            app.send_task(
                "customs.tasks.render_declaration_documents",
                args=[job.pk],
                queue="paperwork",
                connection=conn,
            )
        # Mid-render: the job is claimed and at least one document is stored, not all.
        _wait(
            lambda: CustomsDocument.objects.filter(declaration=declaration).exists(),
            60, "the first document", logs,
        )  # fmt: skip
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        job.refresh_from_db()
        assert job.status == "running"
        assert CustomsDocument.objects.filter(declaration=declaration).count() < 3

        second = _start_worker("b", tmp_path, logs[1])
        _wait(
            lambda: PaperworkJob.objects.filter(pk=job.pk, status="done").exists(),
            90, "the redelivered job to finish", logs,
        )  # fmt: skip
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        client.flushdb()
    kinds = list(
        CustomsDocument.objects.filter(declaration=declaration)
        .order_by("kind")
        .values_list("kind", "version")
    )
    assert kinds == [("advance_data", 1), ("cn22", 1), ("invoice", 1)]
    job.refresh_from_db()
    assert job.attempts == 2
