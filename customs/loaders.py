"""Load the versioned rule files of ``customs/data/`` into the database, idempotently.

Each loader compares the file with the table and writes only what differs, so a second run
changes nothing (and adds no history rows). The data files are the reviewed source of truth:
a row that came from a file and was edited in admin is set back to the file's value by the next
load; rows created in admin (no ``data_key``) are never touched.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from customs.models import HS_EDITION, HSCode

DATA_DIR = Path(__file__).resolve().parent / "data"
HS_FILE = DATA_DIR / "hs" / "harmonized-system.csv"
HS_SECTIONS_FILE = DATA_DIR / "hs" / "sections.csv"
ECB_SNAPSHOT = DATA_DIR / "fx" / "eurofxref-hist-2025-2026.xml"
MANUAL_RATES_FILE = DATA_DIR / "fx" / "manual_rates.csv"


@dataclass
class LoadReport:
    table: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.table}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged"
        )
        if self.deleted:
            text += f", {self.deleted} retired"
        return text + "".join(f"; {n}" for n in self.notes)


# --- HS nomenclature ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HSRow:
    code: str
    level: int
    parent_code: str
    description: str
    section: str
    section_name: str


def read_hs_rows() -> list[HSRow]:
    """The bundled HS 2022 file without Comtrade's ``TOTAL`` and ``99*`` artefacts."""
    with HS_SECTIONS_FILE.open(encoding="utf-8-sig", newline="") as fh:
        sections = {row["section"]: row["name"] for row in csv.DictReader(fh)}
    rows = []
    with HS_FILE.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code = row["hscode"].strip()
            if row["section"] == "TOTAL" or not code.isdigit() or code.startswith("99"):
                continue
            parent = row["parent"].strip()
            rows.append(
                HSRow(
                    code=code,
                    level=int(row["level"]),
                    parent_code="" if parent == "TOTAL" else parent,
                    description=row["description"].strip(),
                    section=row["section"],
                    section_name=sections.get(row["section"], ""),
                )
            )
    return rows


def load_hs_codes() -> LoadReport:
    report = LoadReport("HS codes")
    fields = ("level", "parent_code", "description", "section", "section_name", "hs_edition")
    existing = {h.code: h for h in HSCode.objects.all()}
    new, changed = [], []
    for row in read_hs_rows():
        values = {
            "level": row.level,
            "parent_code": row.parent_code,
            "description": row.description,
            "section": row.section,
            "section_name": row.section_name,
            "hs_edition": HS_EDITION,
        }
        current = existing.get(row.code)
        if current is None:
            new.append(HSCode(code=row.code, **values))
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            changed.append(current)
        else:
            report.unchanged += 1
    with transaction.atomic():
        HSCode.objects.bulk_create(new, batch_size=1000)
        HSCode.objects.bulk_update(changed, fields, batch_size=1000)
    report.created, report.updated = len(new), len(changed)
    if new or changed:
        from customs.hs import reset_hs_index

        reset_hs_index()
    return report


# --- Exchange rates ----------------------------------------------------------------------------


def load_exchange_rates() -> LoadReport:
    from datetime import date
    from decimal import Decimal

    from customs import fx
    from customs.models import ExchangeRate

    report = LoadReport("exchange rates")
    result = fx.import_ecb_xml(
        ECB_SNAPSHOT.read_bytes(),
        source=f"ECB euro reference rates, bundled snapshot {ECB_SNAPSHOT.name}",
    )
    report.created, report.updated, report.unchanged = (
        result.created,
        result.updated,
        result.unchanged,
    )
    report.notes.append(f"ECB {result.first}..{result.last}")
    manual: dict = {}
    with MANUAL_RATES_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            manual.setdefault((row["source"]), {}).setdefault(date.fromisoformat(row["date"]), {})[
                row["currency"].upper()
            ] = Decimal(row["rate_per_eur"])
    for source, days in manual.items():
        r = fx.store_rates(days, kind=ExchangeRate.Kind.MANUAL, source=source)
        report.created += r.created
        report.updated += r.updated
        report.unchanged += r.unchanged
    return report


def load_all(*, only: set[str] | None = None) -> list[LoadReport]:
    """Every rule table, in dependency order. ``only`` limits it to some table names."""
    steps = [("hs", load_hs_codes), ("fx", load_exchange_rates)]
    return [loader() for name, loader in steps if only is None or name in only]


def unload_all() -> None:
    """Empty every rule table this module loads (test teardown; never used in production)."""
    from customs.models import ExchangeRate

    with transaction.atomic():
        ExchangeRate.objects.all().delete()
        HSCode.objects.all().delete()
    from customs import fx
    from customs.hs import reset_hs_index

    fx.clear_cache()
    reset_hs_index()
