"""Documents a customs officer can read, on four routes (issue 13 "Done when"):
CN -> PL, GB -> US (NY), US -> AU (NSW), JP -> FR.

Each route is declared through the service, its documents rendered by the paperwork job and
read back with pypdf: names and addresses in their original script (and in Latin letters),
the region, the marketplace's scheme number in the importer's reference box, and content
lines that add up to the total. PNGs of every page go to ``test-results/documents/``.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from customs.services import PartyAddress, create_declaration
from tests.customs.factories import consignment, line
from tests.factories import ShopFactory

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-results" / "documents"
IOSS = "IM6160000017"
ARN = "500000000017"


@pytest.fixture(autouse=True)
def _numbers(settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": IOSS, "AU_ARN": ARN}
    settings.CUSTOMS_MARKETPLACE_NAME = "Tradepost Ltd"


def flat(text: str) -> str:
    return " ".join(text.split())


def read(document) -> str:
    with document.file.open("rb") as fh:
        data = fh.read()
    _write_png(document, data)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _write_png(document, data: bytes) -> None:
    """Every page as a PNG in the test artefacts (poppler's pdftoppm; bin/test installs it)."""
    pdftoppm = shutil.which("pdftoppm")
    if not pdftoppm:
        return
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    stem = f"{document.declaration.reference}-{document.kind}"
    pdf = ARTEFACTS / f"{stem}.pdf"
    pdf.write_bytes(data)
    subprocess.run(
        [pdftoppm, "-r", "110", "-png", str(pdf), str(ARTEFACTS / stem)], check=True, timeout=60
    )


def declare(shop, reference, c, to: PartyAddress):
    return create_declaration(
        shop=shop,
        reference=reference,
        consignment=c,
        addressee=to,
        invoice_number=f"INV-{reference}",
        order_number=reference,
    )


def documents_of(declaration) -> dict[str, str]:
    return {doc.kind: read(doc) for doc in declaration.documents.exclude(kind="advance_data")}


def content_values(text: str, currency: str) -> list[Decimal]:
    """The amounts printed between the contents header and the totals of a CN form."""
    if "(5) Origin" in text:  # CN22 headings
        section = text.split("(5) Origin", 1)[1].split("(6) Total weight", 1)[0]
    else:
        section = text.split("(8) Origin", 1)[1].split("Total gross weight", 1)[0]
    return [Decimal(v.replace(",", "")) for v in re.findall(rf"([\d,]+\.\d+) {currency}", section)]


def assert_lines_add_up(text: str, declaration) -> None:
    values = content_values(text, declaration.currency)
    assert values == [ln.value for ln in declaration.lines.all()]
    total = re.search(rf"Total value: ([\d,]+\.\d+) {declaration.currency}", text).group(1)
    assert sum(values) == Decimal(total.replace(",", "")) == declaration.total_value


def test_cn_to_pl_prints_chinese_and_polish_names_and_the_ioss_number(rules, run_on_commit):
    shop = ShopFactory(
        legal_name="景德镇青花瓷器有限公司",
        display_name="Jade Studio",
        country="CN",
        address_line1="莲社北路1号",
        city="景德镇市",
        region="江西省",
        postcode="333000",
        phone="+86 798 822 1234",
        currency="CNY",
        eori="",
        signatory_name="张伟",
    )
    c = consignment(
        "PL",
        "EUR",
        [
            line("691200", "45.00", origin="CN", description="Yixing clay teapot, 300 ml"),
            line("691200", "7.50", 2, origin="CN", description="Porcelain tea cup, hand-painted"),
        ],
        ship_from="CN",
        shipping="12.00",
        postal_service="parcel",
    )
    to = PartyAddress(
        name="Jan Łukasiewicz",
        country="PL",
        address_lines=("ul. Piotrkowska 104/7",),
        city="Łódź",
        postcode="90-926",
        phone="+48 42 638 4000",
        email="jan@example.pl",
    )
    with run_on_commit():
        d = declare(shop, "CN-PL-1", c, to)
    assert d.tax_collected and d.tax_scheme_id == IOSS
    assert d.sender["latin"] == (
        "Jing De Zhen Qing Hua Ci Qi You Xian Gong Si, Jade Studio, Lian She Bei Lu 1 Hao, "
        "Jingdezhen Shi, JIANGXI SHENG, 333000, CHINA"
    )
    docs = documents_of(d)
    cn = docs[d.form.lower()]
    for text in (cn, docs["invoice"]):
        assert "景德镇青花瓷器有限公司" in text
        assert "Łukasiewicz" in text and "ŁÓDŹ" in text and "?" not in text.replace("(if any)", "")
        assert "江西省" in text
        assert "JIANGXI SHENG" in flat(text)  # the Latin line the Polish post reads
    assert "90-926 ŁÓDŹ" in cn  # Polish order: postcode, then city
    assert d.form == "CN23"
    assert (
        f"Importer/addressee reference (if any): IOSS {IOSS} (Tradepost Ltd, deemed supplier)"
        in flat(cn)
    )
    assert "IOSS" not in _sender_reference_line(cn)
    assert_lines_add_up(cn, d)
    assert "张伟" in cn  # the signatory, as written


def test_gb_to_us_new_york_keeps_the_state_after_the_city(rules, run_on_commit):
    shop = ShopFactory(
        legal_name="Thames Tweed Ltd",
        country="GB",
        address_line1="12 Borough High Street",
        city="London",
        postcode="SE1 9GF",
        phone="+44 20 7946 0018",
        currency="GBP",
        eori="GB123456789000",
    )
    c = consignment(
        "US",
        "USD",
        [line("621410", "85.00", origin="GB", description="Women's wool scarf, woven, tartan")],
        ship_from="GB",
        shipping="14.00",
        postal_service="parcel",
    )
    to = PartyAddress(
        name="Maria Rodriguez",
        country="US",
        address_lines=("500 7th Avenue", "Floor 12"),
        city="New York",
        region="NY",
        postcode="10018",
        phone="+1 212 555 0142",
    )
    with run_on_commit():
        d = declare(shop, "GB-US-1", c, to)
    assert not d.tax_collected and d.deemed_supplier == {}
    docs = documents_of(d)
    cn = docs["cn23"]
    assert "NEW YORK, NY 10018" in cn
    assert "LONDON" in cn and "SE1 9GF" in cn
    assert cn.index("LONDON") < cn.index("SE1 9GF")  # UK: postcode on its own line, last
    assert "10018 New York" not in cn and "SE1 9GF London" not in cn
    assert "deemed supplier" not in cn and "IOSS" not in cn
    assert_lines_add_up(cn, d)
    assert "NEW YORK, NY 10018" in docs["invoice"]


def test_us_to_au_new_south_wales_carries_the_arn(rules, run_on_commit, shop):
    c = consignment(
        "AU",
        "AUD",
        [
            line("711311", "120.00", description="Sterling silver ring, 925"),
            line("610910", "35.00", 2, description="Men's cotton T-shirt, knitted"),
        ],
        ship_from="US",
        shipping="20.00",
    )
    to = PartyAddress(
        name="Liam O'Brien",
        country="AU",
        address_lines=("Level 3, 1 George Street",),
        city="Sydney",
        region="NSW",
        postcode="2000",
        phone="+61 2 9374 4000",
    )
    with run_on_commit():
        d = declare(shop, "US-AU-1", c, to)
    assert d.tax_collected and d.tax_scheme == "AU_ARN"
    assert d.tax == Decimal("21.00")  # GST 10 % of 190.00 goods + 20.00 shipping
    docs = documents_of(d)
    cn = docs["cn22"]  # a small packet: the addressee is on the item and the invoice
    assert "SYDNEY NSW 2000" in docs["invoice"]
    assert "PORTLAND, OR 97204" in cn and "PORTLAND, OR 97204" in docs["invoice"]
    assert f"Importer's reference (if any): AU ARN {ARN} (Tradepost Ltd, deemed supplier)" in (
        flat(cn)
    )
    assert_lines_add_up(cn, d)
    assert f"Tradepost Ltd, Australian ARN: {ARN}" in flat(docs["invoice"])


def test_jp_to_fr_prints_japanese_in_japanese_order(rules, run_on_commit):
    shop = ShopFactory(
        legal_name="山田陶器店",
        display_name="Yamada Pottery",
        country="JP",
        address_line1="神南1-2-3",
        city="渋谷区",
        region="東京都",
        postcode="150-0041",
        phone="+81 3 1234 5678",
        currency="JPY",
        eori="",
        signatory_name="山田太郎",
    )
    c = consignment(
        "FR",
        "EUR",
        [line("691200", "64.00", origin="JP", description="Stoneware tea bowl, hand-thrown")],
        ship_from="JP",
        shipping="18.00",
    )
    to = PartyAddress(
        name="Élodie Dubois",
        country="FR",
        address_lines=("12 rue de Rivoli",),
        city="Paris",
        postcode="75004",
        phone="+33 1 42 76 40 40",
    )
    with run_on_commit():
        d = declare(shop, "JP-FR-1", c, to)
    docs = documents_of(d)
    cn = docs["cn22"]
    for text in (cn, docs["invoice"]):
        assert "山田陶器店" in text and "東京都" in text and "渋谷区" in text
        assert "〒" in text and "150-0041" in text  # the Japanese order starts with the postcode
    assert "Élodie Dubois" in docs["invoice"] and "75004 PARIS" in docs["invoice"]
    assert d.sender["latin"].endswith("TOKYO, 150-0041, JAPAN")
    assert f"IOSS {IOSS} (Tradepost Ltd, deemed supplier)" in flat(cn)
    assert_lines_add_up(cn, d)


def _sender_reference_line(text: str) -> str:
    return next(ln for ln in text.splitlines() if ln.startswith("Sender's customs reference"))
