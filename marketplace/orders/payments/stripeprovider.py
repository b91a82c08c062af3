"""Card payments through Stripe (the official ``stripe`` client), "separate charges and transfers".

One PaymentIntent per order, in the buyer's (presentment) currency, for the order's total,
with ``capture_method=manual``: the buyer confirms it in the browser with Stripe.js (the card
Element and ``confirmCardPayment``, which also runs 3-D Secure), so card data never reaches
our server; we capture once the order can still take the money, or cancel the intent (nothing
charged) when it expired or was cancelled meanwhile.

Every call that creates or moves money carries an idempotency key derived from our own row
(the payment's key, ``capture:<payment>``, ``void:<payment>``, the refund's key), and our key
also travels in the object's metadata, so reconciliation can find a refund whose answer was
lost. A timeout or broken connection raises ``ProviderUnreachable``: the outcome is unknown,
never read as a refusal.

Webhooks are verified with ``stripe.Webhook.construct_event`` and the endpoint secret.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.core.money import to_minor_units
from marketplace.orders.models import Payment
from marketplace.orders.payments.base import (
    InvalidSignature,
    ProviderError,
    ProviderResult,
    ProviderUnreachable,
    WebhookMessage,
)

SIGNATURE_HEADER = "Stripe-Signature"
# What a PaymentIntent's status means for our Payment (see ``ProviderResult.status``).
INTENT_STATUS = {
    "requires_payment_method": "requires_action",
    "requires_confirmation": "requires_action",
    "requires_action": "requires_action",
    "processing": "pending",
    "requires_capture": "authorized",
    "succeeded": "captured",
    "canceled": "voided",
}
# The webhook events we act on; the reference is the PaymentIntent's id.
EVENTS = (
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
)


@cache
def _client(api_key: str, api_base: str, timeout: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        http_client=stripe.RequestsClient(timeout=timeout),
        # Our own idempotency keys make a retry safe; the reconciliation task does the rest.
        max_network_retries=1,
    )


def client() -> stripe.StripeClient:
    return _client(
        settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, settings.STRIPE_TIMEOUT_SECONDS
    )


def js_url() -> str:
    """Where the page loads Stripe.js from (the fake server's copy in tests)."""
    base = settings.STRIPE_API_BASE
    return f"{base}/js.stripe.com/v3/" if base else "https://js.stripe.com/v3/"


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.APIConnectionError as exc:
        raise ProviderUnreachable(str(exc)) from exc
    except stripe.CardError as exc:
        raise _Declined(exc) from exc
    except stripe.StripeError as exc:
        if getattr(exc, "http_status", None) and exc.http_status >= 500:
            raise ProviderUnreachable(str(exc)) from exc
        raise ProviderError(exc.user_message or str(exc)) from exc


class _Declined(Exception):
    def __init__(self, exc: stripe.CardError):
        super().__init__(str(exc))
        self.code = (exc.code or "card_declined")[:40]
        self.message = exc.user_message or _("Your card was declined.")


def _plain(obj, name: str):
    """A field of a Stripe object as plain data ({} / "" when absent)."""
    value = obj.to_dict().get(name)
    return value if value is not None else {}


def _result(intent) -> ProviderResult:
    status = INTENT_STATUS.get(intent.status, "pending")
    error = _plain(intent, "last_payment_error")
    if intent.status == "requires_payment_method" and error:
        # The buyer tried a card and it was refused (or 3-D Secure failed).
        code = error.get("decline_code") or error.get("code") or "card_declined"
        return ProviderResult(
            "declined",
            reference=intent.id,
            code=str(code)[:40],
            message=_("Your card was declined."),
        )
    return ProviderResult(status, reference=intent.id)


class StripeProvider:
    name = "stripe"
    label = gettext_lazy("Card")

    def authorize(self, *, payment: Payment, details: dict, idempotency_key: str):
        """Create the order's PaymentIntent; the buyer confirms it on our card page."""
        try:
            intent = _call(
                client().v1.payment_intents.create,
                params={
                    "amount": to_minor_units(payment.amount, payment.currency),
                    "currency": payment.currency.lower(),
                    "capture_method": "manual",
                    "payment_method_types": ["card"],
                    "metadata": {
                        "tradepost_payment": str(payment.pk),
                        "tradepost_order": payment.order.number,
                    },
                },
                options={"idempotency_key": idempotency_key},
            )
        except _Declined as exc:
            return ProviderResult("declined", code=exc.code, message=exc.message)
        result = _result(intent)
        if result.status == "requires_action":
            return ProviderResult(
                "requires_action",
                reference=intent.id,
                action_url=reverse("orders:stripe-pay", args=[payment.order.number]),
            )
        return result

    def client_secret(self, *, payment: Payment) -> str:
        """What Stripe.js needs to confirm the intent in the buyer's browser."""
        intent = _call(client().v1.payment_intents.retrieve, payment.provider_reference)
        return intent.client_secret

    def capture(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        try:
            intent = _call(
                client().v1.payment_intents.capture,
                payment.provider_reference,
                params={"amount_to_capture": to_minor_units(amount, payment.currency)},
                options={"idempotency_key": idempotency_key},
            )
        except (ProviderError, _Declined):
            # Captured already (a retried capture whose key expired), or no longer capturable:
            # what the intent says now is the answer.
            return self.retrieve(payment=payment)
        return _result(intent)

    def void(self, *, payment: Payment, idempotency_key: str):
        try:
            intent = _call(
                client().v1.payment_intents.cancel,
                payment.provider_reference,
                options={"idempotency_key": idempotency_key},
            )
        except (ProviderError, _Declined):
            return self.retrieve(payment=payment)
        return _result(intent)

    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        try:
            refund = _call(
                client().v1.refunds.create,
                params={
                    "payment_intent": payment.provider_reference,
                    "amount": to_minor_units(amount, payment.currency),
                    "metadata": {"tradepost_refund": idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        except _Declined as exc:
            return ProviderResult("failed", code=exc.code, message=exc.message)
        return _refund_result(refund)

    def find_refund(self, *, payment: Payment, idempotency_key: str) -> ProviderResult | None:
        """Reconciliation: the refund we asked for under this key, if Stripe has it."""
        refunds = _call(
            client().v1.refunds.list,
            params={"payment_intent": payment.provider_reference, "limit": 100},
        )
        for refund in refunds.data:
            if _plain(refund, "metadata").get("tradepost_refund") == idempotency_key:
                return _refund_result(refund)
        return None

    def retrieve(self, *, payment: Payment) -> ProviderResult:
        intent = _call(client().v1.payment_intents.retrieve, payment.provider_reference)
        return _result(intent)

    def parse_webhook(self, *, body: bytes, headers: dict) -> WebhookMessage:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        try:
            event = stripe.Webhook.construct_event(
                body.decode("utf-8"), header, settings.STRIPE_WEBHOOK_SECRET
            )
        except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
            raise InvalidSignature(str(exc)) from None
        payload = json.loads(body)
        obj = payload.get("data", {}).get("object", {}) or {}
        reference = obj.get("id", "") if event.type.startswith("payment_intent.") else ""
        if event.type.startswith("charge."):
            reference = obj.get("payment_intent") or ""
        return WebhookMessage(
            event_id=str(event.id),
            event_type=str(event.type),
            reference=str(reference or ""),
            payload=payload,
        )


def _refund_result(refund) -> ProviderResult:
    if refund.status in ("succeeded", "pending"):
        # A pending card refund is on its way; Stripe reports a later failure by webhook.
        return ProviderResult("succeeded", reference=refund.id)
    return ProviderResult(
        "failed",
        reference=refund.id,
        code=str(_plain(refund, "failure_reason") or "refund_failed")[:40],
        message=_("The card network did not accept the refund."),
    )
