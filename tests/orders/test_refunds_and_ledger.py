"""Cancellations and refunds (stock back, ledger reversed), balances, statements, payouts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize
from marketplace.listings.models import Variant
from marketplace.orders import ledger
from marketplace.orders.models import (
    LedgerEntry,
    Order,
    OrderLine,
    Payment,
    Payout,
    Refund,
    ShopOrder,
    TestProviderCharge,
)
from marketplace.orders.services import fulfilment, paperwork, refunds
from tests.orders import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def paid_order(buyer, tshirt, scarf, run_on_commit):
    with run_on_commit():
        order = f.order_for(buyer, [(tshirt, 2), (scarf, 1)])
    order.refresh_from_db()
    return order


def parcel(order, shop) -> ShopOrder:
    return ShopOrder.objects.select_related("order", "shop").get(order=order, shop=shop)


def shop_balance(shop) -> Decimal:
    return sum(LedgerEntry.objects.filter(shop=shop).values_list("amount", flat=True), D(0))


def test_a_paid_parcel_books_the_sale_less_the_platform_commission(paid_order, us_shop):
    so = parcel(paid_order, us_shop)
    entries = {e.kind: e.amount for e in LedgerEntry.objects.filter(shop_order=so)}
    # 2 x 20.00 USD + postal 8.00 USD = 48.00 USD; default commission 10 %.
    assert entries == {"sale": D("48.00"), "commission": D("-4.80")}
    assert ledger.balance(us_shop).total == D("43.20")
    assert ledger.balance(us_shop).currency == "USD"
    # Duty and tax went to customs, not to the seller: nothing in the ledger for them.
    assert so.duty == D("3.00") and so.tax > 0


def test_a_shop_with_its_own_commission_rate_pays_that_rate(buyer, rules, de_shop):
    de_shop.commission_rate = D("0.0800")
    de_shop.save()
    mug = f.make_listing(de_shop, price="12.50", sku="MUG-8", customs=f.TEAPOT)
    order = f.order_for(buyer, [(mug, 2)])
    so = order.shop_orders.get()
    assert so.commission_rate == D("0.0800")
    # 25.00 + domestic postal 5.00 = 30.00 EUR; 8 % = 2.40.
    assert LedgerEntry.objects.get(shop_order=so, kind="commission").amount == D("-2.40")


def test_the_seller_cancels_before_shipment_stock_comes_back_and_the_ledger_nets_to_zero(
    paid_order, us_shop, seller, client_for, tshirt, run_on_commit
):
    so = parcel(paid_order, us_shop)
    client = client_for(seller)
    url = reverse("orders:seller-order-cancel", args=[us_shop.slug, paid_order.number])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "Reason" in response.content.decode()
    with run_on_commit():
        response = client.post(url, {"reason": "The dye batch failed our quality check."})
    assert response.status_code == 302
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.CANCELLED
    assert so.amount_refunded == so.total
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    refund = Refund.objects.get(shop_order=so)
    assert (refund.amount, refund.amount_shop, refund.status) == (so.total, D("48.00"), "succeeded")
    assert refund.commission_returned == D("4.80")
    assert shop_balance(us_shop) == 0
    payment = paid_order.payments.get()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert payment.amount_refunded == so.total
    assert TestProviderCharge.objects.get().refunded == so.total
    # The other parcel goes on; the order follows it.
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PAPERWORK_READY
    assert paid_order.amount_refunded == so.total
    subjects = [m.subject for m in mail.outbox]
    assert f"[Tradepost] Order {paid_order.number}: cancelled" in subjects
    assert f"[Tradepost] Refund on order {paid_order.number}" in subjects


def test_partial_then_full_refund_after_shipment(paid_order, us_shop, seller, client_for, tshirt):
    so = parcel(paid_order, us_shop)
    fulfilment.ship_shop_order(
        shop_order=so,
        carrier="post",
        tracking_number="RR123456785US",
        actor=seller,
        now=timezone.now(),
    )
    line = so.lines.get()
    client = client_for(seller)
    url = reverse("orders:seller-order-refund", args=[us_shop.slug, paid_order.number])
    page = client.get(url)
    assert page.status_code == 200 and f"line_{line.pk}" in page.content.decode()
    response = client.post(url, {f"line_{line.pk}": 3, "reason": "Returned"})
    assert "Ensure this value is less than or equal to 2." in response.content.decode()
    response = client.post(url, {f"line_{line.pk}": 1, "reason": "One arrived torn."})
    assert response.status_code == 302

    so.refresh_from_db()
    first = Refund.objects.get(shop_order=so)
    assert (
        first.amount
        == line.line_total_presentment / 2
        == quantize(line.line_total_presentment / 2, "EUR")
    )
    assert (first.amount_shop, first.commission_returned) == (D("20.00"), D("2.00"))
    assert so.status == ShopOrder.Status.SHIPPED
    assert OrderLine.objects.get(pk=line.pk).quantity_refunded == 1
    assert Variant.objects.get(pk=tshirt.pk).stock == 49
    assert shop_balance(us_shop) == D("43.20") - D("20.00") + D("2.00")

    # Everything left, shipping included: the rest of the parcel total, duty and tax too.
    refunds.refund_shop_order(
        shop_order=so,
        lines={line.pk: 1},
        include_shipping=True,
        reason="Second one too.",
        actor=seller,
        now=timezone.now(),
    )
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.REFUNDED
    assert so.amount_refunded == so.total
    assert so.amount_refunded_shop == D("48.00")
    assert shop_balance(us_shop) == 0
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    with pytest.raises(DomainError):
        refunds.refund_shop_order(
            shop_order=so,
            lines={},
            include_shipping=True,
            reason="again",
            actor=seller,
            now=timezone.now(),
        )


def test_refunds_cannot_exceed_what_is_left(paid_order, us_shop, seller):
    so = parcel(paid_order, us_shop)
    line = so.lines.get()
    with pytest.raises(DomainError, match="TEE-M: at most 2 can still be refunded"):
        refunds.refund_shop_order(
            shop_order=so,
            lines={line.pk: 5},
            include_shipping=False,
            reason="x",
            actor=seller,
            now=timezone.now(),
        )
    other_line = ShopOrder.objects.exclude(pk=so.pk).get().lines.get()
    with pytest.raises(DomainError, match="not part of this parcel"):
        refunds.refund_shop_order(
            shop_order=so,
            lines={other_line.pk: 1},
            include_shipping=False,
            reason="x",
            actor=seller,
            now=timezone.now(),
        )
    assert not Refund.objects.exists()


def test_refund_and_cancel_pages_are_for_owners_only(
    paid_order, us_shop, seller_staff, other_seller, client_for
):
    staff_client = client_for(seller_staff)
    url = reverse("orders:seller-order-refund", args=[us_shop.slug, paid_order.number])
    assert staff_client.get(url).status_code == 403
    cancel = reverse("orders:seller-order-cancel", args=[us_shop.slug, paid_order.number])
    assert staff_client.post(cancel, {"reason": "x"}).status_code == 403
    assert client_for(other_seller).get(url).status_code == 404
    assert parcel(paid_order, us_shop).status == ShopOrder.Status.PAPERWORK_READY


def test_the_buyer_cancels_a_paid_order_before_shipment(
    paid_order, buyer, client_for, tshirt, scarf
):
    client = client_for(buyer)
    response = client.post(
        reverse("orders:order-cancel", args=[paid_order.number]), {"reason": "Ordered twice."}
    )
    assert response.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.CANCELLED
    assert paid_order.amount_refunded == paid_order.total
    assert paid_order.payments.get().status == Payment.Status.REFUNDED
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    assert Variant.objects.get(pk=scarf.pk).stock == 20
    assert LedgerEntry.objects.filter(kind="refund").count() == 2


def test_the_buyer_cannot_cancel_once_a_parcel_shipped(
    paid_order, buyer, us_shop, seller, client_for
):
    page = reverse("orders:order-detail", args=[paid_order.number])
    cancel = reverse("orders:order-cancel", args=[paid_order.number])
    assert paid_order.available_transitions(buyer) == ["cancel"]
    assert paid_order.available_transitions(seller) == []  # only the buyer cancels here
    assert cancel in client_for(buyer).get(page).content.decode()
    fulfilment.ship_shop_order(
        shop_order=parcel(paid_order, us_shop),
        carrier="post",
        tracking_number="RR123456785US",
        actor=seller,
        now=timezone.now(),
    )
    with pytest.raises(DomainError, match="has shipped"):
        refunds.cancel_order(order=paid_order, actor=buyer, reason="late", now=timezone.now())
    # The page asks the same rule as the service: no cancel form any more.
    assert paid_order.available_transitions(buyer) == []
    assert cancel not in client_for(buyer).get(page).content.decode()


def test_cancelling_an_unpaid_bank_transfer_order_releases_stock_and_voids_the_payment(
    buyer, tshirt, client_for
):
    order = f.order_for(buyer, [(tshirt, 3)], method="bank_transfer")
    assert Variant.objects.get(pk=tshirt.pk).stock == 47
    client_for(buyer).post(
        reverse("orders:order-cancel", args=[order.number]), {"reason": "Changed my mind."}
    )
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.payments.get().status == Payment.Status.VOIDED
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    assert not LedgerEntry.objects.exists()


def test_the_balance_page_and_the_monthly_statement(paid_order, us_shop, seller, client_for):
    client = client_for(seller)
    page = client.get(reverse("orders:seller-balance", args=[us_shop.slug]))
    assert page.status_code == 200
    balance = page.context["balance"]
    assert (balance.total, balance.pending, balance.available) == (D("43.20"), D("43.20"), 0)
    assert "less the platform commission (10 %)" in page.content.decode()
    now = timezone.now()
    response = client.get(
        reverse("orders:seller-statement", args=[us_shop.slug, now.year, now.month])
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["date", "kind", "order", "description", "amount", "currency", "balance"]
    assert rows[1][1] == "opening" and rows[1][-1] == "0.00"
    kinds = [r[1] for r in rows[2:-1]]
    assert kinds == ["sale", "commission"]
    assert rows[2][2] == paid_order.number and rows[2][4] == "48.00"
    assert rows[3][3].startswith("Commission 10 % on ")  # not "1E+1 %"
    assert rows[-1][1] == "closing" and rows[-1][-1] == "43.20"


def test_a_statement_month_follows_the_shops_time_zone(rules, de_shop, buyer):
    # 23:30 UTC on 31 October is 00:30 on 1 November in Berlin (CET): a November entry.
    from datetime import datetime

    mug = f.make_listing(de_shop, price="10.00", sku="TZ-1", customs=f.TEAPOT)
    order = f.order_for(buyer, [(mug, 1)])
    LedgerEntry.objects.filter(shop=de_shop).update(
        created_at=datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    )
    october = ledger.monthly_statement_csv(shop=de_shop, year=2026, month=10)
    november = ledger.monthly_statement_csv(shop=de_shop, year=2026, month=11)
    assert order.number not in october and order.number in november


def test_an_admin_records_a_payout(paid_order, us_shop, seller, staff, client_for, tshirt):
    so = parcel(paid_order, us_shop)
    fulfilment.ship_shop_order(
        shop_order=so,
        carrier="post",
        tracking_number="RR123456785US",
        actor=seller,
        now=timezone.now(),
    )
    # Shipped is not enough: the money is held until delivery (or PAYOUT_HOLD_DAYS).
    assert ledger.balance(us_shop).available == 0
    fulfilment.mark_delivered(shop_order=so, actor=seller, now=timezone.now())
    assert ledger.balance(us_shop).available == D("43.20")
    admin = client_for(staff)
    add = reverse("admin:orders_payout_add")
    response = admin.post(
        add,
        {
            "shop": us_shop.pk,
            "amount": "50.00",
            "reference": "WIRE-1",
            "paid_on": "2026-11-20",
            "note": "",
        },
    )
    assert response.status_code == 200
    assert "only 43.20 USD is available" in response.content.decode()
    assert not Payout.objects.exists()
    response = admin.post(
        add,
        {
            "shop": us_shop.pk,
            "amount": "40.00",
            "reference": "WIRE-1",
            "paid_on": "2026-11-20",
            "note": "November",
        },
    )
    assert response.status_code == 302
    payout = Payout.objects.get()
    assert (payout.amount, payout.currency, payout.recorded_by) == (D("40.00"), "USD", staff)
    assert LedgerEntry.objects.get(payout=payout).amount == D("-40.00")
    assert ledger.balance(us_shop).total == D("3.20")
    assert Notification.objects.filter(user=seller, kind="payout_recorded").count() == 1
    # The same bank reference cannot be booked twice; payouts cannot be deleted.
    response = admin.post(
        add,
        {
            "shop": us_shop.pk,
            "amount": "1.00",
            "reference": "WIRE-1",
            "paid_on": "2026-11-21",
            "note": "",
        },
    )
    assert "already recorded" in response.content.decode()
    delete = reverse("admin:orders_payout_delete", args=[payout.pk])
    assert admin.get(delete).status_code == 403


def test_ledger_postings_are_idempotent(paid_order, us_shop):
    so = parcel(paid_order, us_shop)
    ledger.book_sale(shop_order=so, now=timezone.now())
    ledger.book_sale(shop_order=so, now=timezone.now())
    assert LedgerEntry.objects.filter(shop_order=so).count() == 2


def test_record_payout_refuses_bad_amounts_by_field(rules, us_shop, staff):
    with pytest.raises(DomainError, match=r"Amount: enter more than zero\.") as error:
        ledger.record_payout(
            shop=us_shop,
            amount=D("0"),
            reference="X",
            paid_on=date.today(),
            actor=staff,
            now=timezone.now(),
        )
    assert error.value.code == "amount"
    with pytest.raises(DomainError, match="at most 2 decimal places"):
        ledger.record_payout(
            shop=us_shop,
            amount=D("1.001"),
            reference="X",
            paid_on=date.today(),
            actor=staff,
            now=timezone.now(),
        )


def test_a_cancelled_parcel_stops_waiting_for_paperwork(buyer, tshirt, us_shop, seller):
    order = f.order_for(buyer, [(tshirt, 1)])  # paperwork queued (hooks not run)
    so = order.shop_orders.get()
    assert so.paperwork_status == ShopOrder.Paperwork.QUEUED
    refunds.cancel_shop_order(shop_order=so, actor=seller, reason="Sold out", now=timezone.now())
    so.refresh_from_db()
    assert so.paperwork_status == ShopOrder.Paperwork.NOT_NEEDED
    assert not ShopOrder.objects.filter(paperwork_status=ShopOrder.Paperwork.QUEUED).exists()
    # Customs finishing the documents afterwards changes nothing on the cancelled parcel.
    outcome = paperwork.record_paperwork_outcome(
        reference=so.reference, version=1, status="done", error="", now=timezone.now()
    )
    assert outcome == "idle"
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.CANCELLED
