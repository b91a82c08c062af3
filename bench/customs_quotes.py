"""Landed-cost quotes per second through the service, with rules cached; cost as lines grow.

    .venv/bin/python bench/customs_quotes.py [--seconds 3]

Reference run (same process): the E1 formula written out by hand with Decimal (no rules, no
lookups). The ratio "quote / reference" says what the engine's rule selection, FX,
restrictions, sanctions and bookkeeping cost on top of the bare arithmetic, on any machine.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from _customs_setup import setup_django


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after a warm-up call)."""
    fn()
    n, start = 0, time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    setup_django()
    from customs.landed_cost import Consignment, ConsignmentLine, compute_quote
    from customs.rulebook import get_rules

    cent = Decimal("0.01")

    def reference():
        goods = Decimal("20.00") * 2
        base = goods + Decimal("6.00")
        vat = (base * Decimal("19") / 100).quantize(cent, rounding=ROUND_HALF_UP)
        return goods + Decimal("6.00") + Decimal("3.00") + vat

    def make(n_lines: int, destination="DE", currency="EUR") -> Consignment:
        codes = ["610910", "621410", "420292", "711311", "490199", "640399", "950300", "392690"]
        return Consignment(
            date=date(2026, 10, 15),
            ship_from="US",
            destination=destination,
            currency=currency,
            shipping=Decimal("6.00"),
            lines=tuple(
                ConsignmentLine(
                    hs_code=codes[i % len(codes)],
                    origin="US",
                    description="Men's cotton T-shirt, knitted",
                    quantity=1 + i % 3,
                    unit_price=Decimal("4.00"),
                    net_weight_kg=Decimal("0.2"),
                )
                for i in range(n_lines)
            ),
        )

    rules = get_rules()
    ref = rate(reference, args.seconds)
    print(f"reference (E1 by hand, Decimal)      {ref:12,.0f} /s")
    scenarios = [
        ("E1 DE, EUR, 1 line (IOSS, flat duty)", make(1)),
        ("DE, USD, 1 line (FX, customs rate)", make(1, currency="USD")),
        ("US, USD, 1 line (tariff lookup)", make(1, destination="US", currency="USD")),
        ("CA, CAD, 1 line (no province given)", make(1, destination="CA", currency="CAD")),
    ]
    first = None
    for label, consignment in scenarios:
        per_s = rate(lambda c=consignment: compute_quote(c, rules=rules), args.seconds)
        first = first or per_s
        print(f"{label:38s}{per_s:12,.0f} /s   {ref / per_s:6.1f}x reference")
    print("\ncost as lines grow (DE, EUR; tariff lines above EUR 150 switch to the CN rates)")
    base = None
    for n in (1, 2, 5, 10, 20, 50, 100):
        c = make(n)
        per_s = rate(lambda c=c: compute_quote(c, rules=rules), args.seconds / 2)
        base = base or per_s
        print(
            f"  {n:3d} lines  {per_s:10,.0f} quotes/s  {1e6 / per_s:8.1f} us/quote"
            f"  {base / per_s:5.1f}x the 1-line quote"
        )


if __name__ == "__main__":
    main()
