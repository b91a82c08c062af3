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
from marketplace.core.errors import DomainError
from marketplace.orders.locks import HOOKS, lock_one
from marketplace.orders.models import Order, Payment, Refund, WebhookEvent
from marketplace.orders.payments.banktransfer import BankTransferProvider
from marketplace.orders.payments.base import (
    PaymentProvider,
    ProviderError,
    ProviderResult,
    ProviderUnreachable,
)
from marketplace.orders.payments.stripeprovider import StripeProvider
from marketplace.orders.payments.testprovider import TestProvider
from marketplace.orders.services import payment_outcome

logger = logging.getLogger(__name__)
P = Payment.Status

# Every provider the code knows; only the configured card provider and bank transfer are
# live (``enabled_providers``): the test provider is a development tool, never production's.
PROVIDERS: dict[str, PaymentProvider] = {
    "test": TestProvider(),
    "stripe": StripeProvider(),
    "bank_transfer": BankTransferProvider(),
}


def enabled_providers() -> set[str]:
    from marketplace.orders.payments import banktransfer

    card = settings.ORDERS_CARD_PROVIDER
    bank = ["bank_transfer"] if banktransfer.enabled() else []
    return {*bank, *([card] if card else [])}


def provider_for_method(method: str) -> str:
    """Which provider takes a checkout payment method ("card" is configurable)."""
    if method == "card":
        return settings.ORDERS_CARD_PROVIDER or "none"
    return method


def get_provider(name: str) -> PaymentProvider:
    if name not in enabled_providers():
        raise DomainError(_("Unknown payment provider."))
    return PROVIDERS[name]


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    # "paid", "awaiting_transfer", "requires_action", "processing", "failed", "closed"
    state: str
    message: str = ""


