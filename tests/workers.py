"""Real Celery workers, brokers and Redis servers for tests (not eager mode).

A test that uses a worker commits its rows (``@pytest.mark.django_db(transaction=True)``)
so the worker, a separate process with its own connection, reads them from the same test
database. Workers run ``tests/worker_settings.py``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools as kombu_pools

from marketplace.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def _reset_broker_pools() -> None:
    # kombu keeps one connection pool per broker URL in global registries: empty them (a pool
    # closed but left registered refuses every later publish, eager ones included).
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def publishing_to(url: str | None = None) -> Iterator[None]:
    """Make this process publish tasks to ``url`` (default: the test Redis) for real."""
    url = url or settings.REDIS_URL
    conf = celery_app.conf
    saved = (conf.broker_url, conf.broker_write_url, conf.task_always_eager)
    conf.broker_url, conf.broker_write_url, conf.task_always_eager = url, url, False
    _reset_broker_pools()
    try:
        yield
    finally:
        conf.broker_url, conf.broker_write_url, conf.task_always_eager = saved
        _reset_broker_pools()


@contextmanager
def celery_worker(
    log: Path,
    *,
    broker_url: str | None = None,
    queues: str = "default,notifications,paperwork",
    pool: str = "prefork",
    concurrency: int = 1,
    **env: str,
) -> Iterator[subprocess.Popen]:
    """A worker process consuming ``queues``; its output goes to ``log``.

    ``env`` overrides settings through the environment (e.g. CELERY_VISIBILITY_TIMEOUT).
    """
    broker_url = broker_url or settings.REDIS_URL
    assert broker_url, "a real worker needs a Redis URL"
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
            "--pool",
            pool,
            "--concurrency",
            str(concurrency),
            "-n",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": broker_url,
            "VAR_DIR": str(log.parent / "worker-var"),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_LEVEL": "INFO",
            **env,
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def pool_children(pid: int) -> list[int]:
    """The prefork pool processes of worker ``pid`` (Linux)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, logs=()) -> None:
    """Poll ``predicate``; on timeout fail the test with the tail of the worker ``logs``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    detail = "\n".join(f"--- {p}\n{p.read_text()[-4000:]}" for p in logs if p.exists())
    pytest.fail(f"timed out waiting for {what}\n{detail}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port, to stop and start at will (never the shared
    one on 6379, which other test processes use)."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
