"""Card payments through Stripe: the real ``stripe`` client over HTTP against localstripe.

What ran where: every PaymentIntent, capture, cancel and refund call below went through the
official client to localstripe (tests/orders/stripe_fakes.py), via a loopback proxy that can
delay or drop a call. Webhook bodies are localstripe's intents, signed as Stripe signs them
and verified by ``stripe.Webhook.construct_event``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.core.errors import DomainError
from marketplace.core.money import to_minor_units
from marketplace.listings.models import Variant
from marketplace.orders.models import (
    LedgerEntry,
    Order,
    OrderEvent,
    Payment,
    Refund,
    WebhookEvent,
)
from marketplace.orders.payments import service as payments
from marketplace.orders.services import payment_outcome
from tests.orders import factories as f
from tests.orders.stripe_fakes import (
    DECLINED,
    SUCCESS,
    THREE_D_SECURE,
    Fault,
    api,
    browser_pays,
    intent_event,
    signed_event,
)

pytestmark = pytest.mark.django_db
D = Decimal
P = Payment.Status


@pytest.fixture
def card_order(stripe_settings, buyer, tshirt):
    """An order placed with Stripe as the card provider: its intent waits for the buyer."""
    return f.order_for(buyer, [(tshirt, 2)], currency="GBP")


def _return(client, buyer, order):
    client.force_login(buyer)
    return client.get(reverse("orders:order-payment-return", args=[order.number]))


def _post_webhook(client, event):
    body, signature = signed_event(event)
    return client.post(
        reverse("orders:payment-webhook", args=["stripe"]),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def test_one_intent_for_the_whole_order_in_the_buyers_currency(card_order, localstripe):
    payment = card_order.payments.get()
    assert payment.provider == "stripe"
    assert payment.status == P.REQUIRES_ACTION
    assert payment.provider_reference.startswith("pi_")
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["amount"] == to_minor_units(card_order.total, "GBP")
    assert intent["currency"] == "gbp"
    assert intent["capture_method"] == "manual"
    assert intent["metadata"] == {
        "tradepost_payment": str(payment.pk),
        "tradepost_order": card_order.number,
    }
    assert card_order.status == Order.Status.PENDING_PAYMENT


def test_the_card_page_hands_stripe_js_the_client_secret_and_nothing_else(
    client, card_order, buyer, stripe_proxy, stranger
):
    url = reverse("orders:stripe-pay", args=[card_order.number])
    client.force_login(buyer)
    response = client.get(url)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'src="{stripe_proxy.url}/js.stripe.com/v3/"' in body
    assert 'data-client-secret="pi_' in body
    assert 'name="card_number"' not in body  # the card goes into Stripe.js, not our form
    assert response["Cache-Control"] == "no-store"
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_paying_in_the_browser_marks_the_order_paid_and_captures_once(
    client, card_order, buyer, localstripe, stripe_proxy
):
    payment = card_order.payments.get()
    assert browser_pays(localstripe, payment.provider_reference, SUCCESS)["status"] == (
        "requires_capture"
    )

    response = _return(client, buyer, card_order)

    assert response.status_code == 302
    card_order.refresh_from_db()
    payment.refresh_from_db()
    assert card_order.status == Order.Status.PAID
    assert payment.status == P.CAPTURED
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "succeeded"
    captures = [line for line in stripe_proxy.seen if line.endswith("/capture")]
    assert len(captures) == 1
    assert LedgerEntry.objects.filter(kind="sale", shop_order__order=card_order).count() == 1

    # Stripe's payment_intent.succeeded follows, twice: recorded once, changes nothing.
    event = intent_event(
        localstripe, "payment_intent.succeeded", payment.provider_reference, event_id="evt_ok"
    )
    assert _post_webhook(client, event).json() == {"result": "succeeded -> paid"}
    assert _post_webhook(client, event).json() == {"result": "duplicate"}
    assert WebhookEvent.objects.filter(provider="stripe").count() == 1
    assert OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.PAID).count() == 1


def test_three_d_secure_approved_pays_and_failed_fails_with_stock_back(
    client, stripe_settings, buyer, tshirt, localstripe, stock_invariant
):
    initial = {tshirt.pk: Variant.objects.get(pk=tshirt.pk).stock}
    approved = f.order_for(buyer, [(tshirt, 1)], currency="EUR")
    browser_pays(localstripe, approved.payments.get().provider_reference, THREE_D_SECURE)
    _return(client, buyer, approved)
    approved.refresh_from_db()
    assert approved.status == Order.Status.PAID

    refused = f.order_for(buyer, [(tshirt, 3)], currency="EUR")
    intent = browser_pays(
        localstripe,
        refused.payments.get().provider_reference,
        THREE_D_SECURE,
        authenticate=False,
    )
    assert intent["status"] == "requires_payment_method"
    _return(client, buyer, refused)

    refused.refresh_from_db()
    assert refused.status == Order.Status.PAYMENT_FAILED
    assert refused.payments.get().status == P.FAILED
    assert Variant.objects.get(pk=tshirt.pk).stock == initial[tshirt.pk] - 1
    assert stock_invariant(initial) == []


def test_a_declined_card_fails_the_order_and_nothing_is_charged(
    client, card_order, buyer, localstripe
):
    payment = card_order.payments.get()
    browser_pays(localstripe, payment.provider_reference, DECLINED)

    response = _return(client, buyer, card_order)

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:checkout")
    card_order.refresh_from_db()
    payment.refresh_from_db()
    assert card_order.status == Order.Status.PAYMENT_FAILED
    assert payment.status == P.FAILED
    assert payment.failure_code == "card_declined"
    assert not LedgerEntry.objects.filter(shop_order__order=card_order).exists()


def test_a_webhook_with_a_bad_signature_is_refused(client, card_order, localstripe):
    payment = card_order.payments.get()
    event = intent_event(
        localstripe, "payment_intent.succeeded", payment.provider_reference, event_id="evt_x"
    )
    body, _signature = signed_event(event, secret="whsec_somebody_else")
    response = client.post(
        reverse("orders:payment-webhook", args=["stripe"]),
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=_signature,
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_the_webhook_arriving_before_the_buyer_returns_settles_the_order(
    client, card_order, buyer, localstripe
):
    payment = card_order.payments.get()
    browser_pays(localstripe, payment.provider_reference, SUCCESS)
    event = intent_event(
        localstripe,
        "payment_intent.amount_capturable_updated",
        payment.provider_reference,
        event_id="evt_capturable",
    )

    assert _post_webhook(client, event).json() == {"result": "capturable -> paid"}
    _return(client, buyer, card_order)  # the buyer's redirect comes after: nothing more

    card_order.refresh_from_db()
    assert card_order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.PAID).count() == 1


def test_an_expired_order_cancels_its_intent_at_stripe(card_order, localstripe):
    payment = card_order.payments.get()
    later = card_order.expires_at + timezone.timedelta(seconds=1)

    assert payment_outcome.expire_order(order=card_order, now=later)

    payment.refresh_from_db()
    assert payment.status == P.VOIDED
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "canceled"


def test_a_capture_that_times_out_is_settled_by_reconciliation_exactly_once(
    client, card_order, buyer, localstripe, stripe_proxy, stock_invariant, ledger_invariant
):
    payment = card_order.payments.get()
    browser_pays(localstripe, payment.provider_reference, SUCCESS)
    # Slower than the client's timeout, on the first try and on the client's own retry.
    stripe_proxy.faults.append(Fault("/capture", "delay", seconds=3, times=2))

    _return(client, buyer, card_order)

    payment.refresh_from_db()
    card_order.refresh_from_db()
    assert payment.status == P.AUTHORIZED  # unknown: neither paid nor failed
    assert card_order.status == Order.Status.PENDING_PAYMENT

    later = timezone.now() + timezone.timedelta(minutes=5)
    assert payments.reconcile_payments(now=later) == 1
    assert payments.reconcile_payments(now=later) == 0  # run twice: nothing more

    payment.refresh_from_db()
    card_order.refresh_from_db()
    assert payment.status == P.CAPTURED
    assert card_order.status == Order.Status.PAID
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "succeeded"
    charge = intent["latest_charge"]
    assert charge["captured"] is True
    assert charge["amount"] == to_minor_units(card_order.total, "GBP")
    assert LedgerEntry.objects.filter(kind="sale", shop_order__order=card_order).count() == 1
    assert ledger_invariant() == []


def test_a_capture_whose_answer_is_lost_is_recorded_by_reconciliation(
    client, card_order, buyer, localstripe, stripe_proxy, ledger_invariant
):
    """Stripe captured, the process never heard (the answer was dropped on the way back)."""
    payment = card_order.payments.get()
    browser_pays(localstripe, payment.provider_reference, SUCCESS)
    stripe_proxy.faults.append(Fault("/capture", "drop", times=2))

    _return(client, buyer, card_order)

    payment.refresh_from_db()
    assert payment.status == P.AUTHORIZED
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "succeeded"  # the money is held at Stripe, not yet in our rows

    payments.reconcile_payments(now=timezone.now() + timezone.timedelta(minutes=5))

    payment.refresh_from_db()
    card_order.refresh_from_db()
    assert payment.status == P.CAPTURED
    assert card_order.status == Order.Status.PAID
    assert OrderEvent.objects.filter(order=card_order, kind=OrderEvent.Kind.PAID).count() == 1
    assert ledger_invariant() == []


def test_stripe_unreachable_when_the_order_is_placed_leaves_it_payable(
    client, stripe_settings, stripe_proxy, buyer, tshirt
):
    stripe_proxy.faults.append(Fault("POST /v1/payment_intents", "refuse", times=2))
    order = f.order_for(buyer, [(tshirt, 1)], currency="EUR")
    payment = order.payments.get()
    assert payment.status == P.PENDING and not payment.provider_reference
    assert order.status == Order.Status.PENDING_PAYMENT

    client.force_login(buyer)
    response = client.get(reverse("orders:stripe-pay", args=[order.number]))

    assert response.status_code == 200  # asked again with the same key: the intent exists
    payment.refresh_from_db()
    assert payment.provider_reference.startswith("pi_")
    assert payment.status == P.REQUIRES_ACTION


# --- Refunds and cancellations: the provider is called after the locks are released ----------


@pytest.fixture
def paid_card_order(client, card_order, buyer, localstripe):
    browser_pays(localstripe, card_order.payments.get().provider_reference, SUCCESS)
    _return(client, buyer, card_order)
    card_order.refresh_from_db()
    assert card_order.status == Order.Status.PAID
    return card_order


def _refund_all(order, reason="Out of stock after all"):
    from marketplace.orders.services import refunds

    parcel = order.shop_orders.get()
    return refunds.refund_shop_order(
        shop_order=parcel,
        lines={line.pk: line.quantity for line in parcel.lines.all()},
        include_shipping=True,
        reason=reason,
        actor=None,
        now=timezone.now(),
    )


def test_a_refund_goes_back_through_stripe_once(
    paid_card_order, localstripe, stock_invariant, ledger_invariant, tshirt
):
    refund = _refund_all(paid_card_order)

    assert refund.status == Refund.Status.SUCCEEDED
    assert refund.provider_reference.startswith("re_")
    payment = paid_card_order.payments.get()
    assert payment.status == P.REFUNDED and payment.amount_refunded == paid_card_order.total
    assert paid_card_order.shop_orders.get().status == "cancelled"
    assert ledger_invariant() == []


def test_a_refund_stripe_refuses_changes_nothing_but_the_refund_row(
    paid_card_order, stripe_proxy, tshirt, ledger_invariant
):
    stock = Variant.objects.get(pk=tshirt.pk).stock
    stripe_proxy.faults.append(Fault("POST /v1/refunds", "reject"))

    with pytest.raises(DomainError, match="already been refunded"):
        _refund_all(paid_card_order)

    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED
    assert "already been refunded" in refund.failure_message
    parcel = paid_card_order.shop_orders.get()
    assert parcel.status == "paid" and parcel.amount_refunded == 0
    assert Variant.objects.get(pk=tshirt.pk).stock == stock  # nothing restocked
    assert paid_card_order.payments.get().status == P.CAPTURED
    assert not LedgerEntry.objects.filter(kind="refund").exists()
    assert ledger_invariant() == []

    # A new attempt (new key) goes through.
    assert _refund_all(paid_card_order).status == Refund.Status.SUCCEEDED
    assert ledger_invariant() == []


def test_a_refund_whose_answer_is_lost_is_found_by_reconciliation(
    paid_card_order, stripe_proxy, localstripe, tshirt, stock_invariant, ledger_invariant
):
    initial = {tshirt.pk: Variant.objects.get(pk=tshirt.pk).stock + 2}
    stripe_proxy.faults.append(Fault("POST /v1/refunds", "drop", times=2))

    refund = _refund_all(paid_card_order)

    assert refund.status == Refund.Status.PENDING  # unknown: Stripe refunded, we never heard
    assert paid_card_order.shop_orders.get().status == "paid"
    intent = paid_card_order.payments.get().provider_reference
    assert api(localstripe, "GET", "/v1/refunds", payment_intent=intent)["data"]

    later = timezone.now() + timezone.timedelta(minutes=5)
    payments.reconcile_payments(now=later)
    payments.reconcile_payments(now=later)  # run twice: applied once

    refund.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED
    assert LedgerEntry.objects.filter(refund=refund, kind="refund").count() == 1
    assert paid_card_order.shop_orders.get().status == "cancelled"
    assert stock_invariant(initial) == []
    assert ledger_invariant() == []


def test_cancelling_an_unpaid_order_cancels_its_intent_after_the_commit(
    card_order, buyer, localstripe, stripe_proxy
):
    from marketplace.orders.services import refunds

    payment = card_order.payments.get()
    stripe_proxy.faults.append(Fault("/cancel", "refuse", times=2))

    refunds.cancel_order(
        order=card_order, actor=buyer, reason="Changed my mind", now=timezone.now()
    )

    card_order.refresh_from_db()
    payment.refresh_from_db()
    assert card_order.status == Order.Status.CANCELLED  # closed at once
    assert payment.status == P.REQUIRES_ACTION  # Stripe was down: the intent is still open
    payments.reconcile_payments(now=timezone.now() + timezone.timedelta(minutes=5))
    payment.refresh_from_db()
    assert payment.status == P.VOIDED
    intent = api(localstripe, "GET", f"/v1/payment_intents/{payment.provider_reference}")
    assert intent["status"] == "canceled"
