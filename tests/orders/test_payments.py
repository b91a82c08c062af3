"""The provider interface: idempotency keys, signed webhooks recorded once, expiry, late payment."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.listings.models import Variant
from marketplace.orders import tasks
from marketplace.orders.models import Order, OrderEvent, Payment, TestProviderCharge, WebhookEvent
from marketplace.orders.payments import service as payments
from marketplace.orders.payments.base import InvalidSignature, ProviderError
from marketplace.orders.payments.testprovider import ASYNC, SIGNATURE_HEADER, TestProvider, sign
from marketplace.orders.services import payment_outcome
from tests.orders import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def webhook_body(reference: str, event_type: str = "charge.authorized", event_id="evt_1"):
    return json.dumps(
        {"id": event_id, "type": event_type, "data": {"reference": reference}}
    ).encode()


@pytest.fixture
def pending_card_order(buyer, tshirt):
    """An order whose card payment waits for the provider's webhook (async test card)."""
    return f.order_for(buyer, [(tshirt, 1)], details={"card_number": ASYNC, "expiry": "12/34"})


def test_the_provider_answers_a_repeated_key_with_its_first_answer(buyer, tshirt):
    order = f.order_for(buyer, [(tshirt, 1)], pay=False)
    payment = Payment.objects.create(
        order=order, provider="test", amount=order.total, currency="EUR", idempotency_key="k-1"
    )
    provider = TestProvider()
    first = provider.authorize(payment=payment, details=f.GOOD_CARD, idempotency_key="k-1")
    again = provider.authorize(payment=payment, details=f.GOOD_CARD, idempotency_key="k-1")
    assert first == again and TestProviderCharge.objects.count() == 1
    payment.amount = D("1.00")
    with pytest.raises(ProviderError, match="different parameters"):
        provider.authorize(payment=payment, details=f.GOOD_CARD, idempotency_key="k-1")


def test_capture_and_refund_replays_change_nothing_and_cannot_exceed_the_charge(buyer, tshirt):
    order = f.order_for(buyer, [(tshirt, 1)])
    payment = order.payments.get()
    provider = TestProvider()
    again = provider.capture(
        payment=payment, amount=payment.amount, idempotency_key=f"capture:{payment.pk}"
    )
    assert again.status == "captured"
    first = provider.refund(payment=payment, amount=D("5.00"), idempotency_key="r-1")
    assert provider.refund(payment=payment, amount=D("5.00"), idempotency_key="r-1") == first
    assert TestProviderCharge.objects.get().refunded == D("5.00")
    with pytest.raises(ProviderError, match="exceeds"):
        provider.refund(payment=payment, amount=payment.amount, idempotency_key="r-2")


