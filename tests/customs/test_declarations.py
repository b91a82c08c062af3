"""Declarations, their documents and the paperwork jobs (queue ``paperwork``)."""

import io
import json
from decimal import Decimal
from pathlib import Path
from unittest import mock

import jsonschema
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerDown
from pypdf import PdfReader

from accounts.models import Notification
from customs import services, tasks
from customs.models import CustomsDeclaration, CustomsDocument, PaperworkJob
from customs.s10 import check_digit, is_valid_s10, validate_s10
from marketplace.core.errors import DomainError
from tests.customs.factories import addressee, five_lines, line, make_declaration

SCHEMA = json.loads(
    (Path(services.__file__).parent / "data" / "schemas" / "advance_data.schema.json").read_text()
)
D = Decimal


@pytest.fixture
def export_shop(shop):
    shop.signatory_name = "Sam Seller"
    shop.vat_number = "US-EIN-12-3456789"
    shop.exporter_reference = "EXP-42"
    shop.phone = "+1 503 555 0100"
    shop.email = "ship@maple-thread.example"
    shop.address_line1 = "812 SW Washington St"
    shop.save()
    return shop


@pytest.fixture(autouse=True)
def _scheme_ids(settings):
    settings.CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001", "UK_VAT": "GB123456789"}


def pdf_text(document: CustomsDocument) -> str:
    """The PDF's text with runs of whitespace as one space (long values wrap in their box)."""
    with document.file.open("rb") as fh:
        pages = PdfReader(io.BytesIO(fh.read())).pages
    return flat("\n".join(page.extract_text() for page in pages))


def flat(text: str) -> str:
    return " ".join(text.split())


def documents(declaration, version=1) -> dict[str, CustomsDocument]:
    return {d.kind: d for d in declaration.documents.filter(version=version)}


# --- S10 --------------------------------------------------------------------------------------


def test_s10_check_digit_matches_the_upu_test_vector():
    assert check_digit("12345678") == 5
    assert is_valid_s10("RR123456785GB")
    assert not is_valid_s10("RR123456784GB")
    assert validate_s10(" rr 123456785gb ") == "RR123456785GB"
    with pytest.raises(ValidationError, match="check digit"):
        validate_s10("RR123456784GB")
    with pytest.raises(ValidationError, match="2 letters, 9 digits"):
        validate_s10("1Z999AA10123456784")
    assert validate_s10("RR123456785GB", origin="GB") == "RR123456785GB"
    with pytest.raises(ValidationError, match="issued by the post of GB, but the parcel leaves"):
        validate_s10("RR123456785GB", origin="US")


# --- the snapshot -----------------------------------------------------------------------------


