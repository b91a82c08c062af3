"""Catalog pages under load: requests per second and latency, beside a reference view.

    # once: a 100,000-listing catalog in a PostgreSQL database of your own
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tp_catalog .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python manage.py load_customs_rules
    DATABASE_URL=... .venv/bin/python manage.py generate_catalog --listings 100000 --clear
    # then
    DATABASE_URL=... REDIS_URL=redis://127.0.0.1:6379/8 .venv/bin/python bench/catalog_throughput.py

It starts gunicorn (the product WSGI app with ``bench/catalog_settings.py``, DEBUG off) on
loopback and drives it with ``wrk`` (Debian package ``wrk``): first ``/bench/reference/``, a
bare Django view rendering a small template through the same middleware, then category
pages, search results and listing pages, each rotating over many URLs so no single page is
measured. Every page type gets a warm-up, then alternating slices of the reference and of the
page; each page slice is divided by the reference slice beside it, and the median of those
ratios is reported (the machine may be busy with other work; adjacent slices see the same
load). Runs are repeated with the catalog cache on (the default) and off
(``LISTINGS_CACHE_SECONDS=0``: every request does all of its queries).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"

LUA = r"""
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
  table.insert(threads, thread)
end
function init(args)
  counter = id * 7919
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%.3f, "errors": %%d, "non2xx": %%d, '
    .. '"p50_ms": %%.2f, "p90_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def _django_env(cache_seconds: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="catalog_settings",
        PYTHONPATH=f"{BENCH}{os.pathsep}{ROOT}",
        DEBUG="0",
        SECRET_KEY=env.get("SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        LISTINGS_CACHE_SECONDS=str(cache_seconds),
        VAR_DIR=env.get("VAR_DIR", str(ROOT / "var" / "bench")),
        LOG_LEVEL="ERROR",
        DB_CONN_MAX_AGE="600",
    )
    return env


def collect_urls(limit: int, seed: int) -> dict[str, list[str]]:
    """Category pages, search queries and listing pages of the catalog in the database."""
    sys.path[:0] = [str(BENCH), str(ROOT)]
    os.environ.update(_django_env(0))
    import django

    django.setup()
    from django.db.models import Count

    from marketplace.listings.generator import ADJECTIVES, COLOURS, PRODUCTS
    from marketplace.listings.models import Category, Listing

    rng = random.Random(seed)
    categories = [
        c.path
        for c in Category.objects.annotate(n=Count("listings")).order_by("path")
        if c.n or c.depth == 0
    ]
    category_urls = []
    for path in categories:
        category_urls += [
            f"/c/{path}/",
            f"/c/{path}/?sort=price",
            f"/c/{path}/?page=2",
            f"/c/{path}/?origin=CN",
        ]
    words = sorted(
        {p[0] for p in PRODUCTS}
        | {m for p in PRODUCTS for m in p[3]}
        | set(ADJECTIVES)
        | set(COLOURS)
    )
    searches = set()
    while len(searches) < limit:
        query = " ".join(rng.sample(words, rng.choice([1, 1, 2])))
        extra = rng.choice(["", "", "&sort=price", "&origin=US", "&min_price=10&max_price=80"])
        searches.add(f"/search/?q={urllib.request.quote(query)}{extra}")
    ids = list(Listing.objects.public().values_list("pk", "slug").order_by("?")[:limit])
    return {
        "category": category_urls,
        "search": sorted(searches),
        "listing": [f"/l/{pk}-{slug}/" for pk, slug in ids],
        "reference": ["/bench/reference/"],
    }


