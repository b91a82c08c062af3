"""Denied-party screening against bundled list snapshots (OFAC SDN), never the network.

Names are normalised (casefold, diacritics and legal suffixes stripped, tokens sorted) and
fuzzy-matched with RapidFuzz. A hit is a ``ScreeningHit`` row held for an admin's decision,
with the list, its version and the score; the caller puts the order on hold meanwhile.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from customs.models import ScreeningHit, ScreeningList
from customs.text import fold
from marketplace.core.errors import DomainError, IllegalTransition

OFAC_DIR = Path(__file__).resolve().parent / "data" / "ofac"
# Scores are 0-100 (token-sorted ratio). 90 catches transliteration and spelling variants of
# a full name while keeping common short names from matching every list entry.
DEFAULT_THRESHOLD = 90.0


@dataclass(frozen=True)
class BundledList:
    name: str
    version: str
    path: Path
    # Column indexes: entry id, name, programme (None when the file has none).
    id_col: int
    name_col: int
    program_col: int | None
    source: str


BUNDLED_LISTS = (
    BundledList(
        "OFAC SDN",
        "2024-05-03",
        OFAC_DIR / "sdn.csv",
        0,
        1,
        3,
        "U.S. Treasury OFAC SDN list (sdn.csv), downloaded 2024-05-03; customs/data/ofac/README.md",
    ),
    BundledList(
        "OFAC SDN aliases",
        "2026-06-02",
        OFAC_DIR / "2026-06" / "alt.csv",
        0,
        3,
        None,
        "U.S. Treasury OFAC SDN alternate names (alt.csv), on or before 2026-06-02",
    ),
)

_LEGAL_SUFFIXES = frozenset(
    {
        "ltd", "limited", "llc", "inc", "incorporated", "corp", "corporation", "co", "company",
        "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "oy", "ab", "as",
        "kg", "ohg", "ooo", "oao", "zao", "pjsc", "jsc", "llp", "lp", "pte", "pty", "sdn",
        "bhd", "kk", "the",
    }
)  # fmt: skip


def normalize_name(name: str) -> str:
    """Casefolded ASCII tokens without legal suffixes, sorted: order-free comparison."""
    text = fold(name)
    # "S.A." and "L.L.C." are one token each, so they can be recognised as legal suffixes.
    text = re.sub(r"\b([a-z])\.", r"\1", text)
    tokens = [t for t in re.findall(r"[a-z0-9]+", text) if t not in _LEGAL_SUFFIXES]
    return " ".join(sorted(tokens))


@dataclass(frozen=True)
class Entry:
    list_name: str
    list_version: str
    entry_id: str
    name: str
    programs: str


@dataclass(frozen=True)
class Party:
    subject: str  # ScreeningHit.Subject
    name: str
    country: str = ""


@dataclass(frozen=True)
class Match:
    party: Party
    entry: Entry
    score: float


def _read_list(spec: BundledList) -> list[Entry]:
    raw = spec.path.read_bytes().decode("latin-1").rstrip("\x1a")
    entries = []
    for row in csv.reader(io.StringIO(raw, newline="")):
        if len(row) <= max(spec.id_col, spec.name_col):
            continue
        name = row[spec.name_col].strip()
        if not name or name == "-0-":
            continue
        programs = row[spec.program_col].strip() if spec.program_col is not None else ""
        entries.append(
            Entry(
                spec.name,
                spec.version,
                row[spec.id_col].strip(),
                name,
                "" if programs == "-0-" else programs,
            )
        )
    return entries


class _Index:
    def __init__(self, lists=BUNDLED_LISTS) -> None:
        self.entries: list[Entry] = []
        for spec in lists:
            self.entries += _read_list(spec)
        self.keys = [normalize_name(e.name) for e in self.entries]

    def search(self, name: str, threshold: float, limit: int = 5) -> list[tuple[Entry, float]]:
        key = normalize_name(name)
        # Single tokens ("Ali", "Global") match too much of any list to be useful evidence.
        if len(key) < 4 or " " not in key:
            return []
        found = process.extract(
            key,
            self.keys,
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=threshold,
            limit=limit,
        )
        return [(self.entries[i], round(score, 1)) for _k, score, i in found]


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def find_matches(parties: list[Party], *, threshold: float = DEFAULT_THRESHOLD) -> list[Match]:
    """Pure matching: no rows written."""
    index = _get_index()
    return [
        Match(party, entry, score)
        for party in parties
        for entry, score in index.search(party.name, threshold)
    ]


@dataclass
class ScreeningResult:
    hits: list[ScreeningHit]

    @property
    def on_hold(self) -> bool:
        """Any hit not cleared by an admin keeps the order on hold."""
        return any(h.decision != ScreeningHit.Decision.CLEARED for h in self.hits)


def screen_parties(
    *, reference: str, parties: list[Party], threshold: float = DEFAULT_THRESHOLD
) -> ScreeningResult:
    """Screen seller, buyer and consignee names; record each hit once per reference.

    Screening the same reference again (at order, then at label purchase) adds no duplicate
    rows and keeps earlier decisions.
    """
    if not reference:
        raise DomainError(_("Screening needs a reference (the order or consignment)."))
    hits = []
    for match in find_matches(parties, threshold=threshold):
        values = {
            "reference": reference,
            "subject": match.party.subject,
            "list_name": match.entry.list_name,
            "list_version": match.entry.list_version,
            "entry_id": match.entry.entry_id,
        }
        try:
            with transaction.atomic():
                hit = ScreeningHit.objects.create(
                    **values,
                    query_name=match.party.name[:200],
                    query_country=match.party.country,
                    matched_name=match.entry.name[:300],
                    programs=match.entry.programs[:200],
                    score=Decimal(str(match.score)),
                )
        except IntegrityError:
            hit = ScreeningHit.objects.get(**values)
        hits.append(hit)
    return ScreeningResult(hits)


def decide_screening_hit(*, hit: ScreeningHit, decision: str, actor, note: str = "") -> None:
    """Clear or confirm a pending hit; a decided hit cannot be changed (audit)."""
    with transaction.atomic():
        locked = ScreeningHit.objects.select_for_update().get(pk=hit.pk)
        if decision not in ScreeningHit.TRANSITIONS.get(locked.decision, set()):
            raise IllegalTransition(
                _("This screening hit was already decided (%(d)s).")
                % {"d": locked.get_decision_display()}
            )
        locked.decision = decision
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_note = note
        locked.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    hit.refresh_from_db()


def references_on_hold(references: list[str]) -> set[str]:
    """Which of these references still have an undecided or confirmed hit."""
    return set(
        ScreeningHit.objects.filter(reference__in=references)
        .exclude(decision=ScreeningHit.Decision.CLEARED)
        .values_list("reference", flat=True)
    )


def register_bundled_lists() -> int:
    """Record the bundled snapshots (name, version, size, checksum); returns rows created."""
    created = 0
    for spec in BUNDLED_LISTS:
        data = spec.path.read_bytes()
        entries = len(_read_list(spec))
        _row, was_created = ScreeningList.objects.update_or_create(
            name=spec.name,
            version=spec.version,
            defaults={
                "entries": entries,
                "sha256": hashlib.sha256(data).hexdigest(),
                "source": spec.source,
            },
        )
        created += was_created
    return created