def test_a_signed_webhook_confirms_the_payment_and_a_replay_changes_nothing(
    client, pending_card_order
):
    payment = pending_card_order.payments.get()
    body = webhook_body(payment.provider_reference)
    url = reverse("orders:payment-webhook", args=["test"])
    headers = {"HTTP_TRADEPOST_SIGNATURE": sign(body)}
    response = client.post(url, body, content_type="application/json", **headers)
    assert response.status_code == 200
    assert response.json()["result"] == "authorized -> paid"
    pending_card_order.refresh_from_db()
    assert pending_card_order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)
    for _ in range(3):
        replay = client.post(url, body, content_type="application/json", **headers)
        assert replay.json()["result"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert pending_card_order.events.filter(kind=OrderEvent.Kind.PAID).count() == 1


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=abc", None],  # missing, forged, and a valid one for another body (None)
)
def test_a_webhook_without_a_valid_signature_is_refused(client, pending_card_order, signature):
    payment = pending_card_order.payments.get()
    body = webhook_body(payment.provider_reference)
    if signature is None:
        signature = sign(webhook_body("tp_ch_other"))
    response = client.post(
        reverse("orders:payment-webhook", args=["test"]),
        body,
        content_type="application/json",
        HTTP_TRADEPOST_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT


def test_an_old_signature_is_refused():
    body = webhook_body("x")
    old = sign(body, timestamp=int(timezone.now().timestamp()) - 3600)
    with pytest.raises(InvalidSignature, match="tolerance"):
        TestProvider().parse_webhook(body=body, headers={SIGNATURE_HEADER: old})


def test_an_unpaid_order_expires_and_gives_its_stock_back(pending_card_order, tshirt):
    assert Variant.objects.get(pk=tshirt.pk).stock == 49
    later = pending_card_order.expires_at + timedelta(seconds=1)
    assert (
        payment_outcome.expire_unpaid_orders(now=pending_card_order.expires_at - timedelta(1)) == 0
    )
    assert payment_outcome.expire_unpaid_orders(now=later) == 1
    assert payment_outcome.expire_unpaid_orders(now=later) == 0  # run twice: nothing more
    pending_card_order.refresh_from_db()
    assert pending_card_order.status == Order.Status.EXPIRED
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    assert pending_card_order.payments.get().status == Payment.Status.VOIDED
    assert TestProviderCharge.objects.get().status == "voided"
    assert {so.status for so in pending_card_order.shop_orders.all()} == {"cancelled"}


def test_the_expiry_task_is_scheduled_and_runs(settings, pending_card_order):
    schedule = settings.CELERY_BEAT_SCHEDULE["expire-unpaid-orders"]
    assert schedule["task"] == "marketplace.orders.tasks.expire_unpaid_orders"
    Order.objects.filter(pk=pending_card_order.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert tasks.expire_unpaid_orders() == 1


def test_a_payment_arriving_after_expiry_is_voided_not_charged(pending_card_order, tshirt):
    payment_outcome.expire_order(
        order=pending_card_order, now=pending_card_order.expires_at + timedelta(seconds=1)
    )
    payment = pending_card_order.payments.get()
    # The provider had authorised it before expiry; its webhook arrives late.
    TestProviderCharge.objects.filter(reference=payment.provider_reference).update(
        status="authorized"
    )
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)
    body = webhook_body(payment.provider_reference, event_id="evt_late")
    result = payments.handle_webhook(
        provider_name="test",
        body=body,
        headers={SIGNATURE_HEADER: sign(body)},
        now=timezone.now(),
    )
    assert result == "authorized -> closed"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED
    assert TestProviderCharge.objects.get().captured == 0
    pending_card_order.refresh_from_db()
    assert pending_card_order.status == Order.Status.EXPIRED
    assert Variant.objects.get(pk=tshirt.pk).stock == 50


def test_reconciliation_settles_a_payment_whose_webhook_was_lost(pending_card_order):
    payment = pending_card_order.payments.get()
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert payments.reconcile_payments(now=timezone.now()) == 1
    pending_card_order.refresh_from_db()
    assert pending_card_order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)
    assert tasks.reconcile_payments() == 0


def test_a_test_webhook_delivered_twice_by_the_task_is_processed_once(pending_card_order):
    payment = pending_card_order.payments.get()
    payload = {
        "id": "evt_task",
        "type": "charge.authorized",
        "data": {"reference": payment.provider_reference},
    }
    assert tasks.deliver_test_webhook(payload) == "authorized -> paid"
    assert tasks.deliver_test_webhook(payload) == "duplicate"


def test_confirming_a_card_payment_by_hand_is_refused(buyer, tshirt, staff):
    order = f.order_for(buyer, [(tshirt, 1)], pay=False)
    payment = Payment.objects.create(
        order=order, provider="test", amount=order.total, currency="EUR", idempotency_key="x"
    )
    from marketplace.core.errors import DomainError

    with pytest.raises(DomainError, match="Only bank transfers"):
        payments.confirm_bank_transfer(payment=payment, actor=staff, now=timezone.now())


def test_an_unknown_provider_webhook_url_is_a_404(client):
    response = client.post(
        reverse("orders:payment-webhook", args=["paypal"]), b"{}", content_type="application/json"
    )
    assert response.status_code == 404
