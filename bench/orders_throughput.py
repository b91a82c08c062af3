"""Orders per second through web + worker on loopback, and the paperwork backlog drain rate.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_orders_bench \
        .venv/bin/python bench/orders_throughput.py --seconds 30
    .venv/bin/python bench/orders_throughput.py --seconds 30      # SQLite + file broker

Builds a fresh database (as ``orders_place_order.py``), starts its own ``redis-server`` on a
free port (unless ``--file-broker``), gunicorn (2 processes x 4 threads, DEBUG off) and a
Celery worker (prefork, 2 processes, all queues) on loopback, then drives them with a small
threaded load generator (no extra dependency): every virtual buyer is a signed-in session
that adds a T-shirt from the US shop and a scarf from the Chinese shop to the cart, opens the
checkout page and pays with the test card: 4 requests and 2 international parcels (2 customs
quotes, screening, 2 declarations with CN22 + invoice + advance data) per order.

Phases, all in one run:

1. reference: ``GET /healthz`` (a bare view, same server) at the same concurrency;
2. sustained: the checkout flow for ``--seconds`` with the worker running: orders/s, and
   how much paperwork the worker finished meanwhile;
3. backlog: the worker stopped, the flow runs another ``--seconds / 2`` building a backlog;
   then a worker for the ``paperwork`` queue alone (as production runs one pool per queue)
   starts and the time to drain every pending customs job is measured.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from orders_common import buyers, marketplace, reset_database, setup_django

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCH_SECRET = "bench-only-secret-key-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def session_cookie(user) -> str:
    """A signed-in session for ``user``, as the login view would create it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


class Buyer:
    def __init__(self, base: str, session_key: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0,
                "sessionid",
                session_key,
                None,
                False,
                "127.0.0.1",
                False,
                False,
                "/",
                True,
                False,
                None,
                False,
                None,
                None,
                {},
            )
        )
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def csrf(self) -> str:
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")

    def post(self, path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf()}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback http only
            self.base + path, data=body, headers={"Referer": self.base + "/"}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", "")


TOKEN_RE = re.compile(r'name="checkout_token" value="([^"]+)"')
TOTAL_RE = re.compile(r'name="expected_total" value="([^"]+)"')


def checkout_flow(buyer: Buyer, variant_ids: list[int]) -> tuple[bool, float, str]:
    """Add two items, open the checkout, pay. Returns (ok, seconds of the pay request, why)."""
    status, _ = buyer.get("/cart/")
    for variant_id in variant_ids:
        status, _ = buyer.post("/cart/add/", {"variant": variant_id, "quantity": 1})
        if status != 302:
            return False, 0.0, f"add {status}"
    status, page = buyer.get("/checkout/")
    token, total = TOKEN_RE.search(page), TOTAL_RE.search(page)
    if status != 200 or not token or not total:
        return False, 0.0, f"checkout page {status} {page[:40] if status != 200 else ''}"
    started = time.perf_counter()
    status, location = buyer.post(
        "/checkout/place/",
        {
            "checkout_token": token.group(1),
            "expected_total": total.group(1),
            "method": "card",
            "card_number": "4242424242424242",
            "expiry": "12/34",
            "cvc": "123",
        },
    )
    elapsed = time.perf_counter() - started
    ok = status == 302 and location.startswith("/orders/TP-")
    return ok, elapsed, "" if ok else f"place {status} {location}"


