"""An in-memory snapshot of the rule tables, so a quote costs no query.

Built with one query per table, kept per process for ``CACHE_SECONDS`` and dropped by
``invalidate_rules()`` after a load or an admin edit in this process (other processes pick the
change up when their snapshot expires). The selection rules (which regime, which duty rate)
live here so the landed-cost service stays a pure function of a consignment and a rule book.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

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


TERRITORIES_FILE = Path(__file__).resolve().parent / "data" / "rules" / "territories.csv"


@dataclass(frozen=True)
class Territory:
    """A place whose customs or VAT area is not its country's (customs/data/rules/territories.csv).

    ``customs_areas`` / ``vat_areas``: the areas it belongs to (``EU``, ``GB``, ``CH`` ...);
    empty: its own. A territory with a region (``ES-CN``) or a postcode-only one (``DE-HEL``)
    needs a regime of its own for that region; the country's regime never applies to it.
    """

    key: str
    country: str
    region: str
    postcode: re.Pattern | None
    name: str
    customs_areas: frozenset[str]
    vat_areas: frozenset[str]
    source: str
    # Priced with this country's rules (Monaco as France, the Isle of Man as the UK,
    # Liechtenstein and Büsingen as Switzerland).
    treat_as: str = ""

    @property
    def region_key(self) -> str:
        return self.region or self.key


@cache
def territories() -> tuple[Territory, ...]:
    with TERRITORIES_FILE.open(encoding="utf-8", newline="") as fh:
        return tuple(
            Territory(
                key=row["key"],
                country=row["country"],
                region=row["region"],
                postcode=re.compile(row["postcode_pattern"]) if row["postcode_pattern"] else None,
                name=row["name"],
                customs_areas=frozenset(a for a in row["customs_area"].split("+") if a),
                vat_areas=frozenset(a for a in row["vat_area"].split("+") if a),
                source=row["source"],
                treat_as=row["treat_as"],
            )
            for row in csv.DictReader(fh)
        )


def territory_of(
    country: str, *, postcode: str = "", region: str | None = None
) -> Territory | None:
    """The special territory an address is in, by region code or postcode, if any."""
    country = country.upper()
    for t in territories():
        if t.country != country:
            continue
        if t.postcode is None and not t.region:
            return t  # the whole country (Monaco, Jersey ...)
        if region and t.region and region.upper() == t.region:
            return t
        if (
            postcode
            and t.postcode is not None
            and t.postcode.match(postcode.replace(" ", "").upper())
        ):
            return t
    return None


def _areas(country: str, territory: Territory | None) -> tuple[frozenset[str], frozenset[str]]:
    if territory is not None:
        return territory.customs_areas or frozenset({territory.key}), territory.vat_areas or (
            frozenset({territory.key})
        )
    if country in EU_MEMBERS:
        return frozenset({"EU"}), frozenset({"EU"})
    return frozenset({country}), frozenset({country})


def crosses_customs_border(
    origin: str, destination: str, *, postcode: str = "", region: str | None = None
) -> bool:
    """Whether goods sent from ``origin`` to this destination are imported (duty, import tax,
    a customs form). Not within one customs and VAT area: US->US, DE->FR, GB->Northern
    Ireland, FR->Monaco. Special territories outside the EU VAT area (Canary Islands, Ceuta,
    Heligoland, Livigno ...) are imports even from their own country."""
    origin, destination = origin.upper(), destination.upper()
    src_customs, src_vat = _areas(origin, territory_of(origin))
    dst = territory_of(destination, postcode=postcode, region=region)
    dst_customs, dst_vat = _areas(destination, dst)
    return not (src_customs & dst_customs and src_vat & dst_vat)


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

    def surcharges(
        self, *, destination: str, hs_code: str, on: date, origin: str = ""
    ) -> list[DutyRate]:
        """Duty layers on top of MFN (US s.122, s.301 on Chinese origin ...): the most
        specific row per (programme origin, prefix) applies."""
        found, seen = [], set()
        for r in self.duty_rates.get(destination, ()):
            if (
                r.layer == "surcharge"
                and hs_code.startswith(r.hs_prefix)
                and (not r.origin or r.origin == origin)
                and r.applies_on(on)
                and (r.hs_prefix, r.origin) not in seen
            ):
                found.append(r)
                seen.add((r.hs_prefix, r.origin))
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
