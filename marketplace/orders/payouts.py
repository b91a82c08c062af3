"""Automatic payouts: what a shop earned, once available, goes to its payout account.

``run_payouts`` (periodic task) does, per shop with an enabled account:

1. In one transaction, under the shop's row lock: work out what is available (delivered
   parcels, or shipped ``PAYOUT_HOLD_DAYS`` ago; less commission and refunds, less earlier
   payouts) and write a ``Payout`` row, state ``created``. A partial unique constraint allows
   one open payout per shop and currency, so running twice creates one. A balance of zero or
   less creates nothing: a negative balance (a refund after a payout) carries over and is
   netted against the next sales.
2. Outside any transaction: the transfer, with the key ``payout:<pk>:<attempt>``.
3. In a new transaction: success books the ledger's payout entry (linked to the payout and
   so to the transfer id) and marks it paid; a refusal keeps it open with the reason (shown
   to the seller and in the admin) and the next run tries again under a new attempt number;
   a timeout keeps the attempt number, so the retry is the same request to Stripe.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Shop
from marketplace.core.money import quantize
from marketplace.orders import ledger
from marketplace.orders.models import LedgerEntry, Payout, PayoutAccount
from marketplace.orders.payments.base import ProviderError, ProviderUnreachable
from marketplace.orders.payments.connect import StripeConnect

logger = logging.getLogger(__name__)
OPEN = (Payout.Status.CREATED, Payout.Status.SENT)
# After this many refused attempts the payout is marked failed and waits for staff.
MAX_ATTEMPTS = 5


def open_payouts(shop: Shop):
    return Payout.objects.filter(shop=shop, status__in=OPEN)


def payable(shop: Shop, now: datetime) -> Decimal:
    """Available balance less what open payouts are already carrying."""
    available = ledger.balance(shop, now).available
    in_flight = sum((p.amount for p in open_payouts(shop)), start=Decimal(0))
    return quantize(available - in_flight, shop.currency)


def create_payout(*, shop: Shop, now: datetime) -> Payout | None:
    """Step 1: the intent row for what the shop can be paid now (or None)."""
    try:
        with transaction.atomic():
            shop = Shop.objects.select_for_update().get(pk=shop.pk)
            if open_payouts(shop).exists():
                return None
            amount = payable(shop, now)
            if amount <= 0:
                return None
            account = PayoutAccount.objects.get(shop=shop)
            sequence = Payout.objects.filter(shop=shop).count() + 1
            return Payout.objects.create(
                shop=shop,
                amount=amount,
                currency=shop.currency,
                reference=f"auto-{shop.pk}-{sequence}",
                status=Payout.Status.CREATED,
                method=account.method,
                created_at=now,
            )
    except IntegrityError:
        # Another run created this shop's open payout first.
        return None


def send_payout(*, payout: Payout, now: datetime) -> str:
    """Steps 2 and 3 for one Stripe payout; returns what happened."""
    payout = Payout.objects.select_related("shop").get(pk=payout.pk)
    if payout.status != Payout.Status.CREATED or payout.method != StripeConnect.name:
        return "skipped"
    account = PayoutAccount.objects.get(shop_id=payout.shop_id)
    if account.status != PayoutAccount.Status.ENABLED:
        _note_failure(payout, _("The payout account is not enabled."), count=False)
        return "account not enabled"
    key = f"payout:{payout.pk}:{payout.attempts}"
    try:
        result = StripeConnect().transfer(payout=payout, account=account, key=key)
    except ProviderUnreachable:
        logger.warning("Stripe unreachable for payout %s; retried later", payout.pk)
        return "unknown"
    except ProviderError as exc:
        _note_failure(payout, str(exc)[:500], count=True)
        return "failed"
    _record_paid(payout, reference=result.reference, now=now)
    return "paid"


def _note_failure(payout: Payout, reason: str, *, count: bool) -> None:
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status != Payout.Status.CREATED:
            return
        attempts = payout.attempts + (1 if count else 0)
        Payout.objects.filter(pk=payout.pk).update(
            failure_message=reason,
            attempts=attempts,
            status=Payout.Status.FAILED if attempts >= MAX_ATTEMPTS else Payout.Status.CREATED,
        )


def _record_paid(payout: Payout, *, reference: str, now: datetime) -> None:
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status != Payout.Status.CREATED:
            return
        Payout.objects.filter(pk=payout.pk).update(
            status=Payout.Status.PAID,
            provider_reference=reference[:80],
            failure_message="",
            paid_on=now.date(),
        )
        ledger._book(
            shop_id=payout.shop_id,
            kind=LedgerEntry.Kind.PAYOUT,
            amount=-payout.amount,
            currency=payout.currency,
            payout=payout,
            description=_("Payout %(reference)s") % {"reference": reference},
            key=f"payout:{payout.pk}",
            created_at=now,
        )


def run_payouts(*, now: datetime) -> dict[str, int]:
    """The periodic task's body; idempotent (run it twice: nothing more is sent)."""
    done = {"created": 0, "paid": 0, "failed": 0, "unknown": 0}
    shops = Shop.objects.filter(
        payout_account__status=PayoutAccount.Status.ENABLED,
        payout_account__method=PayoutAccount.Method.STRIPE_CONNECT,
    ).order_by("pk")
    for shop in shops:
        if create_payout(shop=shop, now=now) is not None:
            done["created"] += 1
    pending = Payout.objects.filter(
        status=Payout.Status.CREATED, method=StripeConnect.name
    ).order_by("pk")
    for payout in pending:
        outcome = send_payout(payout=payout, now=now)
        if outcome in done:
            done[outcome] += 1
    return done


# --- The shop's payout account -------------------------------------------------------------


def start_connect_onboarding(
    *, shop: Shop, email: str, refresh_url: str, return_url: str, now: datetime
) -> str:
    """Create (once) the shop's Connect account and return Stripe's onboarding link.

    The row is written first; Stripe is called outside any transaction; the account id is
    recorded after. The account is created with the key ``connect-account:<shop>``, so a
    retry after a lost answer gets the same account.
    """
    with transaction.atomic():
        account, _created = PayoutAccount.objects.select_for_update().get_or_create(
            shop=shop,
            defaults={
                "method": PayoutAccount.Method.STRIPE_CONNECT,
                "country": shop.country,
                "updated_at": now,
            },
        )
        if account.method != PayoutAccount.Method.STRIPE_CONNECT:
            PayoutAccount.objects.filter(pk=account.pk).update(
                method=PayoutAccount.Method.STRIPE_CONNECT,
                status=PayoutAccount.Status.PENDING,
                updated_at=now,
            )
            account.method = PayoutAccount.Method.STRIPE_CONNECT
    connect = StripeConnect()
    if not account.stripe_account_id:
        account_id = connect.create_account(account=account, email=email)
        PayoutAccount.objects.filter(pk=account.pk).update(
            stripe_account_id=account_id, updated_at=now
        )
        account.stripe_account_id = account_id
    return connect.onboarding_link(account=account, refresh_url=refresh_url, return_url=return_url)


def refresh_connect_status(*, account: PayoutAccount, now: datetime) -> PayoutAccount:
    """Ask Stripe where onboarding stands (on the seller's return, and on demand)."""
    if account.method != PayoutAccount.Method.STRIPE_CONNECT or not account.stripe_account_id:
        return account
    state = StripeConnect().refresh(account=account)
    PayoutAccount.objects.filter(pk=account.pk).update(
        status=state.status, status_reason=state.reason[:300], updated_at=now
    )
    account.refresh_from_db()
    return account
