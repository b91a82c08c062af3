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
from customs.rulebook import EU_MEMBERS as RULEBOOK_EU_MEMBERS

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

    from customs import fx

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
    r = fx.import_manual_csv(MANUAL_RATES_FILE.read_bytes(), source=MANUAL_RATES_FILE.name)
    report.created += r.created
    report.updated += r.updated
    report.unchanged += r.unchanged
    return report


# --- Rule tables ---------------------------------------------------------------------------------

RULES_DIR = DATA_DIR / "rules"
VAT_FILE = DATA_DIR / "vat_rates.csv"
DUTY_FILE = DATA_DIR / "duty_rates.csv"
EU_MEMBERS = sorted(RULEBOOK_EU_MEMBERS)


def _d(value: str | None):
    from datetime import date

    value = (value or "").strip()
    if not value:
        return None
    if len(value) == 4:  # a year only
        return date(int(value), 1, 1)
    if len(value) == 7:  # a month only
        return date.fromisoformat(f"{value}-01")
    return date.fromisoformat(value)


def _dec(value):
    from decimal import Decimal

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return Decimal(str(value).strip())


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes"}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def sync_rows(model, rows: list[dict], report: LoadReport) -> None:
    """Make the file-loaded rows of ``model`` equal ``rows`` (keyed by ``data_key``).

    Rows whose key left the file are retired (``active=False``), never deleted: quotes point
    at them. Unchanged rows are not saved, so history only records real changes.
    """
    existing = {r.data_key: r for r in model.objects.exclude(data_key="")}
    seen = set()
    for values in rows:
        key = values["data_key"]
        seen.add(key)
        row = existing.get(key)
        if row is None:
            model.objects.create(**values)
            report.created += 1
            continue
        changed = [f for f, v in values.items() if getattr(row, f) != v]
        if changed:
            for f in changed:
                setattr(row, f, values[f])
            row.save()
            report.updated += 1
        else:
            report.unchanged += 1
    for key, row in existing.items():
        if key not in seen and row.active:
            row.active = False
            row.save(update_fields=["active"])
            report.deleted += 1


def vat_table() -> dict[tuple[str, str], tuple[str, object]]:
    """``{(country, region): (tax name, rate)}`` from vat_rates.csv (rate None: no such tax)."""
    table = {}
    for row in _csv(VAT_FILE):
        table[(row["country"], row["region"])] = (
            row["tax_name"],
            _dec(row["standard_rate_percent"]),
        )
    return table


def _vat_rate(vat, country: str, region: str):
    national = vat.get((country, ""), ("", None))[1]
    if not region:
        return national
    name, regional = vat.get((country, region), ("", None))
    if country == "CA":
        # HST already includes the federal 5 %; elsewhere GST and the provincial tax add up
        # on the same base (vat_rates.README "How the engine should read it").
        return regional if name == "HST" else (national or 0) + (regional or 0)
    return regional if regional is not None else national


REGIME_FIELDS = {
    "name", "destination_region", "channel", "transport", "ship_from", "currency", "fx_kind",
    "customs_value_basis", "duty_threshold", "duty_threshold_basis", "tax_threshold",
    "tax_threshold_basis", "deminimis_max_uses_per_year", "tax_name", "tax_rate",
    "tax_rate_factor", "collect_at_sale", "collect_max_value", "collect_max_basis", "tax_scheme",
    "tax_base_at_sale", "tax_base_at_border", "no_duty_when_collected", "tax_minimum",
    "duty_formula", "apply_mfn", "flat_duty_amount", "flat_duty_max_value",
    "duty_exempt_hs_prefixes", "params", "rounding_increment", "round_per_line", "limits_inclusive",
    "effective_from", "effective_to", "source", "as_of", "uncertain", "notes", "active",
}  # fmt: skip
_DECIMAL_FIELDS = {
    "duty_threshold", "tax_threshold", "tax_rate", "tax_rate_factor", "collect_max_value",
    "tax_minimum", "flat_duty_amount", "flat_duty_max_value", "rounding_increment",
}  # fmt: skip