def start_server(
    port: int, workers: int, cache_seconds: int, env: dict[str, str] | None = None
) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=str(ROOT / ".venv" / "bin")) or "gunicorn"
    server = subprocess.Popen(
        [
            gunicorn,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "error",
            "marketplace.wsgi:application",
        ],
        cwd=ROOT,
        env={**_django_env(cache_seconds), **(env or {})},
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/reference/", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)


def run_wrk(
    port: int,
    paths: list[str],
    *,
    seconds: int,
    connections: int,
    threads: int,
    tmp: Path,
    headers: tuple[str, ...] = (),
):
    path_file = tmp / f"paths-{abs(hash(tuple(paths))) % 10**8}.txt"
    path_file.write_text("\n".join(paths) + "\n")
    script = tmp / "rotate.lua"
    script.write_text(LUA % {"paths": path_file})
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            *(arg for header in headers for arg in ("-H", header)),
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def measure(args, urls: dict[str, list[str]], cache_seconds: int, tmp: Path) -> dict:
    """Interleaved slices: reference, page, reference, page... The ratio of each page slice to
    the reference slice next to it cancels out load that other processes put on the machine;
    the medians over the rounds are reported."""
    server = start_server(args.port, args.workers, cache_seconds)
    results: dict[str, dict] = {}

    def wrk(paths, seconds):
        return run_wrk(args.port, paths, seconds=seconds, connections=args.connections,
                       threads=args.threads, tmp=tmp)  # fmt: skip

    try:
        wrk(urls["reference"], args.warmup)
        for name in ("category", "search", "listing"):
            wrk(urls[name], args.warmup)
            slices = []
            for _round in range(args.rounds):
                reference = wrk(urls["reference"], args.seconds)
                page = wrk(urls[name], args.seconds)
                slices.append((reference, page))
            result = {
                key: statistics.median(page[key] for _ref, page in slices)
                for key in ("rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms")
            }
            result["ratio"] = statistics.median(page["rps"] / ref["rps"] for ref, page in slices)
            result["ratios"] = [round(page["rps"] / ref["rps"], 3) for ref, page in slices]
            result["reference_rps"] = statistics.median(ref["rps"] for ref, _page in slices)
            result["reference_p95_ms"] = statistics.median(ref["p95_ms"] for ref, _p in slices)
            result["errors"] = sum(page["errors"] for _ref, page in slices)
            results[name] = result
            print(
                f"  cache={cache_seconds:>3}s {name:<9} {result['rps']:8.1f} req/s "
                f"(reference {result['reference_rps']:7.1f}) ratio {result['ratio']:.2f} "
                f"{result['ratios']}  p50 {result['p50_ms']:6.1f} ms  "
                f"p95 {result['p95_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                f"errors {result['errors']}",
                flush=True,
            )
    finally:
        stop_server(server)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one slice")
    parser.add_argument("--rounds", type=int, default=5, help="reference/page slice pairs")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--port", type=int, default=18491)
    parser.add_argument("--urls", type=int, default=400, help="distinct URLs per page type")
    parser.add_argument("--cache", choices=["on", "off", "both"], default="both")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="catalog_throughput.json", help="file in bench/results/")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("warning: DATABASE_URL is not PostgreSQL; the targets are for PostgreSQL")

    urls = collect_urls(args.urls, args.seed)
    from marketplace.listings.models import Listing

    listings = Listing.objects.public().count()
    print(
        f"{listings:,} public listings; {len(urls['category'])} category, "
        f"{len(urls['search'])} search, {len(urls['listing'])} listing URLs; "
        f"{args.workers} gunicorn workers, wrk -t{args.threads} -c{args.connections}, "
        f"{args.seconds}s per run",
        flush=True,
    )
    settings_cache = [("on", 120), ("off", 0)]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, seconds in settings_cache:
            if args.cache in (label, "both"):
                runs[label] = measure(args, urls, seconds, Path(tmp))
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "listings": listings,
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "slice_seconds": args.seconds,
            "rounds": args.rounds,
        },
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / args.out
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print("| cache | page | req/s | reference req/s | x reference | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for label, results in runs.items():
        for name in ("category", "search", "listing"):
            r = results[name]
            print(
                f"| {label} | {name} | {r['rps']:.0f} | {r['reference_rps']:.0f} | "
                f"{r['ratio']:.2f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"
            )
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
