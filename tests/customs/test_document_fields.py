"""CN22/CN23 fields a customs officer checks: amounts in the currency's own decimals, insured
value, category of item, the label-size CN22, full descriptions."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from pypdf import PdfReader

from customs import services
from marketplace.core.errors import DomainError
from tests.customs.factories import addressee, consignment, line

D = Decimal


@pytest.fixture
def export_shop(shop):
    shop.signatory_name = "Sam Seller"
    shop.save()
    return shop


def read(declaration, kind, version=1):
    document = declaration.documents.get(kind=kind, version=version)
    with document.file.open("rb") as fh:
        data = fh.read()
    if kind == "advance_data":
        return json.loads(data)
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join("\n".join(p.extract_text() for p in reader.pages).split())


def declare(shop, c, **extra):
    return services.create_declaration(
        shop=shop,
        reference=extra.pop("reference", "TP-2001-1"),
        consignment=c,
        addressee=extra.pop("to", addressee()),
        invoice_number="INV-2001",
        **extra,
    )


def test_kwd_keeps_three_decimals_and_the_lines_add_up(rules, export_shop, run_on_commit):
    c = consignment(
        "KW", "KWD",
        [line("610910", "16.1254"), line("621410", "16.1256"), line("420292", "16.1245")],
        postal_service="parcel",
    )  # fmt: skip
    to = addressee(country="KW", city="Kuwait City", postcode="13001", address_lines=("Block 1",))
    with run_on_commit():
        d = declare(export_shop, c, to=to)
    assert [ln.value for ln in d.lines.all()] == [D("16.125"), D("16.126"), D("16.125")]
    assert d.total_value == D("48.376")  # the sum of the printed lines, half-up
    _, cn23 = read(d, "cn23")
    assert "16.126 KWD" in cn23 and "(6) Total value: 48.376 KWD" in cn23
    data = read(d, "advance_data")
    assert [x["value"] for x in data["contents"]] == ["16.125", "16.126", "16.125"]
    assert data["total_value"] == {"amount": "48.376", "currency": "KWD"}


def test_jpy_has_no_decimals_in_the_advance_data(rules, export_shop, run_on_commit):
    c = consignment("JP", "JPY", [line("610910", "14997")], shipping="1500")
    to = addressee(country="JP", city="渋谷区", region="東京都", postcode="150-0041",
                   address_lines=("神南1-2-3",), name="山田太郎")  # fmt: skip
    with run_on_commit():
        d = declare(export_shop, c, to=to)
    data = read(d, "advance_data")
    assert data["contents"][0]["value"] == "14997"
    assert data["total_value"]["amount"] == "14997"
    assert data["postal_charges"]["amount"] == "1500"
    _, cn22 = read(d, "cn22")
    assert "14,997 JPY" in cn22 and "14997.00" not in cn22


def test_the_insured_value_is_the_goods_value_and_the_premium_a_charge(
    rules, export_shop, run_on_commit
):
    c = consignment("DE", "EUR", [line("610910", "60.00")], shipping="9.00", insurance="2.50",
                    postal_service="parcel")  # fmt: skip
    with run_on_commit():
        d = declare(export_shop, c)
    assert (d.insured_value, d.insurance_premium, d.postal_charges) == (
        D("60.00"), D("2.50"), D("11.50"),
    )  # fmt: skip
    _, invoice = read(d, "invoice")
    assert "Freight 9.00 EUR" in invoice and "Insurance 2.50 EUR" in invoice
    _, cn23 = read(d, "cn23")
    assert "(9) Postal charges/Fees: 11.50 EUR (insured value: 60.00 EUR)" in cn23


def test_the_category_is_chosen_and_other_needs_an_explanation(rules, export_shop, run_on_commit):
    c = consignment("DE", "EUR", [line("610910", "20.00")], postal_service="parcel")
    with pytest.raises(DomainError, match="explain what is sent") as exc:
        declare(export_shop, c, category="other")
    assert exc.value.code == "category"
    with pytest.raises(DomainError, match="choose one from the list"):
        declare(export_shop, c, category="bribe")
    with run_on_commit():
        d = declare(export_shop, c, category="commercial_sample")
    assert d.category == "commercial_sample"
    with run_on_commit():
        job = services.set_category(
            declaration=d, category="other", explanation="Repair and return, no change of owner"
        )
        assert services.set_category(
            declaration=d, category="other", explanation="Repair and return, no change of owner"
        ) is None  # fmt: skip
    assert job.version == 2
    d.refresh_from_db()
    _, cn23 = read(d, "cn23", version=2)
    assert "Explanation: Repair and return, no change of owner" in cn23
    data = read(d, "advance_data", version=2)
    assert data["category"] == "OTHER"


def test_the_cn22_label_is_100_by_150_mm_and_descriptions_are_never_cut_on_a4(
    rules, export_shop, run_on_commit
):
    long = (
        "Women's hand-knitted merino wool cardigan with mother-of-pearl buttons, "
        "two front pockets and ribbed cuffs, size M, colour forest green"
    )
    c = consignment("DE", "EUR", [line("611011", "80.00", description=long)])
    with run_on_commit():
        d = declare(export_shop, c, item_id="RR123456785US")
    label, label_text = read(d, "cn22_label")
    box = label.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (100, 150)
    assert "CUSTOMS DECLARATION CN 22" in label_text and "RR123456785US" in label_text
    assert "..." in label_text and "forest green" not in label_text
    assert "Importer's reference (if any): IOSS" in label_text
    _, a4 = read(d, "cn22")
    _, invoice = read(d, "invoice")
    assert f"1 x {long}" in a4
    assert long in invoice


def test_the_invoice_carries_the_tca_statement_on_origin_with_the_exporter_reference(
    rules, run_on_commit
):
    from tests.factories import ShopFactory

    uk = ShopFactory(legal_name="Thames Tweed Ltd", country="GB", city="London",
                     postcode="SE1 9GF", address_line1="12 Borough High Street",
                     currency="GBP", eori="GB123456789000", exporter_reference="")  # fmt: skip
    lines = [
        line("621410", "85.00", origin="GB", description="Wool scarf, woven, tartan"),
        line("610910", "20.00", origin="CN", description="Men's cotton T-shirt, knitted"),
    ]
    with run_on_commit():
        d = declare(uk, consignment("DE", "EUR", lines, ship_from="GB", origin_statement=True))
        plain = declare(uk, consignment("DE", "EUR", lines, ship_from="GB"), reference="TP-3")
    _, invoice = read(d, "invoice")
    assert (
        "The exporter of the products covered by this document (Exporter Reference No "
        "GB123456789000) declares that, except where otherwise clearly indicated, these "
        "products are of United Kingdom preferential origin. Not of preferential origin: "
        "line(s) 2." in invoice
    )
    assert "Payment terms: paid in full by the buyer at checkout" in invoice
    _, without = read(plain, "invoice")
    assert "preferential origin" not in without