def read_regimes() -> list[dict]:
    import json

    from customs.models import Regime

    data = json.loads((RULES_DIR / "regimes.json").read_text(encoding="utf-8"))
    vat = vat_table()
    defaults = {f.name: f.get_default() for f in Regime._meta.fields if f.name in REGIME_FIELDS}
    rows = []
    for entry in data["regimes"]:
        destinations = EU_MEMBERS if entry["destination"] == "EU" else [entry["destination"]]
        for country in destinations:
            regions = [entry.get("destination_region") or ""]
            if entry.get("regions") == "@vat":
                regions += sorted(r for c, r in vat if c == country and r)
            for region in regions:
                values = dict(defaults)
                for k, v in entry.items():
                    if k in REGIME_FIELDS:
                        values[k] = v
                values["destination_region"] = region
                if entry.get("tax_rate") == "@vat":
                    values["tax_rate"] = _vat_rate(vat, country, region)
                for k in _DECIMAL_FIELDS:
                    values[k] = _dec(values[k]) if values[k] is not None else None
                values["tax_rate_factor"] = values["tax_rate_factor"] or _dec("1")
                values["effective_from"] = _d(entry["effective_from"])
                values["effective_to"] = _d(entry.get("effective_to"))
                where = f"{country}{'/' + region if region else ''}"
                values["name"] = f"{entry['name']} [{where}]"
                key = entry["key"] if entry["destination"] != "EU" else f"{entry['key']}-{country}"
                values["data_key"] = f"{key}-{region}" if region else key
                values["destination"] = country
                for k in ("channel", "transport", "ship_from", "tax_name", "tax_scheme",
                          "duty_exempt_hs_prefixes", "source", "as_of", "notes"):  # fmt: skip
                    values[k] = values[k] or ""
                values["params"] = values["params"] or {}
                rows.append(values)
    return rows


def load_regimes() -> LoadReport:
    from customs.models import Regime

    report = LoadReport("regimes")
    sync_rows(Regime, read_regimes(), report)
    return report


def load_duty_rates() -> LoadReport:
    from customs.models import DutyRate

    report = LoadReport("duty rates")
    rows = []
    for r in _csv(DUTY_FILE):
        rows.append(
            {
                "data_key": f"MFN-{r['destination']}-{r['hs6']}",
                "destination": r["destination"],
                "hs_prefix": r["hs6"],
                "layer": "mfn",
                "origin": "",
                "rate_percent": _dec(r["rate_percent"]),
                "national_code": r["national_code"],
                "description": r["description"][:255],
                "specific_note": r["specific_note"],
                # The table records rates in force at the source date and believed stable;
                # it has no start dates, so the rows apply to every quote date.
                "effective_from": _d("2000-01-01"),
                "effective_to": None,
                "source": r["source"],
                "as_of": r["as_of"],
                "uncertain": False,
                "active": True,
            }
        )
    for r in _csv(RULES_DIR / "duty_rules.csv"):
        rows.append(
            {
                "data_key": r["key"],
                "destination": r["destination"],
                "hs_prefix": r["hs_prefix"],
                "layer": r["layer"],
                "origin": r.get("origin") or "",
                "rate_percent": _dec(r["rate_percent"]),
                "national_code": "",
                "description": r["description"][:255],
                "specific_note": r["specific_note"],
                "effective_from": _d(r["effective_from"]),
                "effective_to": _d(r["effective_to"]),
                "source": r["source"],
                "as_of": r["as_of"],
                "uncertain": _bool(r["uncertain"]),
                "active": True,
            }
        )
    for r in _csv(RULES_DIR / "preferences.csv"):
        destinations = ["EU"] if r["destination"] == "EU" else [r["destination"]]
        origins = [
            country
            for group in r["origins"].split(",")
            for country in (EU_MEMBERS if group == "EU" else [group])
        ]
        for destination in destinations:
            for origin in origins:
                rows.append(
                    {
                        "data_key": f"{r['key']}-{origin}",
                        "destination": destination,
                        "hs_prefix": r["hs_prefix"],
                        "layer": "preference",
                        "origin": origin,
                        "rate_percent": _dec(r["rate_percent"]),
                        "national_code": "",
                        "description": r["agreement"][:255],
                        "specific_note": "",
                        "effective_from": _d(r["effective_from"]),
                        "effective_to": _d(r["effective_to"]),
                        "source": r["source"],
                        "as_of": r["as_of"],
                        "uncertain": _bool(r["uncertain"]),
                        "active": True,
                    }
                )
    sync_rows(DutyRate, rows, report)
    return report


def load_fees() -> LoadReport:
    from customs.models import Fee

    report = LoadReport("fees")
    rows = []
    for r in _csv(RULES_DIR / "fees.csv"):
        destinations = EU_MEMBERS if r["destination"] == "EU" else [r["destination"]]
        for country in destinations:
            key = r["key"] if r["destination"] != "EU" else f"{r['key']}-{country}"
            rows.append(
                {
                    "data_key": key,
                    "name": r["name"],
                    "destination": country,
                    "transport": r["transport"],
                    "unit": r["unit"],
                    "amount": _dec(r["amount"]),
                    "currency": r["currency"],
                    "max_intrinsic_value": _dec(r["max_intrinsic_value"]),
                    "payer": r["payer"],
                    "only_when_charges_due": _bool(r["only_when_charges_due"]),
                    "effective_from": _d(r["effective_from"]),
                    "effective_to": _d(r["effective_to"]),
                    "active": _bool(r["active"]),
                    "uncertain": _bool(r["uncertain"]),
                    "source": r["source"],
                    "as_of": r["as_of"],
                }
            )
    sync_rows(Fee, rows, report)
    return report