def run_load(seconds: float, threads: int, job) -> dict:
    """Run ``job(i)`` from ``threads`` threads until ``seconds`` pass; collect outcomes."""
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    lock = threading.Lock()
    done, failed, latencies, reasons = [0], [0], [], {}

    def worker():
        while time.monotonic() < deadline:
            with lock:
                i = next(counter)
            ok, elapsed, why = job(i)
            with lock:
                if ok:
                    done[0] += 1
                    latencies.append(elapsed)
                else:
                    failed[0] += 1
                    reasons[why] = reasons.get(why, 0) + 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "ok": done[0],
        "failed": failed[0],
        "per_s": round(done[0] / wall, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1) if latencies else None,
        "seconds": round(wall, 1),
        "errors": reasons,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--file-broker", action="store_true")
    args = parser.parse_args()

    # Sessions are signed: this process and the servers must share the key.
    os.environ["SECRET_KEY"] = BENCH_SECRET
    var = setup_django()
    reset_database()
    from django.conf import settings
    from django.db import connection

    variants = marketplace()
    by_shop = {v.shop.slug: v.pk for v in variants}
    flow_variants = [by_shop["bench-us"], by_shop["bench-cn"]]
    people = buyers(int(args.seconds * 1.5 * 40) + 200)
    sessions = [session_cookie(user) for user in people]
    connection.close()

    procs: list[subprocess.Popen] = []
    redis_url = ""
    if not args.file_broker:
        redis_port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(var),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(redis_port)
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
    db = settings.DATABASES["default"]
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DATABASE_URL": database_url,
        "VAR_DIR": str(var),
        "DEBUG": "0",
        "SECRET_KEY": BENCH_SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "ERROR",
        "DB_CONN_MAX_AGE": "600",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONPATH": str(ROOT),
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    port = free_port()
    log = open(var / "servers.log", "w")  # noqa: SIM115 - closed at the end
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "marketplace.wsgi",
            "-w",
            str(args.web_workers),
            "-k",
            "gthread",
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    procs.append(web)
    wait_port(port)
    base = f"http://127.0.0.1:{port}"

    def start_worker(queues: str = "paperwork,notifications,default") -> subprocess.Popen:
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
                "2",
                "-l",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"bench-{time.monotonic_ns()}@orders",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(process)
        return process

    def stop(process: subprocess.Popen) -> None:
        """Warm shutdown: SIGTERM to the main process only, so running jobs finish (a
        signal to the whole group would kill pool children mid-job and leave their jobs
        leased until the lease runs out)."""
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    from customs.models import PaperworkJob
    from marketplace.orders.models import Order

    results: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "broker": "redis" if redis_url else "filesystem",
        "threads": args.threads,
        "web": f"gunicorn {args.web_workers} x 4 threads",
        "worker": "celery prefork 2",
    }
    sessions_left = iter(sessions)
    session_lock = threading.Lock()

    def flow_job(_i: int):
        with session_lock:
            key = next(sessions_left)
        return checkout_flow(Buyer(base, key), flow_variants)

    def healthz_job(_i: int):
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=30) as response:  # noqa: S310
                ok = response.status == 200
        except urllib.error.URLError:
            ok = False
        return ok, time.perf_counter() - started, "" if ok else "healthz"

    try:
        worker = start_worker()
        # Warm both (imports, rule book, screening index) before measuring.
        run_load(3, 2, flow_job)
        results["reference_healthz"] = run_load(min(10, args.seconds), args.threads, healthz_job)

        jobs_before = PaperworkJob.objects.filter(status="done").count()
        results["sustained"] = run_load(args.seconds, args.threads, flow_job)
        connection.close()
        results["sustained"]["paperwork_jobs_done_meanwhile"] = (
            PaperworkJob.objects.filter(status="done").count() - jobs_before
        )
        results["sustained"]["paperwork_backlog_at_end"] = PaperworkJob.objects.exclude(
            status="done"
        ).count()

        # Let the worker catch up, then stop it: orders keep coming with no worker, and
        # then one worker drains the backlog they left.
        caught_up = time.monotonic()
        while PaperworkJob.objects.exclude(status="done").exists():
            if time.monotonic() - caught_up > 300:
                break
            time.sleep(0.5)
            connection.close()
        results["sustained"]["seconds_to_catch_up_after_load"] = round(
            time.monotonic() - caught_up, 1
        )
        stop(worker)
        results["backlog_orders"] = run_load(args.seconds / 2, args.threads, flow_job)
        connection.close()
        pending = PaperworkJob.objects.exclude(status="done").count()
        started = time.monotonic()
        # A dedicated paperwork pool, as in production (README "one pool per queue").
        start_worker("paperwork")
        while PaperworkJob.objects.exclude(status="done").exists():
            if time.monotonic() - started > 600:
                break
            time.sleep(0.2)
            connection.close()
        drained_in = time.monotonic() - started
        results["backlog_drain"] = {
            "jobs": pending,
            "seconds": round(drained_in, 1),
            "jobs_per_s": round(pending / drained_in, 2) if drained_in else None,
            "documents_per_s": round(pending * 3 / drained_in, 2) if drained_in else None,
            "left": PaperworkJob.objects.exclude(status="done").count(),
        }
        results["orders_total"] = Order.objects.count()
    finally:
        for process in reversed(procs):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        log.close()
    reference = results["reference_healthz"]["per_s"]
    results["sustained"]["x_reference_requests"] = round(
        results["sustained"]["per_s"] * 4 / reference, 3
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"orders_throughput-{connection.vendor}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"server logs: {var / 'servers.log'}", file=sys.stderr)


if __name__ == "__main__":
    main()
