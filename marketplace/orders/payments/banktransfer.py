"""Offline bank transfer: the buyer pays to the platform's account quoting the order number;
an admin confirms the money arrived (Django admin action), which captures the payment."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from marketplace.orders.models import Payment
from marketplace.orders.payments.base import ProviderError, ProviderResult, WebhookMessage


def bank_details() -> dict:
    """Where buyers send the money: this deployment's account, from the environment
    (``ORDERS_BANK_ACCOUNT_*``); there is no built-in fallback account."""
    return dict(settings.ORDERS_BANK_ACCOUNT)


def enabled() -> bool:
    return settings.ORDERS_BANK_TRANSFER and bool(bank_details().get("iban"))


class BankTransferProvider:
    name = "bank_transfer"
    label = _("Bank transfer")

    def authorize(self, *, payment: Payment, details: dict, idempotency_key: str):
        # Nothing happens at a bank until the buyer sends money: the order number is the
        # reference the buyer quotes, and what the admin matches the statement against.
        return ProviderResult("pending", reference=f"BT-{payment.order.number}")

    def capture(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        if amount != payment.amount:
            raise ProviderError("a bank transfer is captured for the full amount")
        return ProviderResult("captured", reference=payment.provider_reference or "")

    def void(self, *, payment: Payment, idempotency_key: str):
        return ProviderResult("voided", reference=payment.provider_reference or "")

    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str):
        # Sent back by the finance team by transfer; the refund row records the duty to do so.
        return ProviderResult(
            "succeeded",
            reference=idempotency_key,
            message=_("To be returned by bank transfer to the buyer."),
        )

    def retrieve(self, *, payment: Payment) -> ProviderResult:
        return ProviderResult(
            "captured" if payment.is_settled else "pending",
            reference=payment.provider_reference or "",
        )

    def parse_webhook(self, *, body: bytes, headers: dict) -> WebhookMessage:
        raise ProviderError("bank transfers have no webhooks")