def load_restrictions() -> LoadReport:
    from customs.models import Restriction

    report = LoadReport("restrictions")
    rows = [
        {
            "data_key": r["key"],
            "hs_prefix": r["hs_prefix"],
            "destination": r["destination"],
            "transport": r["transport"],
            "action": r["action"],
            "document": r["document"],
            "reason": r["reason"],
            "effective_from": _d(r["effective_from"]),
            "effective_to": None,
            "uncertain": _bool(r["uncertain"]),
            "source": r["source"],
            "as_of": r.get("as_of") or "",
            "active": True,
        }
        for r in _csv(RULES_DIR / "restrictions.csv")
    ]
    sync_rows(Restriction, rows, report)
    return report


def load_sanctions() -> LoadReport:
    from customs.models import SanctionedDestination, SdrRate

    report = LoadReport("sanctions")
    rows = [
        {
            "data_key": r["key"],
            "destination": r["destination"],
            "region": r["region"],
            "seller_jurisdiction": r["seller_jurisdiction"],
            "programme": r["programme"],
            "action": r["action"],
            "min_item_value_eur": _dec(r["min_item_value_eur"]),
            "reason": r["reason"],
            "effective_from": _d(r["effective_from"]),
            "effective_to": _d(r["effective_to"]),
            "uncertain": _bool(r["uncertain"]),
            "source": r["source"],
            "as_of": r.get("as_of") or "",
            "active": True,
        }
        for r in _csv(RULES_DIR / "sanctions.csv")
    ]
    sync_rows(SanctionedDestination, rows, report)
    sdr = LoadReport("SDR rates")
    sync_rows(
        SdrRate,
        [
            {
                "data_key": r["key"],
                "currency": r["currency"],
                "units_per_sdr": _dec(r["units_per_sdr"]),
                "cn22_max_sdr": _dec(r["cn22_max_sdr"]),
                "effective_from": _d(r["effective_from"]),
                "effective_to": None,
                "uncertain": _bool(r["uncertain"]),
                "source": r["source"],
                "as_of": r.get("as_of") or "",
                "active": True,
            }
            for r in _csv(RULES_DIR / "sdr_rates.csv")
        ],
        sdr,
    )
    report.notes.append(str(sdr))
    return report


def load_screening_lists() -> LoadReport:
    from customs import screening

    report = LoadReport("screening lists")
    created = screening.register_bundled_lists()
    report.created, report.unchanged = created, len(screening.BUNDLED_LISTS) - created
    return report


STEPS = [
    ("hs", load_hs_codes),
    ("fx", load_exchange_rates),
    ("regimes", load_regimes),
    ("duty", load_duty_rates),
    ("fees", load_fees),
    ("restrictions", load_restrictions),
    ("sanctions", load_sanctions),
    ("screening", load_screening_lists),
]


def load_all(*, only: set[str] | None = None) -> list[LoadReport]:
    """Every rule table, in dependency order. ``only`` limits it to some table names."""
    unknown = (only or set()) - {name for name, _ in STEPS}
    if unknown:
        raise ValueError(f"unknown table(s): {', '.join(sorted(unknown))}")
    reports = []
    with transaction.atomic():
        for name, loader in STEPS:
            if only is None or name in only:
                reports.append(loader())
    from customs.rulebook import invalidate_rules

    invalidate_rules()
    return reports


def unload_all() -> None:
    """Empty every rule table this module loads (test teardown; never used in production)."""
    from customs import fx
    from customs.hs import reset_hs_index
    from customs.models import (
        DutyRate,
        ExchangeRate,
        Fee,
        Regime,
        Restriction,
        SanctionedDestination,
        ScreeningList,
        SdrRate,
    )
    from customs.rulebook import invalidate_rules

    with transaction.atomic():
        for model in (
            DutyRate, ExchangeRate, Fee, Restriction, SanctionedDestination, SdrRate,
            ScreeningList, HSCode,
        ):  # fmt: skip
            model.objects.all().delete()
            if hasattr(model, "history"):
                model.history.all().delete()
        # Quotes keep a nullable link to their regime.
        Regime.objects.all().delete()
        Regime.history.all().delete()
    fx.clear_cache()
    reset_hs_index()
    invalidate_rules()