def test_declaration_freezes_sender_addressee_lines_and_totals(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    assert d.form == "CN22"  # 145 EUR = 124 SDR, a small packet
    assert d.category == "sale_of_goods"
    assert d.sender["name"] == "Maple & Thread LLC"
    assert d.sender["vat_number"] == "US-EIN-12-3456789"
    assert d.sender["address_lines"] == ["812 SW Washington St"]
    assert d.addressee["city"] == "Berlin" and d.addressee["country"] == "DE"
    assert d.total_value == D("145.00") and d.currency == "EUR"
    assert d.total_net_weight_kg == D("1.660")
    assert d.total_gross_weight_kg == D("1.760")
    assert d.postal_charges == D("9.00")
    assert d.incoterm == "DDP" and d.tax_collected
    assert d.tax_scheme == "IOSS" and d.tax_scheme_id == "IM2760000001"
    assert d.non_delivery == "return_priority"
    assert d.invoice_number == "INV-2026-0001" and d.signatory == "Sam Seller"
    assert d.duty == D("15.00")  # 5 distinct tariff lines x EUR 3
    assert list(d.lines.values_list("position", "hs_code", "quantity", "value")) == [
        (1, "610910", 2, D("30.00")),
        (2, "621410", 1, D("25.00")),
        (3, "420292", 1, D("30.00")),
        (4, "711311", 1, D("40.00")),
        (5, "490199", 2, D("20.00")),
    ]
    # Editing the shop afterwards does not change the frozen snapshot.
    export_shop.legal_name = "Renamed LLC"
    export_shop.save()
    d.refresh_from_db()
    assert d.sender["name"] == "Maple & Thread LLC"


def test_declaring_the_same_consignment_twice_returns_the_first(rules, export_shop):
    first = make_declaration(export_shop)
    second = make_declaration(export_shop)
    assert first.pk == second.pk
    assert CustomsDeclaration.objects.count() == 1
    assert PaperworkJob.objects.filter(declaration=first).count() == 1


def test_blocked_consignments_get_no_declaration(rules, export_shop):
    perfume = line("330300", "40.00", description="Eau de parfum for women, 50 ml spray")
    with pytest.raises(DomainError, match="flammable"):
        make_declaration(export_shop, lines=[perfume])
    assert not CustomsDeclaration.objects.exists()


def test_bad_item_id_is_refused_for_postal_consignments(rules, export_shop):
    with pytest.raises(DomainError, match="check digit"):
        make_declaration(export_shop, item_id="RR123456784US")
    with pytest.raises(DomainError, match="leaves from US") as exc:
        make_declaration(export_shop, item_id="RR123456785GB")  # a Royal Mail number
    assert exc.value.code == "item_id"
    with pytest.raises(DomainError, match="invoice number"):
        make_declaration(export_shop, invoice_number=" ")
    with pytest.raises(DomainError, match="full name"):
        make_declaration(export_shop, to=addressee(name="N/A"))
    assert not CustomsDeclaration.objects.exists()


# --- documents --------------------------------------------------------------------------------


def test_cn22_pdf_carries_every_field(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    docs = documents(d)
    assert set(docs) == {"cn22", "cn22_label", "invoice", "advance_data"}
    text = pdf_text(docs["cn22"])
    for expected in (
        "CUSTOMS DECLARATION CN 22",
        "May be opened officially",
        "Sale of goods",
        "2 x Men's cotton T-shirt, knitted",
        "610910",
        "0.400",  # net weight of the T-shirt line
        "30.00 EUR",
        "(6) Total weight: 1.760 kg",
        "(7) Total value: 145.00 EUR",
        "Importer's reference (if any): IOSS IM2760000001 (Tradepost, deemed supplier)",
        "certify that the particulars given in this declaration are correct",
        "Sam Seller",
        "2026-10-15",
    ):
        assert flat(expected) in text, expected


def test_cn23_pdf_carries_every_field_and_the_barcode_id(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(
            export_shop,
            lines=five_lines(),
            item_id="RR123456785US",
        )
        d.form = "CN23"  # parcels always use CN23: check the CN23 renderer on the same data
        d.save(update_fields=["form"])
        services.request_documents(declaration=d)
    cn23 = documents(d, version=2)["cn23"]
    text = pdf_text(cn23)
    for expected in (
        "CUSTOMS DECLARATION CN 23",
        "No. of item (barcode, if any)",
        "RR123456785US",
        "From",
        "Name: Maple & Thread LLC",
        "Address: 812 SW Washington St",
        "PORTLAND, OR 97204",  # the US order: city, state, ZIP code
        "UNITED STATES",
        "Tel. No.: +1 503-555-0100",
        "Sender's customs reference (if any): EXP-42",
        "Importer/addressee reference (if any): IOSS IM2760000001 (Tradepost, deemed supplier)",
        "Name: Bea Buyer",
        "Address: Torstra",
        "Importer/addressee fax/e-mail (if known): buyer@example.test",
        "(1) Detailed description of contents",
        "Canvas backpack for laptops",
        "(2) Quantity",
        "(3) Net weight (kg)",
        "(4) Total gross weight: 1.760 kg",
        "(5) Value",
        "(6) Total value: 145.00 EUR",
        "(7) HS tariff No.",
        "(8) Origin",
        "(9) Postal charges/Fees: 9.00 EUR",
        "(10) Category of item",
        "Sale of goods",
        "(11) Comments",
        "(12) Licence",
        "(13) Certificate",
        "(14) Invoice  No. of invoice: INV-2026-0001",
        "Office of origin / Date of posting",
        "Instruction in case of non-delivery:",
        "Return to sender immediately, by the priority route",
        "(15)",
        "Date and sender's signature: 2026-10-15  Sam Seller",
    ):
        assert flat(expected) in text, expected


def test_commercial_invoice_pdf_carries_every_field(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    text = pdf_text(documents(d)["invoice"])
    for expected in (
        "COMMERCIAL INVOICE",
        "Invoice number: INV-2026-0001",
        "Invoice date: 2026-10-15",
        "Order number: TP-1001",
        "Seller / exporter",
        "Maple & Thread LLC",
        "VAT No.: US-EIN-12-3456789",
        "Deemed supplier (tax collected at checkout)",
        "Tradepost, IOSS number: IM2760000001",
        "Buyer / importer (consignee)",
        "Bea Buyer",
        "Country of export: US",
        "Country of destination: DE",
        "Transport: postal",
        "Incoterms(R) 2020: DDP Berlin, DE",
        "Reason for export: sale of goods",
        "Sterling silver ring",
        "711311",
        "Subtotal (goods)",
        "145.00 EUR",
        "Freight",
        "Insurance",
        "Duty collected at checkout 15.00 EUR",
        f"Import tax collected at checkout (IOSS IM2760000001) {d.tax:.2f} EUR",
        # goods 145.00 + freight 9.00 + duty 15.00 + the VAT collected
        f"Total (EUR) {D('169.00') + d.tax:.2f} EUR",
        "Total net weight: 1.660 kg",
        "charged at the point of sale by Tradepost as deemed supplier (IOSS number IM2760000001)",
        "I declare that the information above is true and correct.",
        "Name and signature: Sam Seller",
    ):
        assert flat(expected) in text, expected


def test_advance_data_json_validates_against_the_schema(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop, item_id="RR123456785US")
    doc = documents(d)["advance_data"]
    with doc.file.open("rb") as fh:
        data = json.loads(fh.read())
    jsonschema.validate(data, SCHEMA)
    assert data["item_id"] == "RR123456785US"
    assert data["tax_scheme"] == {
        "type": "IOSS",
        "id": "IM2760000001",
        "deemed_supplier": "Tradepost",
    }
    assert data["addressee"]["importer_reference"] == "IM2760000001"
    assert data["sender"]["eori"] == ""  # the seller's own references, never the IOSS number
    assert data["contents"][0] == {
        "description": "Men's cotton T-shirt, knitted",
        "quantity": 2,
        "net_weight_kg": "0.400",
        "value": "30.00",
        "currency": "EUR",
        "hs_code": "610910",
        "national_tariff_code": None,
        "origin_country": "US",
    }
    broken = dict(data, contents=[dict(data["contents"][0], hs_code="6109")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_document_rows_record_checksum_and_size(rules, export_shop, run_on_commit):
    import hashlib

    with run_on_commit():
        d = make_declaration(export_shop)
    for doc in d.documents.all():
        with doc.file.open("rb") as fh:
            data = fh.read()
        assert doc.sha256 == hashlib.sha256(data).hexdigest()
        assert doc.size == len(data)
    assert PaperworkJob.objects.get(declaration=d).status == "done"


# --- idempotency, versions, failures ------------------------------------------------------------


def test_every_task_run_twice_changes_nothing(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    job = PaperworkJob.objects.get(declaration=d)
    before = sorted(d.documents.values_list("kind", "version", "sha256"))
    assert tasks.render_declaration_documents.delay(job.pk).get() == "skipped"
    assert tasks.render_declaration_documents.delay(job.pk).get() == "skipped"
    assert tasks.sweep_paperwork_jobs.delay().get() == 0
    assert tasks.sweep_paperwork_jobs.delay().get() == 0
    assert sorted(d.documents.values_list("kind", "version", "sha256")) == before
    assert d.documents.count() == 4
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("done", 1)


def test_a_redelivered_job_with_some_documents_adds_only_the_missing(rules, export_shop):
    d = make_declaration(export_shop)
    job = d.jobs.get()
    services.process_paperwork_job(job_id=job.pk)
    d.documents.filter(kind="invoice").delete()
    # The worker died after writing two documents: the job is still "running".
    PaperworkJob.objects.filter(pk=job.pk).update(status="running")
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(seconds=services._lease().total_seconds() + 1)
    assert services.process_paperwork_job(job_id=job.pk) == "busy"  # lease still live
    assert services.process_paperwork_job(job_id=job.pk, now=later) == "done"
    assert sorted(d.documents.values_list("kind", flat=True)) == [
        "advance_data",
        "cn22",
        "cn22_label",
        "invoice",
    ]


def test_regenerating_makes_a_new_version(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    with run_on_commit():
        services.request_documents(declaration=d)
    assert sorted(d.documents.values_list("kind", "version")) == [
        ("advance_data", 1), ("advance_data", 2), ("cn22", 1), ("cn22", 2),
        ("cn22_label", 1), ("cn22_label", 2), ("invoice", 1), ("invoice", 2),
    ]  # fmt: skip


def test_setting_the_item_id_renders_a_version_with_the_barcode(rules, export_shop, run_on_commit):
    with run_on_commit():
        d = make_declaration(export_shop)
    with run_on_commit():
        with pytest.raises(DomainError, match="check digit"):
            services.set_item_id(declaration=d, item_id="RR123456784US")
        job = services.set_item_id(declaration=d, item_id="RR123456785US")
        assert services.set_item_id(declaration=d, item_id="RR123456785US") is None
    assert job.version == 2
    v1, v2 = documents(d, 1)["cn22"], documents(d, 2)["cn22"]
    assert "RR123456785US" not in pdf_text(v1)
    assert "RR123456785US" in pdf_text(v2)


def test_transient_errors_retry_then_fail_visibly(rules, export_shop, seller, run_on_commit):
    with mock.patch("customs.services._render_document", side_effect=OSError("disk full")):
        with run_on_commit():
            d = make_declaration(export_shop)
        job = d.jobs.get()
        # The first failure gives the job back for the retry (eager mode does not re-run).
        assert job.status == "pending" and job.attempts == 1
        task = tasks.render_declaration_documents
        assert task.apply(args=(job.pk,), retries=task.max_retries).get() == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert "OSError: disk full" in job.last_error
    assert not d.documents.exists()
    note = Notification.objects.get(user=seller, kind="customs_paperwork_failed")
    assert "TP-1001-1" in note.title
    # The admin's retry action puts it back and, with the cause fixed, it completes.
    with run_on_commit():
        assert services.retry_job(job=job)
    job.refresh_from_db()
    assert job.status == "done" and d.documents.count() == 4
    assert not services.retry_job(job=job)


def test_broker_down_when_the_job_is_created_then_the_sweeper_produces_it(
    rules, export_shop, run_on_commit, settings
):
    settings.CUSTOMS_SWEEP_AFTER_SECONDS = 0
    with (
        mock.patch.object(
            tasks.render_declaration_documents, "apply_async", side_effect=BrokerDown("down")
        ),
        run_on_commit(),
    ):
        d = make_declaration(export_shop)  # the order still commits
    job = d.jobs.get()
    assert job.status == "pending" and not d.documents.exists()
    assert tasks.sweep_paperwork_jobs.delay().get() == 1
    job.refresh_from_db()
    assert job.status == "done" and d.documents.count() == 4


# --- download ---------------------------------------------------------------------------------


def test_members_download_their_shops_documents(
    rules,
    export_shop,
    seller,
    seller_staff,
    other_seller,
    client_for,
    run_on_commit,
    django_assert_max_num_queries,
):
    with run_on_commit():
        d = make_declaration(export_shop)
    doc = documents(d)["invoice"]
    url = reverse("customs:document-download", kwargs={"pk": doc.pk})
    client = client_for(seller)
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "TP-1001-1-invoice-v1.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(seller_staff).get(url).status_code == 200
    assert client_for(other_seller).get(url).status_code == 404
    assert len(mail.outbox) == 0


def test_a_job_superseded_before_it_ran_renders_nothing(rules, export_shop, run_on_commit):
    d = make_declaration(export_shop)  # job v1 not published yet (no commit)
    with run_on_commit():
        services.set_item_id(declaration=d, item_id="RR123456785US")
    first = d.jobs.get(version=1)
    assert services.process_paperwork_job(job_id=first.pk) == "superseded"
    first.refresh_from_db()
    assert first.status == "done" and "superseded" in first.last_error
    assert set(d.documents.values_list("version", flat=True)) == {2}


def test_restricted_goods_are_noted_in_the_comments_box(rules, export_shop):
    seeds = line("120991", "8.00", description="Tomato seeds for sowing, 50 g packet")
    d = make_declaration(export_shop, lines=[seeds])
    assert "phytosanitary certificate" in d.comments
    assert "uncertain" not in d.comments
