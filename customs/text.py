"""Text folding shared by the HS finder and denied-party screening."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Casefolded, with diacritics removed: "Café Müller" -> "cafe muller"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
