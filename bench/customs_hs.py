"""HS finder: searches per second once the in-memory index is built, and the build cost.

    .venv/bin/python bench/customs_hs.py

Reference run (same process): one ``str.casefold`` + ``re.findall`` over a query, the floor of
any tokenizer.
"""

from __future__ import annotations

import re
import time

from _customs_setup import setup_django

QUERIES = ["cotton t-shirt", "silver ring", "wristwatch", "printed books", "leather handbag",
           "cott", "ceramic mug", "wooden toy", "6109", "perfume"]  # fmt: skip


def main() -> None:
    setup_django()
    from customs.hs import reset_hs_index, search_hs

    reset_hs_index()
    start = time.perf_counter()
    search_hs("warm up")
    build = time.perf_counter() - start
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        search_hs(QUERIES[i % len(QUERIES)])
    per_s = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(n * 10):
        re.findall(r"[a-z0-9]+", QUERIES[i % len(QUERIES)].casefold())
    ref = n * 10 / (time.perf_counter() - start)
    print(f"index build (one query + tokenising 5,612 subheadings): {build * 1000:,.0f} ms")
    print(f"searches: {per_s:,.0f} /s ({1e3 / per_s:.2f} ms each), {ref / per_s:,.0f}x reference")


if __name__ == "__main__":
    main()
