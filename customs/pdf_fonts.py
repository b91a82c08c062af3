"""Fonts for customs documents: every supported country's script, printed as typed.

A string is cut into runs, each drawn in a font that has its glyphs: the bundled DejaVu Sans
Condensed (Latin, Greek, Cyrillic ...; embedded as a subset, see data/fonts/README.md) or one
of ReportLab's built-in CID fonts for Chinese, Japanese and Korean. A character no font covers
is printed as its Latin transliteration (anyascii), never as "?".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from anyascii import anyascii
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).parent / "data" / "fonts"
REGULAR = "TPSans"
BOLD = "TPSans-Bold"
CJK = {
    "zh": "STSong-Light",  # Simplified Chinese
    "zh_hant": "MSung-Light",  # Traditional Chinese (TW, HK, MO)
    "ja": "HeiseiKakuGo-W5",
    "ko": "HYGothic-Medium",
}
_TRADITIONAL = {"TW", "HK", "MO"}
_lock = threading.Lock()
_registered = False


def register() -> None:
    """Register the fonts with ReportLab once per process."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        pdfmetrics.registerFont(TTFont(REGULAR, str(FONT_DIR / "DejaVuSansCondensed.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSansCondensed-Bold.ttf")))
        for name in CJK.values():
            pdfmetrics.registerFont(UnicodeCIDFont(name))
        _registered = True


def _kind(ch: str) -> str:
    """ "ko", "ja", "han" (Chinese characters, also used in Japanese), or "" (anything else)."""
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "ko"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF65 <= o <= 0xFF9F:
        return "ja"
    if (
        0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0x3000 <= o <= 0x303F
        or 0xFF00 <= o <= 0xFF64
    ):
        return "han"
    return ""


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    register()
    return frozenset(pdfmetrics.getFont(REGULAR).face.charToGlyph)


def runs(text: str, *, bold: bool = False, country: str = "") -> Sequence[tuple[str, str]]:
    """``text`` as ``(font name, piece)`` runs. ``country`` picks the Chinese characters'
    font when the text itself does not say (kana mean Japanese, hangul Korean)."""
    register()
    if text.isascii():  # most of every document: one run, no per-character work
        return [(BOLD if bold else REGULAR, text)]
    return _runs(text, bold, country)


@lru_cache(maxsize=4096)
def _runs(text: str, bold: bool, country: str) -> tuple[tuple[str, str], ...]:
    kinds = {_kind(ch) for ch in text}
    if "ja" in kinds or (country == "JP" and "ko" not in kinds):
        han = CJK["ja"]
    elif "ko" in kinds or country == "KR":
        han = CJK["ko"]
    else:
        han = CJK["zh_hant"] if country in _TRADITIONAL else CJK["zh"]
    latin = BOLD if bold else REGULAR
    covered = _covered()
    out: list[tuple[str, str]] = []
    for ch in text:
        kind = _kind(ch)
        if kind == "han":
            font = han
        elif kind:
            font = CJK[kind]
        elif ord(ch) in covered or ch in "\t":
            font = latin
        else:
            font, ch = latin, anyascii(ch)
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + ch)
        else:
            out.append((font, ch))
    return tuple(out)


@lru_cache(maxsize=16384)
def _width(text: str, size: float, bold: bool, country: str) -> float:
    return sum(
        pdfmetrics.stringWidth(piece, font, size)
        for font, piece in runs(text, bold=bold, country=country)
    )


def width(text: str, size: float, *, bold: bool = False, country: str = "") -> float:
    """Width in points of ``text`` drawn at ``size``."""
    return _width(text, size, bold, country)


def draw(canvas, x: float, y: float, text: str, size: float, *, bold=False, country="") -> float:
    """Draw ``text`` at (x, y) in points; returns the x after it."""
    for font, piece in runs(text, bold=bold, country=country):
        canvas.setFont(font, size)
        canvas.drawString(x, y, piece)
        x += pdfmetrics.stringWidth(piece, font, size)
    return x
