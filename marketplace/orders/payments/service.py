"""Payment services: start a payment, apply what the provider says, handle webhooks, refund.

Every provider call carries an idempotency key derived from our rows (``<order>:1`` for the
authorisation, ``capture:<payment>``, ``void:<payment>``, the refund's key), so a retried or
concurrent call gets the provider's first answer. Payment status changes are compare-and-swap
updates against ``Payment.TRANSITIONS``. A webhook is recorded first under
``UniqueConstraint(provider, event_id)``: a replay finds the row and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError, IllegalTransition
from marketplace.orders import services
from marketplace.orders.locks import HOOKS, lock_one
from marketplace.orders.models import Order, Payment, Refund, WebhookEvent
from marketplace.orders.payments.banktransfer import BankTransferProvider
from marketplace.orders.payments.base import PaymentProvider, ProviderError, ProviderResult
from marketplace.orders.payments.testprovider import TestProvider

logger = logging.getLogger(__name__)
P = Payment.Status

PROVIDERS: dict[str, PaymentProvider] = {
    "test": TestProvider(),
    "bank_transfer": BankTransferProvider(),
}


def provider_for_method(method: str) -> str:
    """Which provider takes a checkout payment method ("card" is configurable)."""
    if method == "card":
        return getattr(settings, "ORDERS_CARD_PROVIDER", "test")
    return method


def get_provider(name: str) -> PaymentProvider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DomainError(_("Unknown payment provider.")) from None


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    # "paid", "awaiting_transfer", "requires_action", "processing", "failed", "closed"
    state: str
    message: str = ""


def _move_payment(payment: Payment, target: str, **fields) -> None:
    if target not in Payment.TRANSITIONS.get(payment.status, set()):
        raise IllegalTransition(
            _("A payment that is “%(old)s” cannot become “%(new)s”.")
            % {"old": payment.get_status_display(), "new": P(target).label}
        )
    moved = Payment.objects.filter(pk=payment.pk, status=payment.status).update(
        status=target, **fields
    )
    if moved != 1:
        raise DomainError(_("This payment changed meanwhile. Reload the page."), code="conflict")
    payment.status = target
    for name, value in fields.items():
        setattr(payment, name, value)


# --- Starting a payment -------------------------------------------------------------------


def start_payment(*, order: Order, details: dict, now: datetime) -> PaymentOutcome:
    """Authorise the order's payment with its provider and act on the answer.

    Called once per checkout submit; a double submit reaches here with the same order and
    the same key, and gets the same outcome without a second authorisation.
    """
    provider_name = provider_for_method(order.payment_method)
    provider = get_provider(provider_name)
    key = f"{order.number}:1"
    try:
        with transaction.atomic():
            payment, _created = Payment.objects.get_or_create(
                provider=provider_name,
                idempotency_key=key,
                defaults={
                    "order": order,
                    "amount": order.total,
                    "currency": order.currency,
                    "created_at": now,
                },
            )
    except IntegrityError:
        payment = Payment.objects.get(provider=provider_name, idempotency_key=key)
    if payment.status != P.PENDING or payment.provider_reference:
        return outcome(payment)
    if order.status != Order.Status.PENDING_PAYMENT:
        return outcome(payment)
    try:
        result = provider.authorize(payment=payment, details=details, idempotency_key=key)
    except ProviderError as exc:
        logger.warning("provider refused authorisation of %s: %s", order.number, exc)
        result = ProviderResult(
            "declined", code="provider_error", message=_("The payment could not be started.")
        )
    return apply_result(payment=payment, result=result, now=now)


def apply_result(
    *, payment: Payment, result: ProviderResult, now: datetime, actor: User | None = None
) -> PaymentOutcome:
    """Move the payment (and the order) to what the provider reported."""
    payment = Payment.objects.select_related("order").get(pk=payment.pk)
    updates = {}
    if result.reference and not payment.provider_reference:
        updates["provider_reference"] = result.reference
    if result.card_last4 and not payment.card_last4:
        updates["card_last4"] = result.card_last4
    if updates:
        Payment.objects.filter(pk=payment.pk).update(**updates)
        for name, value in updates.items():
            setattr(payment, name, value)
    status = result.status
    try:
        if status in ("authorized", "captured"):
            if payment.status in (P.PENDING, P.REQUIRES_ACTION):
                _move_payment(payment, P.AUTHORIZED, authorized_at=now)
            return capture_and_mark_paid(payment=payment, now=now, actor=actor)
        if status == "requires_action":
            if payment.status == P.PENDING:
                _move_payment(payment, P.REQUIRES_ACTION, action_url=result.action_url)
            return outcome(payment)
        if status == "pending":
            if payment.provider == "bank_transfer":
                # The buyer committed to pay by transfer: the cart is done with.
                services.release_cart(order=payment.order, now=now)
            return outcome(payment)
        if status in ("declined", "failed"):
            if payment.status in (P.PENDING, P.REQUIRES_ACTION):
                _move_payment(
                    payment,
                    P.FAILED,
                    failure_code=result.code[:40],
                    failure_message=result.message or _("The payment was declined."),
                )
                services.fail_payment(
                    order=payment.order,
                    reason=result.message or _("The payment was declined."),
                    now=now,
                )
            return outcome(payment)
        if status == "voided" and payment.status in (P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED):
            _move_payment(payment, P.VOIDED)
            return outcome(payment)
    except DomainError as exc:
        # A concurrent handler moved it first: report where it stands now.
        logger.info("payment %s moved concurrently: %s", payment.pk, exc)
        payment.refresh_from_db()
    return outcome(payment)


def outcome(payment: Payment) -> PaymentOutcome:
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    if payment.is_settled and order.status not in (
        Order.Status.CANCELLED,
        Order.Status.EXPIRED,
    ):
        return PaymentOutcome(payment, "paid")
    if payment.status == P.FAILED:
        return PaymentOutcome(payment, "failed", payment.failure_message)
    if payment.status == P.VOIDED or order.status in (
        Order.Status.EXPIRED,
        Order.Status.CANCELLED,
    ):
        return PaymentOutcome(
            payment, "closed", _("This order is closed; nothing was charged for it.")
        )
    if payment.status == P.REQUIRES_ACTION:
        return PaymentOutcome(payment, "requires_action")
    if payment.provider == "bank_transfer":
        return PaymentOutcome(payment, "awaiting_transfer")
    return PaymentOutcome(payment, "processing")


def capture_and_mark_paid(
    *, payment: Payment, now: datetime, actor: User | None = None
) -> PaymentOutcome:
    """Capture an authorised payment and mark its order paid, exactly once.

    If the order closed meanwhile (it expired while the buyer authenticated, or was
    cancelled), the authorisation is voided instead: nothing is charged.
    """
    provider = get_provider(payment.provider)
    with transaction.atomic():
        order = lock_one(Order.objects.all(), payment.order_id)
        payment = lock_one(Payment.objects.all(), payment.pk)
        payment.order = order
        if payment.status == P.CAPTURED:
            services.mark_paid(order=order, payment=payment, now=now, actor=actor)
        elif payment.status in (P.AUTHORIZED, P.PENDING, P.REQUIRES_ACTION):
            if order.status != Order.Status.PENDING_PAYMENT:
                provider.void(payment=payment, idempotency_key=f"void:{payment.pk}")
                _move_payment(payment, P.VOIDED)
                logger.info("voided late payment %s of closed order %s", payment.pk, order.number)
            else:
                provider.capture(
                    payment=payment, amount=payment.amount, idempotency_key=f"capture:{payment.pk}"
                )
                if payment.status != P.AUTHORIZED:
                    _move_payment(payment, P.AUTHORIZED, authorized_at=now)
                _move_payment(payment, P.CAPTURED, captured_at=now)
                if not services.mark_paid(order=order, payment=payment, now=now, actor=actor):
                    raise DomainError(_("The order closed before the payment arrived."))
    return outcome(payment)


def confirm_bank_transfer(*, payment: Payment, actor: User, now: datetime) -> PaymentOutcome:
    """An admin matched the buyer's transfer on the bank statement."""
    if payment.provider != "bank_transfer":
        raise DomainError(_("Only bank transfers are confirmed by hand."))
    if payment.status != P.PENDING:
        raise DomainError(
            _("This payment is “%(status)s”, not awaiting a transfer.")
            % {"status": payment.get_status_display()}
        )
    result = capture_and_mark_paid(payment=payment, now=now, actor=actor)
    if result.state != "paid":
        raise DomainError(result.message or _("The order could not take the payment."))
    return result


