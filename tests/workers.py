"""Start a real Celery worker process for a test (not eager mode).

The test must commit its rows (``@pytest.mark.django_db(transaction=True)``) so the worker,
which has its own database connection, can read them. The worker uses the same settings
module, the test database and the test's Redis database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from marketplace.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@contextmanager
def publishing_to_broker() -> Iterator[None]:
    """Make ``delay()`` in this process publish to Redis instead of running eagerly."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


@contextmanager
def celery_worker(
    *,
    queues: str = "default,notifications,paperwork",
    env: dict | None = None,
    concurrency: int = 1,
    pool: str = "prefork",
) -> Iterator[subprocess.Popen]:
    """A worker subprocess consuming ``queues`` from the test's Redis database."""
    assert settings.REDIS_URL, "a real worker needs REDIS_URL"
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings_test",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        **(env or {}),
    }
    # Start from an empty queue: nothing left over from an earlier test.
    celery_app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "marketplace",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for(predicate: Callable[[], bool], *, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
