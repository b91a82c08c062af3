"""The provider interface. Every call carries an idempotency key: the provider answers a
repeated key with its first answer, so a retried request never charges or refunds twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from marketplace.orders.models import Payment


class ProviderError(Exception):
    """The provider refused the call itself (bad request, key reused with other data)."""


class ProviderUnreachable(Exception):
    """The call timed out or the connection broke: the provider may or may not have acted.

    Never read as a refusal: the row stays where it was and the reconciliation task asks the
    provider later (with the same idempotency key) what became of it.
    """


class InvalidSignature(Exception):
    """A webhook whose signature does not verify: never processed."""


@dataclass(frozen=True)
class ProviderResult:
    # "authorized", "requires_action", "pending", "captured", "declined", "voided",
    # "succeeded" (refunds), "failed"
    status: str
    reference: str = ""
    action_url: str = ""
    code: str = ""
    message: str = ""
    card_last4: str = ""


@dataclass(frozen=True)
class WebhookMessage:
    event_id: str
    event_type: str
    reference: str
    payload: dict = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str
    # Shown to buyers: "Card", "Bank transfer".
    label: str

    def authorize(
        self, *, payment: Payment, details: dict, idempotency_key: str
    ) -> ProviderResult: ...

    def capture(
        self, *, payment: Payment, amount: Decimal, idempotency_key: str
    ) -> ProviderResult: ...

    def void(self, *, payment: Payment, idempotency_key: str) -> ProviderResult: ...

    def refund(
        self, *, payment: Payment, amount: Decimal, idempotency_key: str
    ) -> ProviderResult: ...

    def retrieve(self, *, payment: Payment) -> ProviderResult: ...

    def parse_webhook(self, *, body: bytes, headers: dict) -> WebhookMessage: ...
