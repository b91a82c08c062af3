"""After payment: paperwork through the customs engine, seller pages, shipping, holds, notices."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Notification
from customs.documents import RENDERERS
from customs.models import CustomsDeclaration, PaperworkJob, Restriction, ScreeningHit
from customs.rulebook import invalidate_rules
from marketplace.core.errors import DomainError
from marketplace.orders import tasks
from marketplace.orders.models import Order, OrderEvent, ShopOrder
from marketplace.orders.services import fulfilment, paperwork
from tests.orders import factories as f

pytestmark = pytest.mark.django_db

VALID_S10 = "RR123456785US"


def pdf_text(response) -> str:
    data = b"".join(response.streaming_content)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def paid_order(buyer, tshirt, scarf, run_on_commit):
    with run_on_commit():
        order = f.order_for(buyer, [(tshirt, 2), (scarf, 1)])
    order.refresh_from_db()
    return order


def parcel(order, shop) -> ShopOrder:
    return ShopOrder.objects.select_related("order", "shop").get(order=order, shop=shop)


def test_each_paid_international_parcel_gets_its_declaration_and_documents(
    paid_order, us_shop, cn_shop
):
    for shop in (us_shop, cn_shop):
        so = parcel(paid_order, shop)
        assert so.status == ShopOrder.Status.PAPERWORK_READY
        assert so.paperwork_status == ShopOrder.Paperwork.READY
        declaration = CustomsDeclaration.objects.get(pk=so.declaration_id)
        assert declaration.reference == so.reference
        assert declaration.order_number == paid_order.number
        assert declaration.form == so.customs_form == "CN22"
        assert declaration.incoterm == "DDP" and declaration.tax_collected
        assert declaration.tax_scheme_id == "IM2760000001"
        assert declaration.lines.count() == so.lines.count()
        assert sorted(declaration.documents.values_list("kind", flat=True)) == [
            "advance_data",
            "cn22",
            "cn22_label",
            "invoice",
        ]
    assert paid_order.status == Order.Status.PAPERWORK_READY


def test_the_seller_downloads_the_cn22_and_sees_the_paperwork_timeline(
    paid_order, us_shop, seller, client_for
):
    client = client_for(seller)
    url = reverse("orders:seller-order-detail", args=[us_shop.slug, paid_order.number])
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-paperwork="ready"' in html
    assert "Paperwork queued" in html and "Paperwork ready" in html
    documents = {d.kind: d for d in page.context["documents"]}
    assert set(documents) == {"cn22", "cn22_label", "invoice", "advance_data"}
    response = client.get(
        reverse(
            "orders:seller-document", args=[us_shop.slug, paid_order.number, documents["cn22"].pk]
        )
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response)
    assert "CN 22" in text.upper().replace("CN22", "CN 22")
    assert "610910" in text


def test_a_seller_cannot_download_another_shops_documents(
    paid_order, us_shop, cn_shop, other_seller, client_for
):
    us_doc = parcel(paid_order, us_shop).declaration_id
    from customs.models import CustomsDocument

    document = CustomsDocument.objects.filter(declaration_id=us_doc).first()
    client = client_for(other_seller)
    # Through their own shop's URL: the document is not theirs.
    url = reverse("orders:seller-document", args=[cn_shop.slug, paid_order.number, document.pk])
    assert client.get(url).status_code == 404
    url = reverse("orders:seller-document", args=[us_shop.slug, paid_order.number, document.pk])
    assert client.get(url).status_code == 404


def test_the_buyer_sees_the_commercial_invoice_but_not_the_declaration(
    paid_order, buyer, us_shop, client_for
):
    client = client_for(buyer)
    page = client.get(paid_order.get_absolute_url())
    so = next(s for s in page.context["shop_orders"] if s.shop_id == us_shop.pk)
    assert so.service_label and f"{so.service_label} delivery: " in page.content.decode()
    assert [d.kind for d in so.buyer_documents] == ["invoice"]
    invoice = so.buyer_documents[0]
    response = client.get(reverse("orders:order-document", args=[paid_order.number, invoice.pk]))
    assert response.status_code == 200
    assert f"INV-{so.reference}" in pdf_text(response)
    cn22 = ShopOrder.objects.get(pk=so.pk)
    from customs.models import CustomsDocument

    declaration_doc = CustomsDocument.objects.get(declaration_id=cn22.declaration_id, kind="cn22")
    url = reverse("orders:order-document", args=[paid_order.number, declaration_doc.pk])
    assert client.get(url).status_code == 404


def test_shipping_with_a_bad_postal_id_is_refused_and_a_good_one_updates_the_declaration(
    paid_order, us_shop, seller, client_for, run_on_commit
):
    client = client_for(seller)
    url = reverse("orders:seller-order-ship", args=[us_shop.slug, paid_order.number])
    response = client.post(url, {"carrier": "post", "tracking_number": "RR123456784US"})
    assert response.status_code == 200
    assert "wrong check digit" in response.context["ship_form"].errors["tracking_number"][0]
    so = parcel(paid_order, us_shop)
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    # A valid id from another country's post (Royal Mail's GB) cannot leave the US.
    response = client.post(
        url, {"carrier": "post", "tracking_number": "RR123456785GB"}, follow=True
    )
    assert "issued by the post of GB, but the parcel leaves from US" in response.content.decode()
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.PAPERWORK_READY and not so.tracking_number

    with run_on_commit():
        response = client.post(url, {"carrier": "post", "tracking_number": "rr 123456785 us"})
    assert response.status_code == 302
    so.refresh_from_db()
    assert (so.status, so.carrier, so.tracking_number) == ("shipped", "post", VALID_S10)
    declaration = CustomsDeclaration.objects.get(pk=so.declaration_id)
    assert declaration.item_id == VALID_S10
    # The documents were rendered again with the barcode: version 2, one of each kind.
    assert declaration.documents.filter(version=2).count() == 4
    assert PaperworkJob.objects.get(declaration=declaration, version=2).status == "done"
    shipped = [m for m in mail.outbox if "is on its way" in m.subject]
    assert len(shipped) == 1 and VALID_S10 in shipped[0].body
    # The order is shipped only when every parcel is.
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PAPERWORK_READY


def test_the_buyer_sees_both_tracking_numbers_and_the_order_is_shipped(
    paid_order, us_shop, cn_shop, buyer, client_for
):
    for shop, number in ((us_shop, VALID_S10), (cn_shop, "1Z999AA10123456784")):
        carrier = "post" if number == VALID_S10 else "ups"
        fulfilment.ship_shop_order(
            shop_order=parcel(paid_order, shop),
            carrier=carrier,
            tracking_number=number,
            actor=shop.members.first(),
            now=timezone.now(),
        )
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.SHIPPED
    html = client_for(buyer).get(paid_order.get_absolute_url()).content.decode()
    assert html.count("data-tracking") == 2
    assert VALID_S10 in html and "1Z999AA10123456784" in html
    assert "https://parcelsapp.com/en/tracking/RR123456785US" in html


def test_shipping_waits_for_the_paperwork(buyer, tshirt, us_shop, seller):
    # Without running the after-commit hooks the customs job never runs: paperwork is queued.
    order = f.order_for(buyer, [(tshirt, 1)])
    so = parcel(order, us_shop)
    assert so.paperwork_status == ShopOrder.Paperwork.QUEUED
    with pytest.raises(DomainError, match="paperwork is not ready"):
        fulfilment.ship_shop_order(
            shop_order=so,
            carrier="post",
            tracking_number=VALID_S10,
            actor=seller,
            now=timezone.now(),
        )


def test_a_domestic_parcel_ships_without_paperwork(buyer, mug, de_shop, run_on_commit):
    with run_on_commit():
        order = f.order_for(buyer, [(mug, 1)])
    so = parcel(order, de_shop)
    assert so.paperwork_status == ShopOrder.Paperwork.NOT_NEEDED and so.declaration_id is None
    fulfilment.ship_shop_order(
        shop_order=so,
        carrier="dhl",
        tracking_number="JD014600003828",
        actor=de_shop.owner,
        now=timezone.now(),
    )
    fulfilment.mark_delivered(shop_order=so, actor=de_shop.owner, now=timezone.now())
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED


def test_failed_paperwork_shows_the_reason_and_a_retry_makes_it(
    buyer, tshirt, us_shop, seller, staff, client_for, run_on_commit, monkeypatch
):
    def broken(declaration):
        raise ValueError("invoice template missing")

    monkeypatch.setitem(RENDERERS, "invoice", (broken, "application/pdf"))
    with run_on_commit():
        order = f.order_for(buyer, [(tshirt, 1)])
    so = parcel(order, us_shop)
    assert so.paperwork_status == ShopOrder.Paperwork.FAILED
    assert "invoice template missing" in so.paperwork_error
    assert so.status == ShopOrder.Status.PAID
    failed = order.events.get(kind=OrderEvent.Kind.PAPERWORK_FAILED)
    assert "invoice template missing" in failed.note
    # Admins are told; the owners hear it from customs (one message each, not two).
    assert Notification.objects.filter(user=staff, kind="paperwork_failed_admin").count() == 1
    assert Notification.objects.filter(user=seller, kind="customs_paperwork_failed").count() == 1
    assert not Notification.objects.filter(user=seller, kind="paperwork_failed").exists()

    client = client_for(seller)
    detail = reverse("orders:seller-order-detail", args=[us_shop.slug, order.number])
    html = client.get(detail).content.decode()
    assert "invoice template missing" in html and "Try again" in html

    monkeypatch.undo()
    with run_on_commit():
        response = client.post(
            reverse("orders:seller-paperwork-retry", args=[us_shop.slug, order.number])
        )
    assert response.status_code == 302
    so.refresh_from_db()
    assert so.paperwork_status == ShopOrder.Paperwork.READY
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    kinds = list(order.events.filter(shop_order=so).values_list("kind", flat=True))
    assert kinds.count("paperwork_queued") == 2 and kinds[-1] == "paperwork_ready"


def test_customs_refusing_the_declaration_fails_the_paperwork_not_the_payment(
    buyer, tshirt, us_shop, seller, run_on_commit
):
    order = f.order_for(buyer, [(tshirt, 1)], pay=False)
    # A restriction that arrived after checkout: customs will not declare the goods now.
    Restriction.objects.create(
        hs_prefix="6109",
        destination="DE",
        action="block",
        reason="Test embargo on T-shirts.",
        effective_from=date(2020, 1, 1),
    )
    invalidate_rules()
    from marketplace.orders.payments import service as payments

    with run_on_commit():
        payments.start_payment(order=order, details=f.GOOD_CARD, now=timezone.now())
    order.refresh_from_db()
    so = parcel(order, us_shop)
    assert order.status == Order.Status.PAID  # the money is taken, the parcel waits
    assert so.paperwork_status == ShopOrder.Paperwork.FAILED
    assert "Test embargo on T-shirts." in so.paperwork_error
    assert so.declaration_id is None
    assert Notification.objects.filter(user=seller, kind="paperwork_failed").count() == 1


def test_a_screening_hit_holds_the_parcel_until_an_admin_releases_it(
    rules, tshirt, us_shop, seller, staff, run_on_commit, client_for
):
    from tests.factories import AddressFactory, UserFactory

    flagged = UserFactory(email="flag@example.test", name="Aerocaribbean Airlines", country="DE")
    address = AddressFactory(user=flagged, name="Aerocaribbean Airlines")
    with run_on_commit():
        order = f.order_for(flagged, [(tshirt, 1)], address=address)
    so = parcel(order, us_shop)
    assert so.held_at is not None and "Aerocaribbean" in so.hold_reason
    assert so.paperwork_status == ShopOrder.Paperwork.HELD
    assert so.declaration_id is None
    assert ScreeningHit.objects.filter(reference=so.reference).exists()
    assert Notification.objects.filter(user=staff, kind="screening_hold").count() == 1
    with pytest.raises(DomainError, match="on hold"):
        fulfilment.ship_shop_order(
            shop_order=so,
            carrier="post",
            tracking_number=VALID_S10,
            actor=seller,
            now=timezone.now(),
        )
    page = client_for(seller).get(
        reverse("orders:seller-order-detail", args=[us_shop.slug, order.number])
    )
    assert "On hold for a compliance review." in page.content.decode()

    admin = client_for(staff)
    with run_on_commit():
        admin.post(
            reverse("admin:orders_shoporder_changelist"),
            {
                "action": "release_hold",
                "_selected_action": [so.pk],
                "apply": "1",
                "reason": "Not the listed airline: a private buyer in Berlin.",
            },
        )
    so.refresh_from_db()
    assert so.held_at is None and so.paperwork_status == ShopOrder.Paperwork.READY
    assert set(
        ScreeningHit.objects.filter(reference=so.reference).values_list("decision", flat=True)
    ) == {"cleared"}
    assert order.events.filter(kind=OrderEvent.Kind.RELEASED, actor=staff).count() == 1


def test_the_seller_page_does_not_offer_shipping_a_held_parcel(
    rules, tshirt, us_shop, seller, run_on_commit, client_for
):
    """The page and the service ask the same rule: a held parcel is not offered
    "Mark as shipped" (it was, and the service then refused it)."""
    from tests.factories import AddressFactory, UserFactory

    flagged = UserFactory(email="flag@example.test", name="Aerocaribbean Airlines", country="DE")
    address = AddressFactory(user=flagged, name="Aerocaribbean Airlines")
    with run_on_commit():
        order = f.order_for(flagged, [(tshirt, 1)], address=address)
    so = parcel(order, us_shop)
    assert so.held_at is not None and so.status == ShopOrder.Status.PAID
    assert "ship" not in so.available_transitions(seller)
    assert "on hold" in so.ship_refusal()
    html = (
        client_for(seller)
        .get(reverse("orders:seller-order-detail", args=[us_shop.slug, order.number]))
        .content.decode()
    )
    assert "On hold for a compliance review." in html
    assert "Mark as shipped" not in html
    assert reverse("orders:seller-order-ship", args=[us_shop.slug, order.number]) not in html
    # The owner may still cancel or refund it.
    assert set(so.available_transitions(seller)) == {"cancel", "refund"}


def test_a_confirmed_hit_cannot_be_released(rules, tshirt, us_shop, staff):
    from customs.screening import decide_screening_hit
    from tests.factories import AddressFactory, UserFactory

    flagged = UserFactory(name="Aerocaribbean Airlines")
    order = f.order_for(
        flagged, [(tshirt, 1)], address=AddressFactory(user=flagged, name="Aerocaribbean Airlines")
    )
    so = parcel(order, us_shop)
    for hit in ScreeningHit.objects.filter(reference=so.reference):
        decide_screening_hit(hit=hit, decision="confirmed", actor=staff)
    with pytest.raises(DomainError, match="confirmed"):
        paperwork.release_hold(shop_order=so, actor=staff, note="", now=timezone.now())


def test_notification_tasks_run_twice_notify_once(paid_order, buyer):
    before = Notification.objects.count()
    for event in paid_order.events.filter(kind__in=OrderEvent.NOTIFYING):
        OrderEvent.objects.filter(pk=event.pk).update(notified_at=None)
        tasks.notify_order_event(event.pk)
        tasks.notify_order_event(event.pk)
    assert Notification.objects.count() == before


def test_the_sweeper_sends_events_a_broker_outage_left_unsent(buyer, tshirt, us_shop):
    order = f.order_for(buyer, [(tshirt, 1)])  # after-commit hooks never ran: nothing sent
    placed = order.events.get(kind=OrderEvent.Kind.PLACED)
    assert placed.notified_at is None
    OrderEvent.objects.filter(pk=placed.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.sweep_order_notifications() >= 1
    placed.refresh_from_db()
    assert placed.notified_at is not None
    assert Notification.objects.filter(user=buyer, kind="order_placed").count() == 1


def test_customs_tells_orders_after_commit_that_the_paperwork_is_done(
    buyer, tshirt, us_shop, run_on_commit
):
    from customs.signals import paperwork_finished

    heard = []

    def listen(sender, **kwargs):
        heard.append({k: kwargs[k] for k in ("reference", "version", "status", "error")})

    paperwork_finished.connect(listen, dispatch_uid="test-listen")
    try:
        with run_on_commit() as callbacks:
            order = f.order_for(buyer, [(tshirt, 1)])
            so = parcel(order, us_shop)
            assert heard == []  # nothing is told before the payment's transaction commits
        assert callbacks
    finally:
        paperwork_finished.disconnect(dispatch_uid="test-listen")
    assert heard == [{"reference": so.reference, "version": 1, "status": "done", "error": ""}]
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    assert so.paperwork_status == ShopOrder.Paperwork.READY
    assert order.events.filter(shop_order=so, kind="paperwork_ready").count() == 1


def test_the_paperwork_sweeper_catches_up_with_a_lost_signal(buyer, tshirt, us_shop):
    order = f.order_for(buyer, [(tshirt, 1)])
    so = parcel(order, us_shop)
    assert so.paperwork_status == ShopOrder.Paperwork.QUEUED
    # The customs job ran (its own sweeper) but its after-commit signal was lost (the test's
    # transaction never commits, as a worker dying between commit and signal would).
    from customs.services import process_paperwork_job

    process_paperwork_job(job_id=PaperworkJob.objects.get(declaration_id=so.declaration_id).pk)
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.PAID
    assert tasks.sweep_paperwork() == 1
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    assert tasks.sweep_paperwork() == 0  # idempotent
    # The signal arriving late changes nothing either.
    late = paperwork.record_paperwork_outcome(
        reference=so.reference, version=1, status="done", error="", now=timezone.now()
    )
    assert late == "idle"
    assert order.events.filter(shop_order=so, kind="paperwork_ready").count() == 1


def test_emails_go_out_in_the_recipients_language(rules, tshirt, us_shop, run_on_commit):
    from tests.factories import AddressFactory, UserFactory

    spanish = UserFactory(email="ana@example.test", name="Ana", preferred_language="es")
    with run_on_commit():
        f.order_for(spanish, [(tshirt, 1)], address=AddressFactory(user=spanish))
    notification = Notification.objects.get(user=spanish, kind="order_paid")
    assert notification.email_status in ("sent", "pending")
    message = next(m for m in mail.outbox if m.to == ["ana@example.test"] and "TP-" in m.subject)
    assert message.alternatives and "text/html" in message.alternatives[0][1]


def test_order_emails_carry_the_address_as_the_destination_writes_it(paid_order, buyer):
    from django.core import mail

    placed = Notification.objects.get(user=buyer, kind="order_placed")
    assert placed.context["ship_to"] == [
        "Bea Buyer", "Friedrichstraße 123", "10117 BERLIN", "GERMANY",
    ]  # fmt: skip
    seller_mail = [m for m in mail.outbox if paid_order.number in m.subject and "new" in
                   m.subject.lower()]  # fmt: skip
    assert seller_mail, [m.subject for m in mail.outbox]
    assert "Friedrichstraße 123\n10117 BERLIN\nGERMANY\n+49 30 1234567\n" in seller_mail[0].body


def test_an_intra_eu_parcel_needs_no_paperwork_and_is_ready_to_ship_at_once(
    mug, de_shop, run_on_commit, client_for
):
    """A German shop's parcel to France crosses no customs border: it used to stay "Paid"
    and be counted as "Waiting for paperwork" forever."""
    from tests.factories import AddressFactory, UserFactory

    french = UserFactory(email="claire@example.test", name="Claire Martin", country="FR")
    paris = AddressFactory(user=french, country="FR", city="Paris", postcode="75001")
    with run_on_commit():
        order = f.order_for(french, [(mug, 1)], address=paris)
    so = parcel(order, de_shop)
    assert not so.international
    assert so.status == ShopOrder.Status.PAPERWORK_READY
    assert so.paperwork_status == ShopOrder.Paperwork.NOT_NEEDED and so.declaration_id is None
    assert not PaperworkJob.objects.exists()
    order.refresh_from_db()
    assert order.status == Order.Status.PAPERWORK_READY
    assert "ship" in so.available_transitions(de_shop.owner)
    html = (
        client_for(de_shop.owner)
        .get(reverse("orders:seller-orders", args=[de_shop.slug]))
        .content.decode()
    )
    assert "Waiting for paperwork (0)" in html and "Ready to ship (1)" in html
    fulfilment.ship_shop_order(
        shop_order=so,
        carrier="dhl",
        tracking_number="JD014600003828",
        actor=de_shop.owner,
        now=timezone.now(),
    )
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.SHIPPED


def test_the_seller_sets_the_category_of_item_and_the_documents_are_made_again(
    paid_order, us_shop, seller, other_seller, client_for, run_on_commit
):
    so = parcel(paid_order, us_shop)
    url = reverse("orders:seller-declaration-category", args=[us_shop.slug, paid_order.number])
    client = client_for(seller)
    detail = client.get(
        reverse("orders:seller-order-detail", args=[us_shop.slug, paid_order.number])
    )
    assert 'name="category"' in detail.content.decode()
    response = client.post(url, {"category": "other", "explanation": ""}, follow=True)
    assert "explain what is sent" in response.content.decode()
    with run_on_commit():
        response = client.post(url, {"category": "commercial_sample", "explanation": ""})
    assert response.status_code == 302
    declaration = CustomsDeclaration.objects.get(pk=so.declaration_id)
    assert declaration.category == "commercial_sample"
    assert declaration.documents.filter(version=2).count() == 4
    assert client_for(other_seller).post(url, {"category": "gift"}).status_code == 404
    declaration.refresh_from_db()
    assert declaration.category == "commercial_sample"
