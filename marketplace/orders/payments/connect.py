"""Payouts through Stripe Connect ("separate charges and transfers").

The platform charges the buyer (``stripeprovider``); each shop has an Express connected
account, onboarded through an account link; what a shop earned is sent with a transfer from
the platform's balance. Every create carries an idempotency key from our rows
(``connect-account:<shop>``, ``payout:<payout>:<attempt>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marketplace.core.money import to_minor_units
from marketplace.orders.models import Payout, PayoutAccount
from marketplace.orders.payments.base import ProviderResult
from marketplace.orders.payments.stripeprovider import _call, client


@dataclass(frozen=True)
class AccountState:
    status: str
    reason: str = ""


def account_state(account) -> AccountState:
    """pending / enabled / restricted, with Stripe's reason (requirements.disabled_reason)."""
    data = account.to_dict() if hasattr(account, "to_dict") else dict(account)
    requirements = data.get("requirements") or {}
    reason = requirements.get("disabled_reason") or ", ".join(
        requirements.get("currently_due") or []
    )
    if data.get("payouts_enabled"):
        return AccountState(PayoutAccount.Status.ENABLED)
    if not data.get("details_submitted"):
        return AccountState(PayoutAccount.Status.PENDING, reason)
    return AccountState(PayoutAccount.Status.RESTRICTED, reason or "restricted")


class StripeConnect:
    name = PayoutAccount.Method.STRIPE_CONNECT

    def create_account(self, *, account: PayoutAccount, email: str) -> str:
        created = _call(
            client().v1.accounts.create,
            params={
                "type": "express",
                "country": str(account.country or account.shop.country),
                "email": email,
                "capabilities": {"transfers": {"requested": True}},
                "metadata": {"tradepost_shop": str(account.shop_id)},
            },
            options={"idempotency_key": f"connect-account:{account.shop_id}"},
        )
        return created.id

    def onboarding_link(self, *, account: PayoutAccount, refresh_url: str, return_url: str):
        link = _call(
            client().v1.account_links.create,
            params={
                "account": account.stripe_account_id,
                "refresh_url": refresh_url,
                "return_url": return_url,
                "type": "account_onboarding",
            },
        )
        return link.url

    def refresh(self, *, account: PayoutAccount) -> AccountState:
        return account_state(_call(client().v1.accounts.retrieve, account.stripe_account_id))

    def transfer(self, *, payout: Payout, account: PayoutAccount, key: str) -> ProviderResult:
        """Send the payout; raises ProviderError (refused) or ProviderUnreachable (unknown)."""
        transfer = _call(
            client().v1.transfers.create,
            params={
                "amount": to_minor_units(Decimal(payout.amount), payout.currency),
                "currency": payout.currency.lower(),
                "destination": account.stripe_account_id,
                "transfer_group": f"payout-{payout.pk}",
                "metadata": {"tradepost_payout": str(payout.pk)},
            },
            options={"idempotency_key": key},
        )
        return ProviderResult("succeeded", reference=transfer.id)