def _move_payment(payment: Payment, target: str, **fields) -> None:
    payment.check_transition(target)
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
    except ProviderUnreachable:
        # Unknown: the reconciliation task (or the buyer's next visit) asks again, same key.
        logger.warning("provider unreachable authorising %s", order.number, exc_info=True)
        return outcome(payment)
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
        if status == "captured" and payment.status in (P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED):
            # The provider already holds the money (its webhook, or a reconciliation):
            # record it; no second capture call.
            return _record_settlement(payment=payment, result=result, now=now, actor=actor)
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
                payment_outcome.release_cart(order=payment.order, now=now)
            return outcome(payment)
        if status in ("declined", "failed"):
            if payment.status in (P.PENDING, P.REQUIRES_ACTION):
                _move_payment(
                    payment,
                    P.FAILED,
                    failure_code=result.code[:40],
                    failure_message=result.message or _("The payment was declined."),
                )
                payment_outcome.fail_payment(
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

    Three steps, the provider call outside any transaction or row lock (convention 16):
    decide under the locks (capture, or void when the order closed meanwhile: it expired
    while the buyer authenticated, or was cancelled), call the provider with the key
    ``capture:<payment>`` / ``void:<payment>``, record the answer in a new transaction.
    A timeout leaves the payment authorised; ``reconcile_payments`` asks again with the same
    key, so the provider captures at most once and we record it at most once.
    """
    with transaction.atomic():
        order = lock_one(Order.objects.all(), payment.order_id)
        payment = lock_one(Payment.objects.all(), payment.pk)
        payment.order = order
        if payment.status == P.CAPTURED:
            payment_outcome.mark_paid(order=order, payment=payment, now=now, actor=actor)
            return outcome(payment)
        if payment.status not in (P.AUTHORIZED, P.PENDING, P.REQUIRES_ACTION):
            return outcome(payment)
        capture = order.status == Order.Status.PENDING_PAYMENT
    provider = get_provider(payment.provider)
    try:
        if capture:
            result = provider.capture(
                payment=payment, amount=payment.amount, idempotency_key=f"capture:{payment.pk}"
            )
        else:
            result = provider.void(payment=payment, idempotency_key=f"void:{payment.pk}")
    except ProviderUnreachable:
        logger.warning("provider unreachable settling payment %s", payment.pk, exc_info=True)
        _ensure_authorized(payment, now)
        return outcome(payment)
    return _record_settlement(payment=payment, result=result, now=now, actor=actor)


def _ensure_authorized(payment: Payment, now: datetime) -> None:
    if payment.status in (P.PENDING, P.REQUIRES_ACTION):
        try:
            _move_payment(payment, P.AUTHORIZED, authorized_at=now)
        except DomainError:
            payment.refresh_from_db()


def _record_settlement(
    *, payment: Payment, result: ProviderResult, now: datetime, actor: User | None
) -> PaymentOutcome:
    """The provider's answer to a capture or void, recorded in a transaction of its own."""
    late = declined = False
    with transaction.atomic():
        order = lock_one(Order.objects.all(), payment.order_id)
        payment = lock_one(Payment.objects.all(), payment.pk)
        payment.order = order
        if result.status == "captured" and payment.status in (
            P.PENDING,
            P.REQUIRES_ACTION,
            P.AUTHORIZED,
        ):
            if payment.status != P.AUTHORIZED:
                _move_payment(payment, P.AUTHORIZED, authorized_at=now)
            _move_payment(payment, P.CAPTURED, captured_at=now)
            # The order may have expired or been cancelled between the decision and the
            # capture: the money then goes straight back (below, outside the locks).
            late = not payment_outcome.mark_paid(order=order, payment=payment, now=now, actor=actor)
        elif result.status == "voided" and payment.status in (
            P.PENDING,
            P.REQUIRES_ACTION,
            P.AUTHORIZED,
        ):
            _move_payment(payment, P.VOIDED)
            logger.info("voided payment %s of closed order %s", payment.pk, order.number)
        elif result.status in ("declined", "failed") and payment.status in (
            P.PENDING,
            P.REQUIRES_ACTION,
            P.AUTHORIZED,
        ):
            declined = True
    if declined:
        return apply_result(payment=payment, result=result, now=now, actor=actor)
    if late:
        give_back_late_capture(payment=payment, now=now)
    return outcome(payment)


def give_back_late_capture(*, payment: Payment, now: datetime) -> None:
    """Money captured for an order that had already closed goes back in full at once."""
    key = f"late-refund:{payment.pk}"
    try:
        result = get_provider(payment.provider).refund(
            payment=payment, amount=payment.amount - payment.amount_refunded, idempotency_key=key
        )
    except (ProviderError, ProviderUnreachable):
        # Left captured on a closed order: ``reconcile_payments`` tries again with the key.
        logger.warning("could not give back late payment %s", payment.pk, exc_info=True)
        return
    if result.status != "succeeded":
        logger.warning("provider refused to give back late payment %s", payment.pk)
        return
    with transaction.atomic():
        payment = lock_one(Payment.objects.all(), payment.pk)
        if payment.status == P.CAPTURED:
            _move_payment(payment, P.REFUNDED, amount_refunded=payment.amount)


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
    closed = (Order.Status.EXPIRED, Order.Status.CANCELLED, Order.Status.PAYMENT_FAILED)
    # Orders closed while their payment's void did not reach the provider.
    for order in Order.objects.filter(
        status__in=closed,
        payments__status__in=(P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED),
        payments__created_at__lt=now - older_than,
    ).distinct()[:200]:
        void_open_payments(order=order, now=now)
        count += 1
    # Refunds whose answer was lost.
    for payment in Payment.objects.filter(
        refunds__status=Refund.Status.PENDING, refunds__created_at__lt=now - older_than
    ).distinct()[:200]:
        try:
            count += settle_pending_refunds(payment=payment, now=now)
        except (DomainError, ProviderError, ProviderUnreachable):
            logger.warning("could not settle refunds of payment %s", payment.pk, exc_info=True)
    # Money captured for an order that had already closed, not yet given back.
    for payment in Payment.objects.filter(
        status=P.CAPTURED, order__status__in=closed, refunds__isnull=True
    )[:200]:
        give_back_late_capture(payment=payment, now=now)
        count += 1
    for payment in stale.order_by("pk")[:200]:
        try:
            sync_payment(payment=payment, now=now)
            count += 1
        except (DomainError, ProviderError, ProviderUnreachable):
            logger.warning("could not reconcile payment %s", payment.pk, exc_info=True)
    return count


# --- Webhooks -----------------------------------------------------------------------------


def handle_webhook(*, provider_name: str, body: bytes, headers: dict, now: datetime) -> str:
    """Verify, record once, apply. Returns what happened (for the log and the response).

    The event row is committed first, under ``UniqueConstraint(provider, event_id)``: a replay
    finds it and changes nothing. Applying it happens outside that transaction, since it may
    call the provider (a capture); if the process dies in between, the payment is still open
    and ``reconcile_payments`` settles it by asking the provider.
    """
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
            return "duplicate"
    WebhookEvent.objects.filter(pk=event.pk).update(outcome=result[:200])
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
    if kind == "payment_intent.succeeded":
        result = apply_result(
            payment=payment,
            result=ProviderResult("captured", reference=message.reference),
            now=now,
        )
        return f"succeeded -> {result.state}"
    if kind == "payment_intent.amount_capturable_updated":
        # The buyer confirmed in the browser (manual capture): capture now, whether or not
        # the buyer's redirect ever arrives.
        result = sync_payment(payment=payment, now=now)
        return f"capturable -> {result.state}"
    if kind == "payment_intent.payment_failed":
        # Stripe fires this for each refused attempt; what the intent says now decides.
        result = sync_payment(payment=payment, now=now)
        return f"payment_failed -> {result.state}"
    if kind == "charge.refunded":
        # Our refunds are recorded when Stripe answers the call (or by reconciliation);
        # the event confirms them. A refund made in Stripe's dashboard is flagged for staff.
        settle_pending_refunds(payment=payment, now=now)
        return "refund noted"
    return f"noted {kind}"


# --- Voids and refunds --------------------------------------------------------------------


def void_open_payments(*, order: Order, now: datetime) -> None:
    """The order closed unpaid: release any authorisation (nothing is charged).

    Called after the closing transaction committed, never under its locks. A provider that
    cannot be reached leaves the payment open; ``reconcile_payments`` voids it later. A
    provider that says the money was captured meanwhile gets it given back.
    """
    for payment in Payment.objects.filter(
        order=order, status__in=(P.PENDING, P.REQUIRES_ACTION, P.AUTHORIZED)
    ).order_by("pk"):
        result = None
        if payment.provider_reference:
            try:
                result = get_provider(payment.provider).void(
                    payment=payment, idempotency_key=f"void:{payment.pk}"
                )
            except ProviderUnreachable:
                logger.warning("provider unreachable voiding payment %s", payment.pk)
                continue
            except ProviderError:
                logger.warning("provider could not void payment %s", payment.pk, exc_info=True)
        if result is not None and result.status == "captured":
            _record_settlement(payment=payment, result=result, now=now, actor=None)
            continue
        try:
            _move_payment(payment, P.VOIDED)
        except DomainError:
            logger.info("payment %s moved while voiding", payment.pk)


def send_refund(*, refund: Refund) -> ProviderResult | None:
    """Ask the provider to give the refund's money back, with the refund's own key.

    Outside any transaction. ``None``: the outcome is unknown (timeout), the refund stays
    pending and ``reconcile_payments`` asks again with the same key.
    """
    payment = refund.payment
    provider = get_provider(payment.provider)
    try:
        return provider.refund(
            payment=payment, amount=refund.amount, idempotency_key=refund.idempotency_key
        )
    except ProviderUnreachable:
        logger.warning("provider unreachable refunding %s", refund.pk, exc_info=True)
        return None
    except ProviderError as exc:
        return ProviderResult("failed", code="provider_error", message=str(exc))


def record_refund(*, refund: Refund, reference: str, message: str = "") -> None:
    """The provider gave the money back: the refund and the payment say so (inside the
    caller's transaction, which applies the rest of the refund)."""
    Refund.objects.filter(pk=refund.pk).update(
        status=Refund.Status.SUCCEEDED,
        provider_reference=reference[:80],
        failure_message=message,
    )
    refund.status = Refund.Status.SUCCEEDED
    payment = Payment.objects.get(pk=refund.payment_id)
    Payment.objects.filter(pk=payment.pk).update(
        amount_refunded=F("amount_refunded") + refund.amount
    )
    payment.refresh_from_db(fields=["amount_refunded", "status"])
    target = P.REFUNDED if payment.amount_refunded >= payment.amount else P.PARTIALLY_REFUNDED
    if payment.status != target:
        _move_payment(payment, target)


def settle_pending_refunds(*, payment: Payment, now: datetime) -> int:
    """Refunds whose provider answer we never recorded: ask again (same key) and record."""
    from marketplace.orders.services.refunds import apply_refund_outcome

    settled = 0
    for refund in Refund.objects.filter(payment=payment, status=Refund.Status.PENDING).order_by(
        "pk"
    ):
        provider = get_provider(payment.provider)
        result = None
        finder = getattr(provider, "find_refund", None)
        if finder is not None:
            try:
                result = finder(payment=payment, idempotency_key=refund.idempotency_key)
            except (ProviderError, ProviderUnreachable):
                continue
        if result is None:
            result = send_refund(refund=refund)
        if result is None:
            continue
        apply_refund_outcome(refund=refund, result=result, actor=None, now=now)
        settled += 1
    return settled


def settled_payment(*, order: Order) -> Payment | None:
    return (
        Payment.objects.filter(order=order, status__in=(P.CAPTURED, P.PARTIALLY_REFUNDED))
        .order_by("pk")
        .first()
    )
