"""What a deployment takes: its own bank account, bounded unpaid orders, no test provider."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core import mail

from marketplace.core.errors import DomainError
from marketplace.listings.models import Variant
from marketplace.orders import tasks
from marketplace.orders.forms import PlaceOrderForm
from marketplace.orders.models import Order
from marketplace.orders.payments import banktransfer
from marketplace.orders.services import payment_outcome
from tests.orders import factories as f
from tests.test_deploy_settings import PRODUCTION_ENV, ROOT, _check_deploy

pytestmark = pytest.mark.django_db


def test_one_buyer_cannot_sell_a_listing_out_with_unpaid_orders(settings, buyer, us_shop, rules):
    settings.ORDERS_MAX_UNPAID_PER_BUYER = 2
    variant = f.make_listing(us_shop, price="20.00", stock=3, sku="LAST-3")

    f.order_for(buyer, [(variant, 1)], method="bank_transfer")
    f.order_for(buyer, [(variant, 1)], method="bank_transfer")
    with pytest.raises(DomainError) as refused:
        f.order_for(buyer, [(variant, 1)], method="bank_transfer")

    assert refused.value.code == "unpaid_limit"
    assert "2 orders awaiting payment" in refused.value.message
    assert Variant.objects.get(pk=variant.pk).stock == 1  # still on sale for everyone else
    assert Order.objects.filter(buyer=buyer).count() == 2


def test_a_paid_order_does_not_count_against_the_unpaid_limit(settings, buyer, tshirt):
    settings.ORDERS_MAX_UNPAID_PER_BUYER = 1
    f.order_for(buyer, [(tshirt, 1)])  # paid by card at once
    f.order_for(buyer, [(tshirt, 1)], method="bank_transfer")

    with pytest.raises(DomainError):
        f.order_for(buyer, [(tshirt, 1)], method="bank_transfer")


def test_a_bank_transfer_order_holds_stock_48_hours_then_expires_with_an_email(
    buyer, tshirt, django_capture_on_commit_callbacks
):
    before = Variant.objects.get(pk=tshirt.pk).stock
    order = f.order_for(buyer, [(tshirt, 2)], method="bank_transfer")
    assert order.expires_at - order.created_at == timedelta(hours=48)
    assert payment_outcome.expire_unpaid_orders(now=order.created_at + timedelta(hours=47)) == 0
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_outcome.expire_unpaid_orders(now=order.created_at + timedelta(hours=48)) == 1

    order.refresh_from_db()
    assert order.status == Order.Status.EXPIRED
    assert Variant.objects.get(pk=tshirt.pk).stock == before
    assert [m.subject for m in mail.outbox] == [
        f"[Tradepost] Order {order.number}: not paid in time"
    ]
    assert mail.outbox[0].to == [buyer.email]


def test_without_the_platforms_account_bank_transfer_is_not_offered(settings):
    settings.ORDERS_BANK_ACCOUNT = {"account_name": "", "iban": "", "bic": "", "bank": ""}

    assert banktransfer.bank_details()["iban"] == ""
    assert not banktransfer.enabled()
    assert [value for value, _label in PlaceOrderForm().fields["method"].choices] == ["card"]


def test_the_test_providers_webhook_task_does_nothing_when_it_is_not_the_provider(settings):
    settings.ORDERS_CARD_PROVIDER = "stripe"

    assert tasks.deliver_test_webhook.run({"id": "evt_1"}) == "test provider disabled"


def _setup_and_run(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "marketplace.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_test_providers_page_and_admin_exist_only_when_it_is_the_provider():
    code = (
        "from django.urls import reverse, NoReverseMatch; from django.contrib import admin; "
        "from marketplace.orders.models import TestProviderCharge; "
        "import marketplace.urls\n"
        "try:\n    reverse('orders:test-provider-authenticate', args=['x']); print('route')\n"
        "except NoReverseMatch:\n    print('no route')\n"
        "print('admin' if admin.site.is_registered(TestProviderCharge) else 'no admin')"
    )
    with_stripe = _setup_and_run(code, ORDERS_CARD_PROVIDER="stripe")
    with_test = _setup_and_run(code, ORDERS_CARD_PROVIDER="test")

    assert with_stripe.stdout.split("\n")[:2] == ["no route", "no admin"], with_stripe.stderr
    assert with_test.stdout.split("\n")[:2] == ["route", "admin"], with_test.stderr


def test_production_with_bank_transfer_on_needs_a_valid_account():
    missing = _check_deploy(**PRODUCTION_ENV, ORDERS_BANK_TRANSFER="on")

    assert missing.returncode != 0
    assert "orders.E004" in missing.stderr and "ORDERS_BANK_ACCOUNT_IBAN" in missing.stderr

    account = {
        "ORDERS_BANK_ACCOUNT_NAME": "Tradepost Ltd",
        "ORDERS_BANK_ACCOUNT_BIC": "COBADEFFXXX",
    }
    bad = _check_deploy(
        **PRODUCTION_ENV, **account, ORDERS_BANK_ACCOUNT_IBAN="DE89 3704 0044 0532 0130 01"
    )
    assert bad.returncode != 0 and "orders.E005" in bad.stderr

    good = _check_deploy(
        **PRODUCTION_ENV, **account, ORDERS_BANK_ACCOUNT_IBAN="DE89 3704 0044 0532 0130 00"
    )
    assert good.returncode == 0, good.stderr


def test_the_test_providers_webhook_is_a_404_when_it_is_not_the_provider(settings, client):
    from django.urls import reverse

    settings.ORDERS_CARD_PROVIDER = "stripe"
    url = reverse("orders:payment-webhook", args=["test"])

    assert client.post(url, b"{}", content_type="application/json").status_code == 404
