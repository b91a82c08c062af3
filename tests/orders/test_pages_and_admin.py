"""Seller and buyer order pages (scoping, query counts) and the admin as an operations console."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from customs.models import PaperworkJob
from marketplace.orders.models import Order, OrderEvent, Refund, ShopOrder
from tests.factories import UserFactory
from tests.orders import factories as f
from tests.orders.records import paid_order

pytestmark = pytest.mark.django_db


def test_the_seller_dashboard_links_orders_and_balance(seller, shop, client_for):
    html = client_for(seller).get(reverse("accounts:shop-dashboard", args=[shop.slug])).content
    html = html.decode()
    assert reverse("orders:seller-orders", args=[shop.slug]) in html
    assert reverse("orders:seller-balance", args=[shop.slug]) in html
    assert "ready to ship" in html


def test_the_seller_list_shows_only_paid_orders_of_the_shop(
    buyer, shop, other_shop, seller, client_for
):
    mine = paid_order(buyer, shop, with_documents=False)
    theirs = paid_order(buyer, other_shop, with_documents=False)
    unpaid = paid_order(buyer, shop, with_documents=False)
    Order.objects.filter(pk=unpaid.pk).update(paid_at=None, status="pending_payment")
    page = client_for(seller).get(reverse("orders:seller-orders", args=[shop.slug]))
    numbers = [so.order.number for so in page.context["page"].object_list]
    assert numbers == [mine.number]
    assert theirs.number not in page.content.decode()
    # Filters and search.
    client = client_for(seller)
    url = reverse("orders:seller-orders", args=[shop.slug])
    assert [so.order.number for so in client.get(url + "?status=to_ship").context["page"]] == [
        mine.number
    ]
    assert not list(client.get(url + "?status=shipped").context["page"])
    assert list(client.get(url + f"?q={mine.number[-4:]}").context["page"])


def test_another_shops_order_is_a_404_even_with_the_right_number(
    buyer, shop, other_shop, other_seller, client_for
):
    order = paid_order(buyer, shop)
    client = client_for(other_seller)
    for name in ("orders:seller-order-detail", "orders:seller-order-refund"):
        assert client.get(reverse(name, args=[other_shop.slug, order.number])).status_code == 404
    ship = reverse("orders:seller-order-ship", args=[other_shop.slug, order.number])
    assert client.post(ship, {"carrier": "dhl", "tracking_number": "X1"}).status_code == 404
    assert ShopOrder.objects.get(order=order).status == ShopOrder.Status.PAPERWORK_READY


def test_another_buyers_order_is_a_404(buyer, stranger, shop, client_for):
    order = paid_order(buyer, shop)
    client = client_for(stranger)
    assert client.get(order.get_absolute_url()).status_code == 404
    cancel = reverse("orders:order-cancel", args=[order.number])
    assert client.post(cancel, {"reason": "mine now"}).status_code == 404
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID


def test_a_shop_staff_member_works_orders_but_sees_no_money_actions(
    buyer, shop, seller_staff, client_for
):
    order = paid_order(buyer, shop)
    page = client_for(seller_staff).get(
        reverse("orders:seller-order-detail", args=[shop.slug, order.number])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Mark as shipped" in html
    assert "Cancel this parcel" not in html and "Refund part or all" not in html


def test_seller_pages_cost_a_fixed_number_of_queries(
    buyer, shop, seller, client_for, django_assert_max_num_queries
):
    for _ in range(25):
        paid_order(buyer, shop, with_documents=False)
    order = paid_order(buyer, shop)
    client = client_for(seller)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("orders:seller-orders", args=[shop.slug])).status_code == 200
    with django_assert_max_num_queries(13):
        detail = reverse("orders:seller-order-detail", args=[shop.slug, order.number])
        assert client.get(detail).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("orders:seller-balance", args=[shop.slug])).status_code == 200


def test_buyer_pages_cost_a_fixed_number_of_queries(
    buyer, shop, other_shop, client_for, django_assert_max_num_queries
):
    for _ in range(20):
        paid_order(buyer, shop, with_documents=False)
    order = paid_order(buyer, other_shop)
    client = client_for(buyer)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("orders:order-list"))
    assert len(page.context["page"].object_list) == 20
    with django_assert_max_num_queries(13):
        assert client.get(order.get_absolute_url()).status_code == 200


def test_the_buyer_history_hides_orders_whose_payment_failed(buyer, shop, client_for):
    kept = paid_order(buyer, shop, with_documents=False)
    failed = paid_order(buyer, shop, with_documents=False)
    Order.objects.filter(pk=failed.pk).update(status=Order.Status.PAYMENT_FAILED)
    numbers = [
        o.number for o in client_for(buyer).get(reverse("orders:order-list")).context["page"]
    ]
    assert numbers == [kept.number]


@pytest.mark.parametrize(
    "model",
    [
        "order",
        "shoporder",
        "payment",
        "refund",
        "orderevent",
        "webhookevent",
        "ledgerentry",
        "payout",
        "cart",
        "testprovidercharge",
    ],
)
def test_every_orders_admin_page_opens(model, buyer, shop, staff, client_for):
    order = paid_order(buyer, shop)
    admin = client_for(staff)
    assert admin.get(reverse(f"admin:orders_{model}_changelist")).status_code == 200
    if model == "order":
        assert admin.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200
        changelist = admin.get(reverse("admin:orders_order_changelist") + f"?q={order.number}")
        assert order.number in changelist.content.decode()


def test_admin_actions_call_the_services(buyer, tshirt, us_shop, staff, client_for, run_on_commit):
    with run_on_commit():
        order = f.order_for(buyer, [(tshirt, 2)])
    so = order.shop_orders.get()
    admin = client_for(staff)
    changelist = reverse("admin:orders_shoporder_changelist")

    with run_on_commit():
        response = admin.post(
            changelist, {"action": "regenerate_paperwork", "_selected_action": [so.pk]}
        )
    assert response.status_code == 302
    assert PaperworkJob.objects.filter(declaration_id=so.declaration_id, version=2).exists()

    page = admin.post(changelist, {"action": "cancel", "_selected_action": [so.pk]})
    assert page.status_code == 200 and "reason" in page.content.decode()
    admin.post(
        changelist,
        {
            "action": "cancel",
            "_selected_action": [so.pk],
            "apply": "1",
            "reason": "Address could not be verified.",
        },
    )
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.CANCELLED and so.cancel_reason
    event = OrderEvent.objects.get(shop_order=so, kind=OrderEvent.Kind.CANCELLED)
    assert event.actor == staff


def test_admin_refund_in_full_after_shipment(buyer, tshirt, us_shop, seller, staff, client_for):
    from marketplace.orders.services import fulfilment

    order = f.order_for(buyer, [(tshirt, 1)])
    so = order.shop_orders.get()
    ShopOrder.objects.filter(pk=so.pk).update(status="paperwork_ready", paperwork_status="ready")
    so.refresh_from_db()
    fulfilment.ship_shop_order(
        shop_order=so,
        carrier="dhl",
        tracking_number="JD0146000038",
        actor=seller,
        now=timezone.now(),
    )
    client_for(staff).post(
        reverse("admin:orders_shoporder_changelist"),
        {
            "action": "refund_in_full",
            "_selected_action": [so.pk],
            "apply": "1",
            "reason": "Lost in transit.",
        },
    )
    so.refresh_from_db()
    assert so.status == ShopOrder.Status.REFUNDED
    assert Refund.objects.get(shop_order=so).amount == so.total


def test_the_header_links_the_cart_and_orders_for_signed_in_users(client_for, tshirt):
    user = UserFactory()
    html = client_for(user).get(reverse("home")).content.decode()
    assert reverse("orders:cart") in html and reverse("orders:order-list") in html