def sync_payment(*, payment: Payment, now: datetime) -> PaymentOutcome:
    """Ask the provider where an unfinished payment stands (the buyer is back from the
    second step before the webhook, or a webhook was lost) and apply it."""
    if payment.status not in (P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED):
        return outcome(payment)
    if payment.provider == "bank_transfer" or not payment.provider_reference:
        return outcome(payment)
    result = get_provider(payment.provider).retrieve(payment=payment)
    if result.status in ("requires_action", "pending") and payment.status == P.AUTHORIZED:
        return outcome(payment)
    return apply_result(payment=payment, result=result, now=now)


def reconcile_payments(*, now: datetime, older_than: timedelta = timedelta(minutes=2)) -> int:
    """The sweeper's half of webhook delivery: settle card payments left unfinished."""
    stale = Payment.objects.filter(
        status__in=(P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED),
        created_at__lt=now - older_than,
        provider_reference__isnull=False,
    ).exclude(provider="bank_transfer")
    count = 0
    for payment in stale.order_by("pk")[:200]:
        try:
            sync_payment(payment=payment, now=now)
            count += 1
        except (DomainError, ProviderError):
            logger.warning("could not reconcile payment %s", payment.pk, exc_info=True)
    return count


# --- Webhooks -----------------------------------------------------------------------------


