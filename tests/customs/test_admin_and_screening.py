"""Admin as an operations console, and denied-party screening."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customs import screening
from customs.models import CustomsDocument, PaperworkJob, Regime, ScreeningHit, ScreeningList
from customs.screening import Party, normalize_name, screen_parties
from marketplace.core.errors import IllegalTransition
from tests.customs.factories import make_declaration

CHANGELISTS = [
    "regime", "dutyrate", "fee", "restriction", "sanctioneddestination", "sdrrate", "hscode",
    "exchangerate", "screeninglist", "screeninghit", "quote", "customsdeclaration",
    "customsdocument", "paperworkjob",
]  # fmt: skip


@pytest.fixture
def declared(rules, shop, run_on_commit):
    shop.signatory_name = "Sam Seller"
    shop.save()
    with run_on_commit():
        return make_declaration(shop)


@pytest.mark.parametrize("model", CHANGELISTS)
def test_every_changelist_loads_for_staff_in_few_queries(
    rules, declared, staff, client_for, model, django_assert_max_num_queries
):
    client = client_for(staff)
    url = reverse(f"admin:customs_{model}_changelist")
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    assert client.get(url, {"q": "DE"}).status_code == 200


def test_declaration_page_shows_lines_documents_and_jobs(declared, staff, client_for):
    client = client_for(staff)
    response = client.get(reverse("admin:customs_customsdeclaration_change", args=[declared.pk]))
    assert response.status_code == 200
    assert b"TP-1001-1-cn22-v1.pdf" in response.content
    assert b"Canvas backpack for laptops" in response.content


def test_admin_downloads_a_document(declared, staff, stranger, client_for):
    document = declared.documents.get(kind="invoice")
    url = reverse("admin:customs_customsdocument_download", args=[document.pk])
    response = client_for(staff).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(stranger).get(url).status_code in (302, 403)


def test_regenerate_action_makes_version_two(declared, staff, client_for, run_on_commit):
    client = client_for(staff)
    with run_on_commit():
        response = client.post(
            reverse("admin:customs_customsdeclaration_changelist"),
            {"action": "regenerate_documents", "_selected_action": [declared.pk]},
        )
    assert response.status_code == 302
    assert CustomsDocument.objects.filter(declaration=declared, version=2).count() == 4


def test_retry_action_requeues_a_failed_job(declared, staff, client_for, run_on_commit):
    job = declared.jobs.get()
    PaperworkJob.objects.filter(pk=job.pk).update(status="failed", last_error="OSError: x")
    declared.documents.all().delete()
    with run_on_commit():
        client_for(staff).post(
            reverse("admin:customs_paperworkjob_changelist"),
            {"action": "retry_jobs", "_selected_action": [job.pk]},
        )
    job.refresh_from_db()
    assert job.status == "done" and job.last_error == ""
    assert declared.documents.count() == 4


def test_editing_a_regime_in_admin_keeps_history_and_applies_at_once(rules, staff, client_for):
    from customs.landed_cost import compute_quote
    from tests.customs.factories import consignment, line

    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], shipping="6.00")
    assert compute_quote(c).tax == Decimal("8.74")
    regime = Regime.objects.get(data_key="EU-2026-DE")
    client = client_for(staff)
    url = reverse("admin:customs_regime_change", args=[regime.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(tax_rate="20", params="{}", effective_to="")
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert regime.history.count() == 2
    assert compute_quote(c).tax == Decimal("9.20")


# --- screening --------------------------------------------------------------------------------


def test_names_are_normalised_order_free_without_legal_suffixes():
    assert normalize_name("Aérocaribbean Airlines, S.A.") == "aerocaribbean airlines"
    assert normalize_name("CHAIWORASIN, Wilai") == normalize_name("Wilai Chaiworasin")


def test_a_listed_name_is_a_hit_held_for_review(rules):
    result = screen_parties(
        reference="TP-9",
        parties=[
            Party("buyer", "Aerocaribbean Airlines", "CU"),
            Party("seller", "Maple & Thread LLC", "US"),
            Party("consignee", "Bea Buyer", "DE"),
        ],
    )
    assert result.on_hold
    hit = ScreeningHit.objects.get(reference="TP-9")
    assert hit.subject == "buyer" and hit.entry_id == "36"
    assert hit.list_name == "OFAC SDN" and hit.list_version == "2024-05-03"
    assert hit.score == Decimal("100.0")
    assert hit.decision == "pending"
    # Screening again (at label purchase) adds nothing and keeps the decision.
    again = screen_parties(reference="TP-9", parties=[Party("buyer", "Aerocaribbean Airlines")])
    assert [h.pk for h in again.hits] == [hit.pk]


def test_a_spelling_variant_still_matches(rules):
    result = screen_parties(reference="TP-10", parties=[Party("buyer", "Wilai Chaiwarasin")])
    assert [h.entry_id for h in result.hits] == ["9536"]
    assert Decimal("90") <= result.hits[0].score < Decimal("100")


def test_clean_names_and_single_words_are_not_hits(rules):
    assert not screen_parties(
        reference="TP-11", parties=[Party("buyer", "Bea Buyer"), Party("buyer", "Ali")]
    ).hits


def test_a_decision_is_recorded_once(rules, staff):
    hit = screen_parties(
        reference="TP-12", parties=[Party("buyer", "Aerocaribbean Airlines")]
    ).hits[0]
    screening.decide_screening_hit(hit=hit, decision="cleared", actor=staff, note="Different firm")
    assert hit.decision == "cleared" and hit.decided_by == staff and hit.decided_at
    assert not screening.references_on_hold(["TP-12"])
    with pytest.raises(IllegalTransition):
        screening.decide_screening_hit(hit=hit, decision="confirmed", actor=staff)


def test_review_queue_actions_decide_hits(rules, staff, client_for):
    hit = screen_parties(
        reference="TP-13", parties=[Party("buyer", "Aerocaribbean Airlines")]
    ).hits[0]
    client_for(staff).post(
        reverse("admin:customs_screeninghit_changelist"),
        {"action": "confirm_hits", "_selected_action": [hit.pk]},
    )
    hit.refresh_from_db()
    assert hit.decision == "confirmed"
    assert screening.references_on_hold(["TP-13"]) == {"TP-13"}


def test_bundled_lists_are_registered_with_version_and_checksum(rules):
    rows = {(r.name, r.version): r for r in ScreeningList.objects.all()}
    sdn = rows[("OFAC SDN", "2024-05-03")]
    assert sdn.entries == 14965
    assert sdn.sha256 == "210ca6b4a8187a34e0850be69ecc6e918f23ad7778b8b5b2f9c9d5fbbaf4e0cb"
