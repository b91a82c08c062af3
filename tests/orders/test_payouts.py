"""Payouts through Stripe Connect: onboarding, availability, one transfer per shop, retries.

What ran where: Connect accounts, account links and transfers went through the real
``stripe`` client over HTTP to our Connect fake (tests/orders/connect_fake.py, written from
Stripe's API reference: localstripe has no Connect), via the same loopback fault proxy.
The orders themselves are paid with the test provider; payouts do not depend on it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.core.money import to_minor_units
from marketplace.orders import ledger, payouts
from marketplace.orders.models import LedgerEntry, Payout, PayoutAccount, ShopOrder
from marketplace.orders.services import fulfilment, refunds
from tests.orders import factories as f
from tests.orders.stripe_fakes import PUBLISHABLE_KEY, SECRET_KEY, Fault

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def connect(settings, stripe_proxy, connect_fake):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_API_BASE = stripe_proxy.url
    settings.STRIPE_TIMEOUT_SECONDS = 2
    settings.PAYOUT_HOLD_DAYS = 14
    return connect_fake


@pytest.fixture
def enabled_shop(connect, de_shop):
    now = timezone.now()
    payouts.start_connect_onboarding(
        shop=de_shop, email="jonas@example.test", refresh_url="/r", return_url="/b", now=now
    )
    account = PayoutAccount.objects.get(shop=de_shop)
    connect.enable(account.stripe_account_id)
    payouts.refresh_connect_status(account=account, now=now)
    return de_shop


def sell(buyer, mug, shop, *, quantity=1, delivered=True, shipped_days_ago=None):
    order = f.order_for(buyer, [(mug, quantity)])
    parcel = order.shop_orders.get(shop=shop)
    when = timezone.now() - timedelta(days=shipped_days_ago or 0)
    fulfilment.ship_shop_order(
        shop_order=parcel, carrier="dhl", tracking_number="JD014600003828", actor=None, now=when
    )
    if delivered:
        fulfilment.mark_delivered(shop_order=parcel, actor=None, now=when)
    return ShopOrder.objects.get(pk=parcel.pk)


def net(parcel: ShopOrder) -> Decimal:
    return sum(e.amount for e in LedgerEntry.objects.filter(shop_order=parcel))


def test_onboarding_creates_one_account_and_reports_its_status(connect, de_shop):
    now = timezone.now()
    first = payouts.start_connect_onboarding(
        shop=de_shop, email="jonas@example.test", refresh_url="/r", return_url="/b", now=now
    )
    again = payouts.start_connect_onboarding(
        shop=de_shop, email="jonas@example.test", refresh_url="/r", return_url="/b", now=now
    )
    account = PayoutAccount.objects.get(shop=de_shop)

    assert len(connect.accounts) == 1
    assert first == again == f"https://connect.stripe.test/setup/{account.stripe_account_id}"
    account = payouts.refresh_connect_status(account=account, now=now)
    assert account.status == PayoutAccount.Status.PENDING
    connect.restrict(account.stripe_account_id, "rejected.fraud")
    account = payouts.refresh_connect_status(account=account, now=now)
    assert (account.status, account.status_reason) == ("restricted", "rejected.fraud")
    connect.enable(account.stripe_account_id)
    assert payouts.refresh_connect_status(account=account, now=now).status == "enabled"


def test_money_is_paid_out_after_delivery_once_per_shop(enabled_shop, buyer, mug, connect):
    not_shipped = f.order_for(buyer, [(mug, 1)]).shop_orders.get()
    shipped_yesterday = sell(buyer, mug, enabled_shop, delivered=False, shipped_days_ago=1)
    delivered = sell(buyer, mug, enabled_shop, quantity=2)
    shipped_long_ago = sell(buyer, mug, enabled_shop, delivered=False, shipped_days_ago=15)
    expected = net(delivered) + net(shipped_long_ago)
    assert ledger.balance(enabled_shop).pending == net(not_shipped) + net(shipped_yesterday)

    now = timezone.now()
    assert payouts.run_payouts(now=now) == {"created": 1, "paid": 1, "failed": 0, "unknown": 0}
    assert payouts.run_payouts(now=now)["created"] == 0  # run twice: nothing more

    payout = Payout.objects.get()
    (transfer,) = connect.transfers.values()
    assert (payout.status, payout.amount, payout.currency) == ("paid", expected, "EUR")
    assert transfer["amount"] == to_minor_units(expected, "EUR")
    assert transfer["destination"] == enabled_shop.payout_account.stripe_account_id
    assert payout.provider_reference == transfer["id"]
    entry = LedgerEntry.objects.get(payout=payout)
    assert (entry.kind, entry.amount) == ("payout", -expected)
    assert transfer["id"] in entry.description
    balance = ledger.balance(enabled_shop)
    assert balance.available == 0 and balance.paid_out == expected


def test_a_refused_transfer_is_retried_and_its_reason_shown(
    enabled_shop, buyer, mug, connect, client_for
):
    parcel = sell(buyer, mug, enabled_shop)
    connect.platform_balance_short = True

    assert payouts.run_payouts(now=timezone.now())["failed"] == 1

    payout = Payout.objects.get()
    assert payout.status == Payout.Status.CREATED and payout.attempts == 1
    assert "insufficient available funds" in payout.failure_message
    assert not LedgerEntry.objects.filter(kind="payout").exists()
    page = client_for(enabled_shop.owner).get(
        reverse("orders:seller-balance", args=[enabled_shop.slug])
    )
    assert "insufficient available funds" in page.content.decode()

    connect.platform_balance_short = False
    assert payouts.run_payouts(now=timezone.now())["paid"] == 1
    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID and payout.amount == net(parcel)
    assert len(connect.transfers) == 1


def test_a_transfer_whose_answer_is_lost_is_retried_with_the_same_key(
    enabled_shop, buyer, mug, connect, stripe_proxy
):
    sell(buyer, mug, enabled_shop)
    stripe_proxy.faults.append(Fault("POST /v1/transfers", "drop", times=2))

    assert payouts.run_payouts(now=timezone.now())["unknown"] == 1
    assert len(connect.transfers) == 1  # Stripe made it; we did not hear

    assert payouts.run_payouts(now=timezone.now())["paid"] == 1
    assert len(connect.transfers) == 1  # the same key: Stripe answered with the first transfer
    payout = Payout.objects.get()
    assert payout.provider_reference == next(iter(connect.transfers))


def test_a_refund_after_payout_carries_a_negative_balance_over(enabled_shop, buyer, mug, connect):
    first = sell(buyer, mug, enabled_shop)
    payouts.run_payouts(now=timezone.now())
    refunds.refund_shop_order(
        shop_order=first,
        lines={line.pk: line.quantity for line in first.lines.all()},
        include_shipping=True,
        reason="Arrived broken",
        actor=None,
        now=timezone.now(),
    )
    owed = ledger.balance(enabled_shop).available
    assert owed < 0

    assert payouts.run_payouts(now=timezone.now())["created"] == 0
    second = sell(buyer, mug, enabled_shop, quantity=3)
    payouts.run_payouts(now=timezone.now())

    latest = Payout.objects.order_by("-pk").first()
    assert latest.amount == net(second) + owed
    assert ledger.balance(enabled_shop).available == 0


def test_the_owner_connects_stripe_from_the_shop_and_sees_the_status(connect, de_shop, client_for):
    client = client_for(de_shop.owner)
    page = client.get(reverse("orders:seller-payout-account", args=[de_shop.slug]))
    assert "your balance accrues" in page.content.decode()

    response = client.post(reverse("orders:seller-payout-connect", args=[de_shop.slug]))

    account = PayoutAccount.objects.get(shop=de_shop)
    assert response.status_code == 302
    assert response["Location"] == (
        f"https://connect.stripe.test/setup/{account.stripe_account_id}"
    )
    connect.restrict(account.stripe_account_id, "requirements.past_due")
    page = client.get(reverse("orders:seller-payout-account", args=[de_shop.slug]))
    assert 'data-payout-status="restricted"' in page.content.decode()
    assert "requirements.past_due" in page.content.decode()
    connect.enable(account.stripe_account_id)
    client.get(reverse("orders:seller-payout-account", args=[de_shop.slug]))
    dashboard = client.get(reverse("accounts:shop-dashboard", args=[de_shop.slug]))
    dashboard = dashboard.content.decode()
    assert "Payouts: Enabled." in dashboard
