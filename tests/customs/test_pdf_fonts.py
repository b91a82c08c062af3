"""Every supported script prints as typed; nothing becomes "?"."""

from __future__ import annotations

import io

from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from customs import pdf_fonts

SAMPLES = [
    "Jan Łukasiewicz, ul. Piotrkowska 104/7, 90-926 Łódź",
    "Müller & Söhne, Straße 1, Ærøskøbing, Øster, Česká, Đà Nẵng",
    "景德镇青花瓷器有限公司 江西省景德镇市",
    "山田陶器店 東京都渋谷区神南1-2-3 ヤマダ",
    "김민준 서울특별시 강남구",
    "Иван Петров, Москва, ул. Ленина 5",
    "Αθήνα, Οδός Ερμού 10",
]


def _roundtrip(text: str, country: str = "") -> str:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    pdf_fonts.draw(canvas, 40, 700, text, 10, country=country)
    canvas.save()
    return PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text()


def test_each_script_reads_back_as_typed():
    for sample in SAMPLES:
        assert "".join(_roundtrip(sample).split()) == "".join(sample.split()), sample


def test_chinese_characters_take_the_font_of_the_address_country():
    assert {f for f, _ in pdf_fonts.runs("東京都渋谷区", country="JP")} == {"HeiseiKakuGo-W5"}
    assert {f for f, _ in pdf_fonts.runs("景德镇市")} == {"STSong-Light"}
    assert {f for f, _ in pdf_fonts.runs("台北市", country="TW")} == {"MSung-Light"}
    # Kana in the text say Japanese whatever the country.
    assert {f for f, _ in pdf_fonts.runs("山田ヤマダ")} == {"HeiseiKakuGo-W5"}


def test_a_script_no_font_covers_prints_in_latin_letters_not_question_marks():
    text = _roundtrip("नमस्ते Delhi")
    assert "?" not in text
    assert "Delhi" in text and "nmste" in text.replace(" ", "").lower()


def test_widths_add_up_across_runs():
    whole = pdf_fonts.width("Łódź 景德镇", 10)
    assert whole == pdf_fonts.width("Łódź ", 10) + pdf_fonts.width("景德镇", 10)
