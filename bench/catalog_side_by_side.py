"""Catalog pages side by side: ours cached, uncached and signed in, beside a bare Django page.

    .venv/bin/python bench/catalog_side_by_side.py --sizes 1000,10000,50000          # SQLite
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_side \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/<your db> \\
        .venv/bin/python bench/catalog_side_by_side.py --sizes 1000,10000,100000     # PostgreSQL

For every catalog size it builds (once, then reuses) a generated catalog: SQLite in
``var/bench/side-<size>/``, PostgreSQL in the database ``<BENCH_DATABASE_URL>_<size>`` (created
if missing). Two gunicorn servers run the product WSGI app with ``bench/catalog_settings.py``:
one with the catalog cache on (``LISTINGS_CACHE_SECONDS=120``), one with it off (``0``). For
each page type (category, search, home, listing) wrk runs interleaved slices in rounds:

    bare reference | ours, anonymous, cache on | ours, cache off | ours, signed in (cache on)

each rotating over many URLs of that type (see ``catalog_throughput.collect_urls``). The bare
reference is ``/bench/reference/`` (a ten-line template through the same middleware) on the
cache-on server. Each slice is divided by the reference slice of its round, so load that
other processes put on the machine affects both sides of a ratio alike; medians over the
rounds are reported. Queries per page (uncached, anonymous and signed in) are counted in
process on the same database. The table is printed and written to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(BENCH), str(ROOT)]

import catalog_throughput as ct  # noqa: E402  (bench helper next to this file)

PAGES = ("category", "search", "home", "listing")
VARIANTS = ("cached", "off", "signed_in")
PYTHON = str(ROOT / ".venv" / "bin" / "python")


# --- Parent: one child process per size, then the table ------------------------------------


def _size_env(size: int) -> dict[str, str]:
    env = dict(os.environ)
    base = os.environ.get("BENCH_DATABASE_URL", "")
    if base.startswith("postgres"):
        env["DATABASE_URL"] = f"{base}_{size}"
    else:
        env.pop("DATABASE_URL", None)
    env["VAR_DIR"] = str(ROOT / "var" / "bench" / f"side-{size}")
    # BENCH_REDIS_URL: the servers share a Redis cache (as in production); without it each
    # worker process keeps its own in-memory cache. Each size starts a new catalog generation,
    # so sizes never see each other's cached fragments.
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    else:
        env.pop("REDIS_URL", None)
    return env


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    head, _slash, name = url.rpartition("/")
    with psycopg.connect(f"{head}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(size: int, env: dict[str, str]) -> None:
    """Migrate, load the customs rules and generate ``size`` listings unless already there."""
    if env.get("DATABASE_URL", "").startswith("postgres"):
        _ensure_postgres_database(env["DATABASE_URL"])
    Path(env["VAR_DIR"]).mkdir(parents=True, exist_ok=True)

    def manage(*args: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
            text=True,
        ).stdout  # fmt: skip

    manage("migrate", "-v0")
    count = manage(
        "shell", "-c", "from marketplace.listings.models import Listing; "
        "print(Listing.objects.public().count())",
    ).strip().splitlines()[-1]  # fmt: skip
    if int(count) < size * 0.95:
        print(f"  generating {size:,} listings...", flush=True)
        manage("load_customs_rules", "-v0")
        manage("generate_catalog", "--listings", str(size), "--clear")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="catalog sizes, comma-separated")
    parser.add_argument("--seconds", type=int, default=3, help="length of one slice")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18711)
    parser.add_argument("--urls", type=int, default=100, help="distinct URLs per page type")
    parser.add_argument("--out", default="", help="file in bench/results/ (default by engine)")
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        return measure_size(args)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    engine = "postgresql" if os.environ.get("BENCH_DATABASE_URL") else "sqlite"
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            env = _size_env(size)
            print(f"{engine}, {size:,} listings", flush=True)
            prepare(size, env)
            out = Path(tmp) / f"{size}.json"
            command = [PYTHON, __file__, "--one-size", str(size), "--result-file", str(out)]
            for name in ("seconds", "rounds", "warmup", "connections", "threads", "workers"):
                command += [f"--{name}", str(getattr(args, name))]
            command += ["--port", str(args.port), "--urls", str(args.urls)]
            subprocess.run(command, cwd=ROOT, env=env, check=True)
            results[size] = json.loads(out.read_text())
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "cpus": os.cpu_count(),
        "gunicorn_workers": args.workers,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "slice_seconds": args.seconds,
            "rounds": args.rounds,
        },
        "sizes": results,
    }
    ct.RESULTS.mkdir(exist_ok=True)
    out = ct.RESULTS / (args.out or f"catalog_side_by_side-{engine}.json")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print_table(report)
    print(f"\nwritten to {out.relative_to(ROOT)}")


def print_table(report: dict) -> None:
    engine = report["engine"]
    print(
        "| page | listings | bare req/s | ours cached | ours cache off | ours signed in "
        "| off p95 ms | queries (anon / signed in) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for page in PAGES:
        for size, result in report["sizes"].items():
            row = result["pages"][page]
            cells = [f"{row[v]['rps']:,.0f} ({row[v]['ratio']:.0%})" for v in VARIANTS]
            queries = result["queries"][page]
            counted = f"{queries['anonymous']} / {queries['signed_in']}"
            print(
                f"| {page}, {engine} | {int(size):,} | {row['reference_rps']:,.0f} | "
                + " | ".join(cells)
                + f" | {row['off']['p95_ms']:.0f} | {counted} |"
            )
    print("\n(ratio = req/s ÷ the bare reference's req/s in the same round, median of rounds)")


# --- Child: one size, in its own process (Django is set up once per process) --------------


def _signed_in_cookie() -> tuple[str, object]:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _created = get_user_model().objects.get_or_create(
        email="bench-buyer@example.test",
        defaults={"name": "Bench Buyer", "country": "DE"},
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"Cookie: {name}={client.cookies[name].value}", client


def _count_queries(urls: dict[str, list[str]], signed_in_client) -> dict[str, dict[str, int]]:
    from django.db import connection
    from django.test import Client

    anonymous = Client(HTTP_HOST="127.0.0.1")
    counts: dict[str, dict[str, int]] = {}
    for page in PAGES:
        url = urls[page][len(urls[page]) // 2]
        counts[page] = {}
        for label, client in (("anonymous", anonymous), ("signed_in", signed_in_client)):
            client.get(url)  # warm the per-process caches, as a running server has them
            calls: list[str] = []

            def count(execute, sql, params, many, context, calls=calls):
                calls.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts[page][label] = len(calls)
    return counts


def measure_size(args) -> None:
    urls = ct.collect_urls(args.urls, 7)  # sets Django up with the cache off
    urls["home"] = ["/"]
    from marketplace.listings.cache import bump_catalog_generation
    from marketplace.listings.models import Listing

    bump_catalog_generation()
    cookie, signed_in_client = _signed_in_cookie()
    queries = _count_queries(urls, signed_in_client)
    listings = Listing.objects.public().count()
    on_port, off_port = args.port, args.port + 1
    extra = (
        {"DATABASE_URL": os.environ.get("DATABASE_URL", "")}
        if os.environ.get("DATABASE_URL")
        else {}
    )
    servers = [
        ct.start_server(on_port, args.workers, 120, extra),
        ct.start_server(off_port, args.workers, 0, extra),
    ]
    pages = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:

            def wrk(port, paths, seconds, headers=()):
                return ct.run_wrk(port, paths, seconds=seconds, connections=args.connections,
                                  threads=args.threads, tmp=Path(tmp), headers=headers)  # fmt: skip

            plan = {
                "cached": (on_port, ()),
                "off": (off_port, ()),
                "signed_in": (on_port, (cookie,)),
            }
            for port in (on_port, off_port):
                wrk(port, urls["reference"], args.warmup)
            for page in PAGES:
                for port, headers in plan.values():
                    wrk(port, urls[page], args.warmup, headers)
                rounds = []
                for _round in range(args.rounds):
                    reference = wrk(on_port, urls["reference"], args.seconds)
                    slices = {
                        variant: wrk(port, urls[page], args.seconds, headers)
                        for variant, (port, headers) in plan.items()
                    }
                    rounds.append((reference, slices))
                row = {"reference_rps": statistics.median(r["rps"] for r, _s in rounds)}
                for variant in VARIANTS:
                    row[variant] = {
                        "rps": statistics.median(s[variant]["rps"] for _r, s in rounds),
                        "ratio": statistics.median(s[variant]["rps"] / r["rps"] for r, s in rounds),
                        "ratios": [round(s[variant]["rps"] / r["rps"], 3) for r, s in rounds],
                        "p50_ms": statistics.median(s[variant]["p50_ms"] for _r, s in rounds),
                        "p95_ms": statistics.median(s[variant]["p95_ms"] for _r, s in rounds),
                        "errors": sum(s[variant]["errors"] for _r, s in rounds),
                        "non2xx": sum(s[variant]["non2xx"] for _r, s in rounds),
                    }
                pages[page] = row
                print(
                    f"  {page:<9} bare {row['reference_rps']:7.0f}  "
                    + "  ".join(
                        f"{v} {row[v]['rps']:6.0f} ({row[v]['ratio']:.0%}, p95 "
                        f"{row[v]['p95_ms']:.0f} ms, err {row[v]['errors']}+{row[v]['non2xx']})"
                        for v in VARIANTS
                    )
                    + f"  queries {queries[page]}",
                    flush=True,
                )
    finally:
        for server in servers:
            ct.stop_server(server)
    Path(args.result_file).write_text(
        json.dumps({"listings": listings, "pages": pages, "queries": queries}, indent=2)
    )


if __name__ == "__main__":
    main()
