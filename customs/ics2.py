"""Goods descriptions checked against the EU ICS2 rules, for customs paperwork and listings.

Delegated Reg. (EU) 2015/2446 Annex B, DE 18 05: general terms and insufficiently precise
descriptions are refused. DG TAXUD keeps a list of "stop words": a stop word used *alone* is
rejected automatically, inside a longer text it is flagged. Carriers add format rules (numbers
only, a file name, repeated characters, punctuation only). The stop words live in versioned
data files (``customs/data/ics2_stopwords*.txt``) so a list update is a data change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DATA_DIR = Path(__file__).resolve().parent / "data"
STOPWORD_FILES = ("ics2_stopwords.txt", "ics2_stopwords_reported.txt")
# ICS2 ENS data element 18 05 000 000 is "an..512".
MAX_LENGTH = 512
FILE_EXTENSIONS = (
    "pdf|jpe?g|png|gif|bmp|tiff?|webp|heic|docx?|xlsx?|csv|txt|rtf|odt|ods|zip|rar|7z|xml|"
    "json|html?|eml|msg"
)
_FILE_RE = re.compile(rf"^[\w\-]*\.({FILE_EXTENSIONS})$", re.IGNORECASE)
_NUMBERS_RE = re.compile(r"^[\d\s.,;:/\-+#%()]+$")
_REPEATED_RE = re.compile(r"([^\W\d_])\1\1", re.IGNORECASE)
_HAS_WORD_RE = re.compile(r"[^\W_]")


@dataclass
class DescriptionCheck:
    text: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Every listed term, lower-case, from the versioned data files."""
    terms: set[str] = set()
    for name in STOPWORD_FILES:
        path = DATA_DIR / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                terms.add(_normalize(line))
    return frozenset(terms)


@lru_cache(maxsize=1)
def _stop_word_pattern() -> re.Pattern:
    # Longest first, so "auto parts" is reported rather than "parts" alone.
    alternatives = sorted(stop_words(), key=len, reverse=True)
    body = "|".join(re.escape(t) for t in alternatives)
    return re.compile(rf"(?<![\w-])({body})(?![\w-])")


def _normalize(text: str) -> str:
    return " ".join(text.casefold().split())


def _bare(text: str) -> str:
    """The text without surrounding punctuation: "Gift." and "'parts'" are still alone."""
    return _normalize(re.sub(r"^[\W_]+|[\W_]+$", "", text))


def validate_description(text: str) -> DescriptionCheck:
    """Errors (the description will be refused) and warnings (it may be flagged)."""
    check = DescriptionCheck(text=text or "")
    stripped = (text or "").strip()
    if not stripped or not _HAS_WORD_RE.search(stripped):
        check.errors.append(
            _("Describe the goods in words; blanks, punctuation or symbols alone are refused.")
        )
        return check
    if len(stripped) > MAX_LENGTH:
        check.errors.append(
            _("A goods description has at most %(max)d characters.") % {"max": MAX_LENGTH}
        )
    if _NUMBERS_RE.match(stripped):
        check.errors.append(
            _("A description made only of numbers is refused; say what the goods are.")
        )
    if _FILE_RE.match(stripped):
        check.errors.append(_("This looks like a file name, not a description of the goods."))
    if _REPEATED_RE.search(stripped):
        check.errors.append(
            _("Three or more repeated letters (such as “xxx”) are refused as a description.")
        )

    bare = _bare(stripped)
    terms = stop_words()
    if bare in terms or _singular(bare) in terms or f"{bare}s" in terms:
        check.errors.append(
            _(
                "“%(term)s” alone is too general for customs (EU ICS2 stop word). Name the "
                "material and the function, for example “men's cotton T-shirt, knitted”."
            )
            % {"term": stripped}
        )
        return check
    found = sorted({m.group(1) for m in _stop_word_pattern().finditer(_normalize(stripped))})
    if found:
        check.warnings.append(
            _(
                "Contains general terms customs may flag (%(terms)s); make sure the text also "
                "says what the goods are made of and what they are for."
            )
            % {"terms": ", ".join(f"“{t}”" for t in found)}
        )
    if not check.errors and len(bare.split()) < 2:
        check.warnings.append(
            _("One word is rarely precise enough; name the material and the function.")
        )
    return check


def _singular(term: str) -> str:
    return term[:-1] if term.endswith("s") and len(term) > 3 else term


def description_validator(value: str) -> None:
    """Django validator for model and form fields: raises with every reason."""
    check = validate_description(value)
    if not check.ok:
        raise ValidationError(check.errors, code="ics2_description")


# Party fields (names, addresses) are refused when they say nothing (FACTS.md §2.2).
PARTY_STOP_WORDS = frozenset({"private", "unknown", "n/a", "na", "none", "-", "test"})


def validate_party_name(text: str) -> DescriptionCheck:
    """A sender or addressee name as ICS2 wants it: a real name, not "private" or "N/A"."""
    check = DescriptionCheck(text=text or "")
    bare = _bare(text or "")
    if not bare or not _HAS_WORD_RE.search(bare):
        check.errors.append(_("Give the full name of the person or business."))
    elif bare in PARTY_STOP_WORDS or _normalize(text or "") in PARTY_STOP_WORDS:
        check.errors.append(
            _("“%(name)s” is refused as a name on customs data; give the full name.")
            % {"name": (text or "").strip()}
        )
    return check
