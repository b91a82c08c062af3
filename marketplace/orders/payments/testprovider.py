"""A built-in card provider that behaves like a real one, for development, demos and tests.

Test cards (any future expiry, any 3-digit CVC):

=====================  =================================================================
4242 4242 4242 4242    authorised at once; a ``charge.authorized`` webhook follows
4000 0027 6000 3184    needs a second step (3-D Secure): the buyer confirms on our page
4000 0000 0000 0077    pending; authorised a moment later, only by webhook
4000 0000 0000 0002    declined (card_declined)
4000 0000 0000 9995    declined (insufficient_funds)
=====================  =================================================================

Its "server" keeps its own rows (``TestProviderCharge``): a repeated idempotency key gets the
first answer, the same key with another amount is refused, refunds cannot exceed what was
captured. Webhooks are signed (HMAC-SHA256 over "<timestamp>.<body>", header
``Tradepost-Signature: t=<timestamp>,v1=<hex>``) and delivered by a Celery task to the same
handler the HTTP endpoint uses. Unlike a remote provider its rows share our database
transaction; the idempotency keys are what make that difference harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.orders.models import Payment, TestProviderCharge
from marketplace.orders.payments.base import (
    InvalidSignature,
    ProviderError,
    ProviderResult,
    WebhookMessage,
)

SUCCESS = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
ASYNC = "4000000000000077"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
TEST_CARDS = {
    SUCCESS: "success",
    THREE_D_SECURE: "3ds",
    ASYNC: "async",
    DECLINED: "card_declined",
    INSUFFICIENT_FUNDS: "insufficient_funds",
}
SIGNATURE_HEADER = "Tradepost-Signature"
logger = logging.getLogger(__name__)
SIGNATURE_TOLERANCE_SECONDS = 300


def secret() -> bytes:
    value = settings.ORDERS_TEST_PROVIDER_SECRET or ("test-provider:" + settings.SECRET_KEY)
    return value.encode()


def sign(body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        checksum += digit
    return checksum % 10 == 0


def _expiry_ok(expiry: str, today: date) -> bool:
    try:
        month, year = expiry.replace(" ", "").split("/")
        month, year = int(month), int(year)
    except ValueError:
        return False
    year += 2000 if year < 100 else 0
    return 1 <= month <= 12 and (year, month) >= (today.year, today.month)


def _result(data: dict) -> ProviderResult:
    return ProviderResult(**data)


class TestProvider:
    name = "test"
    label = _("Card (test provider)")

    # --- the "server" --------------------------------------------------------------------

    def _replay(self, charge: TestProviderCharge, key: str, fingerprint: dict):
        stored = charge.operations.get(key)
        if stored is None:
            return None
        if stored["fingerprint"] != fingerprint:
            raise ProviderError("idempotency key reused with different parameters")
        return _result(stored["result"])

    def _remember(self, charge: TestProviderCharge, key: str, fingerprint: dict, result):
        charge.operations[key] = {"fingerprint": fingerprint, "result": result.__dict__}

    def _emit(self, event_type: str, charge: TestProviderCharge, *, countdown: int = 0) -> None:
        from marketplace.orders.tasks import deliver_test_webhook

        payload = {
            "id": "evt_" + secrets.token_hex(12),
            "type": event_type,
            "created": int(time.time()),
            "data": {
                "reference": charge.reference,
                "amount": str(charge.amount),
                "currency": charge.currency,
                "status": charge.status,
                "decline_code": charge.decline_code,
            },
        }

        def publish() -> None:
            # Like a real provider's delivery: if it cannot reach us now, the payment is
            # reconciled later from our side (``reconcile_payments``).
            try:
                deliver_test_webhook.apply_async(args=[payload], countdown=countdown)
            except Exception:
                logger.warning("could not publish test webhook %s", payload["id"])

        transaction.on_commit(publish)

    # --- the provider interface -----------------------------------------------------------

    def authorize(self, *, payment: Payment, details: dict, idempotency_key: str):
        number = "".join(ch for ch in str(details.get("card_number", "")) if ch.isdigit())
        fingerprint = {"amount": str(payment.amount), "currency": payment.currency}
        existing = TestProviderCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            replay = self._replay(existing, "authorize", fingerprint)
            if replay is not None:
                return replay
        if len(number) < 12 or not luhn_ok(number):
            return ProviderResult(
                "declined", code="invalid_number", message=_("The card number is not valid.")
            )
        if not _expiry_ok(str(details.get("expiry", "")), date.today()):
            return ProviderResult(
                "declined",
                code="expired_card",
                message=_("The card has expired or the date is wrong."),
            )
        behaviour = TEST_CARDS.get(number)
        if behaviour is None:
            return ProviderResult(
                "declined",
                code="card_not_supported",
                message=_("This provider only takes test cards, e.g. 4242 4242 4242 4242."),
            )
        charge = TestProviderCharge(
            reference="tp_ch_" + secrets.token_hex(10),
            idempotency_key=idempotency_key,
            amount=payment.amount,
            currency=payment.currency,
            card_last4=number[-4:],
        )
        if behaviour == "success":
            charge.status = "authorized"
            result = ProviderResult(
                "authorized", reference=charge.reference, card_last4=charge.card_last4
            )
        elif behaviour == "3ds":
            charge.status = "requires_action"
            result = ProviderResult(
                "requires_action",
                reference=charge.reference,
                action_url=reverse("orders:test-provider-authenticate", args=[charge.reference]),
                card_last4=charge.card_last4,
            )
        elif behaviour == "async":
            charge.status = "processing"
            result = ProviderResult(
                "pending", reference=charge.reference, card_last4=charge.card_last4
            )
        else:
            charge.status = "declined"
            charge.decline_code = behaviour
            result = ProviderResult(
                "declined",
                reference=charge.reference,
                code=behaviour,
                message=_("Your card has insufficient funds.")
                if behaviour == "insufficient_funds"
                else _("Your card was declined."),
                card_last4=charge.card_last4,
            )
        self._remember(charge, "authorize", fingerprint, result)
        try:
            with transaction.atomic():
                charge.save()
        except IntegrityError:
            # The same key arrived twice at once: answer with what the first one stored.
            existing = TestProviderCharge.objects.get(idempotency_key=idempotency_key)
            return self._replay(existing, "authorize", fingerprint)
        if behaviour == "success":
            self._emit("charge.authorized", charge)
        elif behaviour == "async":
            charge.status = "authorized"
            TestProviderCharge.objects.filter(pk=charge.pk).update(status="authorized")
            self._emit("charge.authorized", charge, countdown=2)
        return result

    def complete_authentication(self, *, reference: str, approve: bool) -> TestProviderCharge:
        """The buyer's answer on the second-step page; the outcome arrives by webhook."""
        with transaction.atomic():
            charge = TestProviderCharge.objects.select_for_update().get(reference=reference)
            if charge.status != "requires_action":
                return charge
            charge.status = "authorized" if approve else "declined"
            charge.decline_code = "" if approve else "authentication_failed"
            charge.save(update_fields=["status", "decline_code"])
            self._emit("charge.authorized" if approve else "charge.failed", charge)
        return charge

    def _charge(self, payment: Payment) -> TestProviderCharge:
        charge = (
            TestProviderCharge.objects.select_for_update()
            .filter(reference=payment.provider_reference)
            .first()
        )
        if charge is None:
            raise ProviderError("no such charge")
        return charge

    def capture(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        with transaction.atomic():
            charge = self._charge(payment)
            fingerprint = {"amount": str(amount)}
            replay = self._replay(charge, idempotency_key, fingerprint)
            if replay is not None:
                return replay
            if charge.status != "authorized":
                raise ProviderError(f"cannot capture a {charge.status} charge")
            if amount > charge.amount:
                raise ProviderError("capture exceeds the authorised amount")
            charge.status = "captured"
            charge.captured = amount
            result = ProviderResult("captured", reference=charge.reference)
            self._remember(charge, idempotency_key, fingerprint, result)
            charge.save(update_fields=["status", "captured", "operations"])
        return result

    def void(self, *, payment: Payment, idempotency_key: str):
        with transaction.atomic():
            charge = self._charge(payment)
            replay = self._replay(charge, idempotency_key, {})
            if replay is not None:
                return replay
            if charge.status not in ("authorized", "requires_action", "processing"):
                result = ProviderResult(charge.status, reference=charge.reference)
            else:
                charge.status = "voided"
                result = ProviderResult("voided", reference=charge.reference)
            self._remember(charge, idempotency_key, {}, result)
            charge.save(update_fields=["status", "operations"])
        return result

    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        with transaction.atomic():
            charge = self._charge(payment)
            fingerprint = {"amount": str(amount)}
            replay = self._replay(charge, idempotency_key, fingerprint)
            if replay is not None:
                return replay
            if charge.status not in ("captured", "partially_refunded"):
                raise ProviderError(f"cannot refund a {charge.status} charge")
            if charge.refunded + amount > charge.captured:
                raise ProviderError("refund exceeds the captured amount")
            charge.refunded += amount
            charge.status = (
                "refunded" if charge.refunded == charge.captured else ("partially_refunded")
            )
            result = ProviderResult("succeeded", reference="tp_re_" + secrets.token_hex(10))
            self._remember(charge, idempotency_key, fingerprint, result)
            charge.save(update_fields=["status", "refunded", "operations"])
            self._emit("charge.refunded", charge)
        return result

    def retrieve(self, *, payment: Payment) -> ProviderResult:
        charge = TestProviderCharge.objects.filter(reference=payment.provider_reference).first()
        if charge is None:
            return ProviderResult("failed", code="no_such_charge")
        status = {
            "requires_action": "requires_action",
            "processing": "pending",
            "authorized": "authorized",
            "captured": "captured",
            "declined": "declined",
            "voided": "voided",
        }.get(charge.status, charge.status)
        return ProviderResult(status, reference=charge.reference, code=charge.decline_code)

    def parse_webhook(self, *, body: bytes, headers: dict) -> WebhookMessage:
        header = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower()) or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise InvalidSignature("missing timestamp") from None
        if abs(time.time() - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
            raise InvalidSignature("timestamp outside the tolerance")
        expected = sign(body, timestamp=timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts.get("v1", "")):
            raise InvalidSignature("signature mismatch")
        try:
            payload = json.loads(body)
            return WebhookMessage(
                event_id=str(payload["id"]),
                event_type=str(payload["type"]),
                reference=str(payload["data"]["reference"]),
                payload=payload,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidSignature(f"malformed payload: {exc}") from None
