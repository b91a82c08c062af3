"""How many destinations get a complete landed-cost quote from the bundled data.

A destination is *complete* on a date when a quote for each of the reference goods (the 33
HS subheadings the EU duty table covers), worth EUR 200 in the destination's currency (above
most de minimis limits, so duty rates are needed) and shipped from a reference origin (CN; US
for China), is neither ``incomplete`` nor without a regime. ``manage.py
customs_coverage`` prints the count and, with ``--list``, why each other destination fails.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from customs import fx
from customs.landed_cost import Consignment, ConsignmentLine, compute_quote
from customs.models import DutyRate
from customs.rulebook import RuleBook

REFERENCE_VALUE_EUR = Decimal("200.00")


@dataclass
class Coverage:
    on: date
    goods: list[str]
    complete: list[str] = field(default_factory=list)
    incomplete: dict[str, str] = field(default_factory=dict)

    @property
    def checked(self) -> int:
        return len(self.complete) + len(self.incomplete)


def reference_goods() -> list[str]:
    """The HS-6 subheadings of the EU rows of the bundled duty table."""
    codes = DutyRate.objects.filter(destination="EU", layer="mfn", data_key__startswith="MFN-")
    return sorted({c for c in codes.values_list("hs_prefix", flat=True) if len(c) == 6})


def _currency(country: str) -> str:
    from babel.numbers import get_territory_currencies

    found = get_territory_currencies(country, date(2026, 1, 1), tender=True)
    return found[0] if found else "USD"


def measure(*, on: date, destinations: list[str] | None = None) -> Coverage:
    from django_countries import countries

    book = RuleBook.from_database()
    goods = reference_goods()
    result = Coverage(on=on, goods=goods)
    for country in destinations or [code for code, _name in countries]:
        origin = "CN" if country != "CN" else "US"
        reasons: Counter[str] = Counter()
        currency = _currency(country)
        try:
            value = fx.convert(REFERENCE_VALUE_EUR, "EUR", currency, on=on)
        except fx.RateUnavailable:
            result.incomplete[country] = f"no exchange rate for {currency}"
            continue
        for hs in goods:
            c = Consignment(
                date=on,
                ship_from=origin,
                destination=country,
                currency=currency,
                lines=(
                    ConsignmentLine(
                        hs_code=hs,
                        origin=origin,
                        description="Reference article for coverage",
                        quantity=1,
                        unit_price=value,
                    ),
                ),
                shipping=Decimal("0"),
            )
            try:
                q = compute_quote(c, rules=book)
            except Exception as exc:
                reasons[type(exc).__name__] += 1
                continue
            if q.incomplete or q.regime_id is None:
                reasons[(q.warnings or ["incomplete"])[-1][:90]] += 1
        if reasons:
            result.incomplete[country] = "; ".join(f"{n}x {r}" for r, n in reasons.most_common(2))
        else:
            result.complete.append(country)
    return result


def incomplete_quote_counts(*, days: int = 30) -> list[tuple[str, int]]:
    """(destination, number of incomplete quotes saved in the last ``days``), most first."""
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from customs.models import Quote

    since = timezone.now() - timedelta(days=days)
    rows = (
        Quote.objects.filter(incomplete=True, created_at__gte=since)
        .values("destination")
        .annotate(n=Count("pk"))
        .order_by("-n", "destination")
    )
    return [(row["destination"], row["n"]) for row in rows]