class _Duplicate(Exception):
    pass


def handle_webhook(*, provider_name: str, body: bytes, headers: dict, now: datetime) -> str:
    """Verify, record once, apply. Returns what happened (for the log and the response)."""
    provider = get_provider(provider_name)
    message = provider.parse_webhook(body=body, headers=headers)  # InvalidSignature -> 400
    values = {
        "provider": provider_name,
        "event_id": message.event_id,
        "event_type": message.event_type[:60],
        "reference": message.reference[:80],
        "payload": message.payload,
        "received_at": now,
    }
    try:
        with transaction.atomic():
            if not HOOKS.skip_locks:
                try:
                    with transaction.atomic():
                        event = WebhookEvent.objects.create(**values)
                except IntegrityError:
                    return "duplicate"
            result = _dispatch(provider_name, message, now)
            if HOOKS.skip_locks:
                # Control only: record last, so concurrent replays all get this far.
                try:
                    with transaction.atomic():
                        event = WebhookEvent.objects.create(**values)
                except IntegrityError:
                    HOOKS.count("webhook_duplicate_rejected_by_constraint")
                    raise _Duplicate from None
            WebhookEvent.objects.filter(pk=event.pk).update(outcome=result[:200])
    except _Duplicate:
        return "duplicate"
    return result


def _dispatch(provider_name: str, message, now: datetime) -> str:
    HOOKS.count("webhook_dispatch")
    if HOOKS.pause_after_check:
        import time

        time.sleep(HOOKS.pause_after_check)
    payment = Payment.objects.filter(
        provider=provider_name, provider_reference=message.reference
    ).first()
    if payment is None:
        return "unknown payment"
    kind = message.event_type
    if kind == "charge.authorized":
        result = apply_result(
            payment=payment,
            result=ProviderResult("authorized", reference=message.reference),
            now=now,
        )
        return f"authorized -> {result.state}"
    if kind == "charge.failed":
        code = (message.payload.get("data") or {}).get("decline_code", "")
        result = apply_result(
            payment=payment,
            result=ProviderResult(
                "declined", code=code, message=_("The card issuer did not confirm the payment.")
            ),
            now=now,
        )
        return f"failed -> {result.state}"
    return f"noted {kind}"


# --- Voids and refunds --------------------------------------------------------------------


def void_open_payments(*, order: Order, now: datetime) -> None:
    """The order closed unpaid: release any authorisation (nothing is charged)."""
    for payment in Payment.objects.filter(
        order=order, status__in=(P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED)
    ).order_by("pk"):
        if payment.provider_reference:
            try:
                get_provider(payment.provider).void(
                    payment=payment, idempotency_key=f"void:{payment.pk}"
                )
            except ProviderError:
                logger.warning("provider could not void payment %s", payment.pk, exc_info=True)
        _move_payment(payment, P.VOIDED)


def settled_payment(*, order: Order) -> Payment | None:
    return (
        Payment.objects.filter(order=order, status__in=(P.CAPTURED, P.PARTIALLY_REFUNDED))
        .order_by("pk")
        .first()
    )


def refund(*, payment: Payment, refund: Refund, now: datetime) -> None:
    """Send a refund through the provider (inside the caller's transaction)."""
    try:
        result = get_provider(payment.provider).refund(
            payment=payment, amount=refund.amount, idempotency_key=refund.idempotency_key
        )
    except ProviderError as exc:
        raise DomainError(
            _("The payment provider refused the refund: %(error)s") % {"error": exc}
        ) from exc
    if result.status != "succeeded":
        raise DomainError(result.message or _("The refund did not go through."))
    Refund.objects.filter(pk=refund.pk).update(
        status=Refund.Status.SUCCEEDED,
        provider_reference=result.reference[:80],
        failure_message=result.message,
    )
    refund.status = Refund.Status.SUCCEEDED
    Payment.objects.filter(pk=payment.pk).update(
        amount_refunded=F("amount_refunded") + refund.amount
    )
    payment.refresh_from_db(fields=["amount_refunded", "status"])
    target = P.REFUNDED if payment.amount_refunded >= payment.amount else P.PARTIALLY_REFUNDED
    if payment.status != target:
        _move_payment(payment, target)
