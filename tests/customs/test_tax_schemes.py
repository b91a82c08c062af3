"""Tax collected at checkout travels with the parcel: never collect without the number."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from pypdf import PdfReader

from customs import checks
from customs.landed_cost import compute_quote
from customs.models import CustomsDeclaration
from customs.schemes import is_well_formed, schemes_in_use
from marketplace.core.errors import DomainError
from tests.customs.factories import consignment, five_lines, line, make_declaration

D = Decimal


@pytest.fixture
def export_shop(shop):
    shop.signatory_name = "Sam Seller"
    shop.save()
    return shop


def _text(declaration, kind) -> str:
    document = declaration.documents.get(kind=kind)
    with document.file.open("rb") as fh:
        data = fh.read()
    if kind == "advance_data":
        return data.decode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_without_an_ioss_number_the_quote_falls_back_to_dap_with_the_reason(rules, settings):
    # E1: US -> DE, EUR 40 of T-shirts + EUR 6 shipping.
    settings.CUSTOMS_TAX_SCHEME_IDS = {"UK_VAT": "GB999999973"}
    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], shipping="6.00")
    quote = compute_quote(c)
    assert not quote.collected_at_checkout
    assert quote.incoterm == "DAP"
    assert quote.tax_scheme == ""
    # Standard import VAT at the border puts the EUR 3 duty in the base (FACTS §10a).
    assert (quote.duty, quote.tax) == (D("3.00"), D("9.31"))
    assert quote.warnings[0] == (
        "The marketplace has no IOSS number configured, so VAT is not collected at checkout: "
        "the buyer pays duty and VAT to the carrier on delivery (DAP)."
    )


def test_with_the_ioss_number_the_same_quote_is_collected(rules, settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], shipping="6.00")
    quote = compute_quote(c)
    assert quote.collected_at_checkout and quote.incoterm == "DDP"
    assert (quote.tax_scheme, quote.duty, quote.tax) == ("IOSS", D("3.00"), D("8.74"))
    assert not any("no IOSS number" in w for w in quote.warnings)


def test_a_parcel_declared_without_a_number_prints_no_placeholder(
    rules, export_shop, settings, run_on_commit
):
    settings.CUSTOMS_TAX_SCHEME_IDS = {}
    with run_on_commit():
        d = make_declaration(export_shop)
    assert (d.tax_collected, d.incoterm, d.tax_scheme, d.deemed_supplier) == (
        False,
        "DAP",
        "",
        {},
    )
    invoice = _text(d, "invoice")
    cn22 = _text(d, "cn22")
    data = json.loads(_text(d, "advance_data"))
    for text in (invoice, cn22):
        assert "IOSS" not in text and "(IOSS number)" not in text
        assert "deemed supplier" not in text
    assert "import taxes are due from the consignee at the destination" in invoice
    assert data["tax_scheme"] is None
    assert data["duty_tax_collected"]["collected"] is False


def test_declaring_a_parcel_paid_under_a_scheme_that_lost_its_number_is_refused(
    rules, export_shop, settings
):
    settings.CUSTOMS_TAX_SCHEME_IDS = {}
    with pytest.raises(DomainError, match="paid the tax at checkout under IOSS") as exc:
        make_declaration(export_shop, paid_tax_scheme="IOSS")
    assert exc.value.code == "tax_scheme"
    assert not CustomsDeclaration.objects.exists()


def test_the_deemed_supplier_is_frozen_and_named_apart_from_the_seller(
    rules, export_shop, settings, run_on_commit
):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
    settings.CUSTOMS_MARKETPLACE_NAME = "Tradepost Europe B.V."
    with run_on_commit():
        d = make_declaration(export_shop, lines=five_lines())
    assert d.deemed_supplier == {
        "name": "Tradepost Europe B.V.",
        "scheme": "IOSS",
        "label": "IOSS number",
        "number": "IM2760000001",
    }
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000099"}
    d.refresh_from_db()
    assert d.tax_scheme_id == "IM2760000001"
    cn22 = _text(d, "cn22")
    sender_ref = next(ln for ln in cn22.splitlines() if ln.startswith("Sender's customs ref"))
    assert "IOSS" not in sender_ref
    assert (
        "Importer's reference (if any): IOSS IM2760000001 (Tradepost Europe B.V., deemed supplier)"
        in cn22
    )
    invoice = _text(d, "invoice")
    assert "Seller / exporter" in invoice and "Maple & Thread LLC" in invoice
    assert "Tradepost Europe B.V., IOSS number: IM2760000001" in invoice


# --- configuration ------------------------------------------------------------------------------


def test_the_regimes_collect_under_these_schemes():
    assert schemes_in_use() == {
        "IOSS", "UK_VAT", "AU_ARN", "NZ_GST", "CH_VAT", "VOEC", "CN_CBEC", "SG_OVR", "MY_LRN",
        "BR_RC",
    }  # fmt: skip


def test_the_demo_numbers_are_well_formed(settings):
    for scheme, number in settings.CUSTOMS_DEMO_TAX_SCHEME_IDS.items():
        assert is_well_formed(scheme, number), scheme
    assert not is_well_formed("IOSS", "(IOSS number)")
    assert not is_well_formed("UK_VAT", "123456789")


def test_check_deploy_errors_for_every_scheme_without_a_number(settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001", "UK_VAT": "not-a-number"}
    errors = checks.tax_scheme_numbers(None)
    by_id = {}
    for error in errors:
        by_id.setdefault(error.id, []).append(error.msg)
    assert len(by_id["customs.E001"]) == len(schemes_in_use()) - 2
    assert any("Australian ARN" in m for m in by_id["customs.E001"])
    assert by_id["customs.E002"] == [
        "The UK VAT number in CUSTOMS_TAX_SCHEME_IDS is not well formed: 'not-a-number'."
    ]


def test_check_deploy_refuses_demo_numbers_in_production(settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = dict(settings.CUSTOMS_DEMO_TAX_SCHEME_IDS)
    settings.PRODUCTION = False
    assert checks.tax_scheme_numbers(None) == []
    settings.PRODUCTION = True
    errors = checks.tax_scheme_numbers(None)
    assert {e.id for e in errors} == {"customs.E003"}
    assert len(errors) == len(schemes_in_use())
