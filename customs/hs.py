"""HS codes: normalising and validating seller input, and the HS finder.

The finder ranks 6-digit subheadings for the words a seller types ("cotton t-shirt"). It works
from an in-memory index built once per process from the ``HSCode`` table (one query), so a
keystroke never costs a database round trip and the same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from customs.text import fold

HS_INPUT_RE = re.compile(r"^\d{6}(\d{2}){0,2}$")
# Chapters reserved for national use: not valid on an international declaration.
NON_UNIVERSAL_CHAPTERS = ("98", "99")


def normalize_hs_code(text: str) -> str:
    """``"6109.10 00"`` -> ``"61091000"``: drop the dots, spaces and dashes of tariff books."""
    return re.sub(r"[\s.\-]", "", text or "")


def validate_hs_code(code: str):
    """The ``HSCode`` row for the first six digits of ``code``, or a ValidationError saying why.

    Accepts 6, 8 or 10 digits (national extensions such as EU CN8 or HTSUS 10); only the
    international six digits are checked against the nomenclature.
    """
    from customs.models import HSCode

    normalized = normalize_hs_code(code)
    if not HS_INPUT_RE.match(normalized):
        raise ValidationError(
            _("An HS code has 6, 8 or 10 digits (for example 6109.10); %(code)r does not.")
            % {"code": code},
            code="hs_format",
        )
    if normalized[:2] in NON_UNIVERSAL_CHAPTERS:
        raise ValidationError(
            _(
                "Chapters 98 and 99 are reserved for national use and cannot be used on an "
                "international declaration; choose the code that describes the goods."
            ),
            code="hs_reserved",
        )
    hs = HSCode.objects.filter(code=normalized[:6], level=6).first()
    if hs is None:
        raise ValidationError(
            _("%(code)s is not an HS 2022 subheading. Use the HS finder to look it up.")
            % {"code": f"{normalized[:4]}.{normalized[4:6]}"},
            code="hs_unknown",
        )
    return hs


# --- The finder --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HSMatch:
    code: str
    description: str
    heading_code: str
    heading_description: str
    chapter_code: str
    chapter_description: str
    score: float

    @property
    def dotted(self) -> str:
        return f"{self.code[:4]}.{self.code[4:]}"


# Words that carry no meaning for classification; HS texts are full of them.
_NOISE = frozenset(
    {
        "a", "an", "and", "or", "of", "the", "for", "with", "without", "in", "on", "to", "by",
        "as", "at", "other", "than", "not", "nes", "its", "their", "whether", "incl",
        "including", "excluding", "excl", "etc", "but", "from", "into", "being", "such",
        "kind", "kinds",
    }
)  # fmt: skip
# Where a query word is found: in the subheading's own text, its heading's or its chapter's.
_WEIGHT_OWN, _WEIGHT_HEADING, _WEIGHT_CHAPTER = 3.0, 1.6, 0.8
_PREFIX_FACTOR = 0.7
_FUZZY_FACTOR = 0.6


def _stem(word: str) -> str:
    # Light English plural folding; enough for "shirts"/"shirt", "boxes"/"box", "knives".
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("ves"):
        return word[:-3] + "f"
    if len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    # "T-shirts" -> "tshirt": hyphenated compounds are one word for sellers and for the HS.
    folded = re.sub(r"(\w)[-'](\w)", r"\1\2", fold(text))
    words = re.findall(r"[a-z0-9]+", folded)
    return [_stem(w) for w in words if w not in _NOISE and len(w) > 1]


class _Index:
    def __init__(self, rows: list[tuple[str, int, str, str]]) -> None:
        # rows: (code, level, parent_code, description)
        by_code = {code: (level, parent, desc) for code, level, parent, desc in rows}
        self.subheadings: list[tuple[str, str, str, str, str, str]] = []
        # token -> {subheading index: best weight}
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for code, level, parent, desc in rows:
            if level != 6 or code[:2] in NON_UNIVERSAL_CHAPTERS:
                continue
            heading = parent if parent in by_code else code[:4]
            chapter = code[:2]
            heading_desc = by_code.get(heading, (4, "", ""))[2]
            chapter_desc = by_code.get(chapter, (2, "", ""))[2]
            i = len(self.subheadings)
            self.subheadings.append((code, desc, heading, heading_desc, chapter, chapter_desc))
            for text, weight in (
                (chapter_desc, _WEIGHT_CHAPTER),
                (heading_desc, _WEIGHT_HEADING),
                (desc, _WEIGHT_OWN),
            ):
                for token in tokenize(text):
                    if postings[token].get(i, 0) < weight:
                        postings[token][i] = weight
        self.postings = dict(postings)
        self.codes = frozenset(row[0] for row in self.subheadings)
        self.vocabulary = sorted(self.postings)

    def _expand(self, token: str, *, is_last: bool) -> list[tuple[str, float]]:
        """Vocabulary words standing for a query word: itself, prefixes, near spellings."""
        found: list[tuple[str, float]] = []
        if token in self.postings:
            found.append((token, 1.0))
        if is_last and len(token) >= 3:
            # The word being typed: "cott" should already find cotton.
            found += [(w, _PREFIX_FACTOR) for w in self._prefixed(token) if w != token][:30]
        if not found and len(token) >= 4:
            for word, score, _i in process.extract(
                token, self.vocabulary, scorer=fuzz.ratio, limit=3, score_cutoff=80
            ):
                found.append((word, _FUZZY_FACTOR * score / 100))
        return found

    def _prefixed(self, prefix: str) -> list[str]:
        import bisect

        start = bisect.bisect_left(self.vocabulary, prefix)
        words = []
        for word in self.vocabulary[start:]:
            if not word.startswith(prefix):
                break
            words.append(word)
        return words

    def search(self, query: str, limit: int) -> list[HSMatch]:
        digits = normalize_hs_code(query)
        if digits.isdigit() and len(digits) >= 2:
            return [
                self._match(i, 10.0)
                for i, row in enumerate(self.subheadings)
                if row[0].startswith(digits[:6])
            ][:limit]
        tokens = list(dict.fromkeys(tokenize(query)))
        if not tokens:
            return []
        scores: dict[int, float] = defaultdict(float)
        hits: dict[int, int] = defaultdict(int)
        for n, token in enumerate(tokens):
            best: dict[int, float] = {}
            for word, factor in self._expand(token, is_last=n == len(tokens) - 1):
                for i, weight in self.postings[word].items():
                    value = weight * factor
                    if value > best.get(i, 0):
                        best[i] = value
            for i, value in best.items():
                scores[i] += value
                hits[i] += 1
        # Codes that match every word first, then by score; shorter (more specific) texts win
        # ties, then the code order, so results are stable.
        ranked = sorted(
            scores,
            key=lambda i: (
                -hits[i],
                -scores[i],
                len(self.subheadings[i][1]),
                self.subheadings[i][0],
            ),
        )
        total = len(tokens)
        return [self._match(i, round(scores[i] * hits[i] / total, 3)) for i in ranked[:limit]]

    def _match(self, i: int, score: float) -> HSMatch:
        code, desc, heading, heading_desc, chapter, chapter_desc = self.subheadings[i]
        return HSMatch(code, desc, heading, heading_desc, chapter, chapter_desc, score)


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                from customs.models import HSCode

                rows = list(
                    HSCode.objects.values_list("code", "level", "parent_code", "description")
                )
                if not rows:
                    # An empty table (rules not loaded yet): search the bundled file instead of
                    # returning nothing, but do not cache it, so a later load is picked up.
                    from customs.loaders import read_hs_rows

                    return _Index(
                        [(r.code, r.level, r.parent_code, r.description) for r in read_hs_rows()]
                    )
                _index = _Index(rows)
    return _index


def reset_hs_index() -> None:
    """Forget the in-memory index (after the HS table was reloaded or edited)."""
    global _index
    with _lock:
        _index = None


def is_known_subheading(code: str) -> bool:
    """Whether ``code`` (six digits) is an HS 2022 subheading; answered from memory."""
    return code in _get_index().codes


def search_hs(query: str, *, limit: int = 20) -> list[HSMatch]:
    """Subheadings ranked for the words (or digits) a seller typed, best first."""
    if not query or not query.strip():
        return []
    return _get_index().search(query.strip()[:200], max(1, min(limit, 100)))
