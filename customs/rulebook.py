"""An in-memory snapshot of the rule tables, so a quote costs no query.

Built with one query per table, kept per process for ``CACHE_SECONDS`` and dropped by
``invalidate_rules()`` after a load or an admin edit in this process (other processes pick the
change up when their snapshot expires). The selection rules (which regime, which duty rate)
live here so the landed-cost service stays a pure function of a consignment and a rule book.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from customs.models import (
    DutyRate,
    Fee,
    Regime,
    Restriction,
    SanctionedDestination,
    SdrRate,
)

CACHE_SECONDS = 60
EU_MEMBERS = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


def jurisdiction_matches(row_value: str, country: str) -> bool:
    if not row_value:
        return True
    if row_value == "EU":
        return country in EU_MEMBERS
    return row_value == country


@dataclass
class RuleBook:
    regimes: dict[str, list[Regime]] = field(default_factory=dict)
    duty_rates: dict[str, list[DutyRate]] = field(default_factory=dict)
    fees: dict[str, list[Fee]] = field(default_factory=dict)
    restrictions: list[Restriction] = field(default_factory=list)
    sanctions: dict[str, list[SanctionedDestination]] = field(default_factory=dict)
    sdr_rates: list[SdrRate] = field(default_factory=list)
    built_at: float = 0.0

    @classmethod
    def from_database(cls) -> RuleBook:
        book = cls(built_at=time.monotonic())
        regimes = defaultdict(list)
        for r in Regime.objects.filter(active=True):
            regimes[r.destination].append(r)
        book.regimes = dict(regimes)
        rates = defaultdict(list)
        for r in DutyRate.objects.filter(active=True):
            rates[r.destination].append(r)
        # Longest prefix first: the most specific rate wins.
        book.duty_rates = {
            k: sorted(v, key=lambda r: (-len(r.hs_prefix), r.pk)) for k, v in rates.items()
        }
        fees = defaultdict(list)
        for f in Fee.objects.filter(active=True):
            fees[f.destination].append(f)
        book.fees = dict(fees)
        book.restrictions = sorted(
            Restriction.objects.filter(active=True),
            key=lambda r: (-len(r.hs_prefix), -bool(r.destination), -bool(r.transport), r.pk),
        )
        sanctions = defaultdict(list)
        for s in SanctionedDestination.objects.filter(active=True):
            sanctions[s.destination].append(s)
        book.sanctions = dict(sanctions)
        book.sdr_rates = sorted(
            SdrRate.objects.filter(active=True), key=lambda r: r.effective_from, reverse=True
        )
        return book

    # --- selection -------------------------------------------------------------------------

    def regime_for(
        self,
        *,
        destination: str,
        region: str | None,
        channel: str,
        transport: str,
        ship_from: str,
        on: date,
    ) -> Regime | None:
        best, best_key = None, None
        for r in self.regimes.get(destination, ()):
            if not r.applies_on(on):
                continue
            if r.destination_region and r.destination_region != region:
                continue
            if r.channel and r.channel != channel:
                continue
            if r.transport and r.transport != transport:
                continue
            if r.ship_from and ship_from not in r.ship_from.split(","):
                continue
            key = (
                bool(r.destination_region) * 8
                + bool(r.ship_from) * 4
                + bool(r.transport) * 2
                + bool(r.channel),
                r.effective_from,
            )
            if best_key is None or key > best_key:
                best, best_key = r, key
        return best

    def duty_rate(
        self, *, destination: str, hs_code: str, origin: str, on: date, layer: str = "mfn"
    ) -> DutyRate | None:
        keys = [destination, "EU"] if destination in EU_MEMBERS else [destination]
        for key in keys:
            for r in self.duty_rates.get(key, ()):
                if (
                    r.layer == layer
                    and hs_code.startswith(r.hs_prefix)
                    and (not r.origin or r.origin == origin)
                    and r.applies_on(on)
                ):
                    return r
        return None

    def surcharges(self, *, destination: str, hs_code: str, on: date) -> list[DutyRate]:
        found, prefixes = [], set()
        for r in self.duty_rates.get(destination, ()):
            if (
                r.layer == "surcharge"
                and hs_code.startswith(r.hs_prefix)
                and r.applies_on(on)
                and r.hs_prefix not in prefixes
            ):
                found.append(r)
                prefixes.add(r.hs_prefix)
        return found

    def fees_for(self, *, destination: str, transport: str, on: date) -> list[Fee]:
        return [
            f
            for f in self.fees.get(destination, ())
            if f.applies_on(on) and (not f.transport or f.transport == transport)
        ]

    def restriction_for(
        self, *, hs_code: str, destination: str, transport: str, on: date
    ) -> Restriction | None:
        """The most specific rule: longest HS prefix, then destination, then transport."""
        for r in self.restrictions:
            if (
                hs_code.startswith(r.hs_prefix)
                and (not r.destination or r.destination == destination)
                and (not r.transport or r.transport == transport)
                and r.applies_on(on)
            ):
                return r
        return None

    def sanctions_for(
        self, *, destination: str, region: str | None, seller_country: str, on: date
    ) -> tuple[list[SanctionedDestination], list[SanctionedDestination]]:
        """(destination rules, item-value rules) that apply to this seller.

        Among destination rules the most specific seller jurisdiction wins (EU Blocking
        Statute overrides a general block for EU sellers); item-value rules (luxury bans)
        always apply on top.
        """
        base, per_item = [], []
        for s in self.sanctions.get(destination, ()):
            if not s.applies_on(on) or not jurisdiction_matches(
                s.seller_jurisdiction, seller_country
            ):
                continue
            if s.region and s.region != region:
                continue
            (per_item if s.min_item_value_eur is not None else base).append(s)
        if base:
            # Region rows and the most specific jurisdiction first.
            top = max((bool(s.region), bool(s.seller_jurisdiction)) for s in base)
            base = [s for s in base if (bool(s.region), bool(s.seller_jurisdiction)) == top]
        return base, per_item

    def has_region_sanctions(self, destination: str, on: date) -> bool:
        return any(s.region and s.applies_on(on) for s in self.sanctions.get(destination, ()))

    def sdr_rate(self, *, currency: str, on: date) -> SdrRate | None:
        for r in self.sdr_rates:
            if r.currency == currency and r.applies_on(on):
                return r
        return None


_book: RuleBook | None = None
_lock = threading.Lock()


def get_rules() -> RuleBook:
    global _book
    book = _book
    if book is None or time.monotonic() - book.built_at > CACHE_SECONDS:
        with _lock:
            book = _book
            if book is None or time.monotonic() - book.built_at > CACHE_SECONDS:
                book = _book = RuleBook.from_database()
    return book


def invalidate_rules() -> None:
    global _book
    with _lock:
        _book = None
