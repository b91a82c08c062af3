"""Checkout: shipping and customs per consignment, totals, payment outcomes, double submits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from customs import fx
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize
from marketplace.listings.models import Variant
from marketplace.orders import cart as carts
from marketplace.orders.checkout import CheckoutChanged, OutOfStock, place_order, price_cart
from marketplace.orders.models import (
    Cart,
    Order,
    OrderEvent,
    Payment,
    ShopOrder,
    TestProviderCharge,
)
from marketplace.orders.payments.testprovider import (
    ASYNC,
    DECLINED,
    INSUFFICIENT_FUNDS,
    SUCCESS,
    THREE_D_SECURE,
)
from tests.orders import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


def rate(src: str, dst: str) -> Decimal:
    return fx.rate(src, dst, on=timezone.now().date()).value


def eur(amount, src: str) -> Decimal:
    return quantize(D(amount) * rate(src, "EUR"), "EUR")


def pay_form(client, cart_or_price=None, **overrides):
    """The checkout page's own form values (token, expected total), plus the card."""
    page = client.get(reverse("orders:checkout"))
    form = page.context["form"]
    data = {
        "checkout_token": form.initial["checkout_token"],
        "expected_total": form.initial["expected_total"],
        "method": "card",
        "card_number": SUCCESS,
        "expiry": "12/34",
        "cvc": "123",
    }
    data.update(overrides)
    return data


@pytest.fixture
def german_checkout(client_for, buyer, tshirt, scarf):
    """The buyer in Berlin with 2 T-shirts (US) and a scarf (China) in the cart."""
    f.fill_cart(buyer, [(tshirt, 2), (scarf, 1)])
    return client_for(buyer)


def test_a_buyer_in_germany_sees_duty_and_vat_collected_for_each_consignment(german_checkout):
    page = german_checkout.get(reverse("orders:checkout"))
    assert page.status_code == 200
    price = page.context["price"]
    us, cn = price.consignments
    assert (us.shop.slug, cn.shop.slug) == ("maple-thread", "jade-studio")

    # US parcel: 2 x 20.00 USD, postal 6.00 + 2.00 USD; EU IOSS: VAT 19 % on goods +
    # shipping, collected now, plus the EUR 3 flat duty per tariff line (from 2026-07-01).
    goods = eur("20.00", "USD") * 2
    shipping = eur("8.00", "USD")
    assert us.amounts.goods == goods
    assert us.amounts.shipping == shipping
    assert us.customs.collected_at_checkout and us.customs.incoterm == "DDP"
    assert us.amounts.duty == D("3.00")
    assert us.amounts.tax == quantize((goods + shipping) * D("0.19"), "EUR")
    assert us.amounts.total == goods + shipping + D("3.00") + us.amounts.tax

    # China parcel: 180.00 CNY, postal 45.00 CNY.
    goods_cn, shipping_cn = eur("180.00", "CNY"), eur("45.00", "CNY")
    assert cn.amounts.goods == goods_cn and cn.amounts.shipping == shipping_cn
    assert cn.amounts.duty == D("3.00")
    assert cn.amounts.tax == quantize((goods_cn + shipping_cn) * D("0.19"), "EUR")

    # The order total is the exact sum of the parcels, in the buyer's currency.
    assert price.total == us.amounts.total + cn.amounts.total
    assert price.duty == D("6.00")
    html = page.content.decode()
    assert html.count('data-incoterm="DDP"') == 2
    assert "Duty and import tax are collected now" in html
    assert "1 USD = " in html and "1 CNY = " in html  # the rates used
    assert f"Pay {price.total} EUR" in html


def test_a_consignment_over_the_eu_limit_shows_an_estimate_due_on_delivery(
    client_for, buyer, rules, cn_shop
):
    coat = f.make_listing(cn_shop, title="Silk coat", price="900.00", sku="COAT-1", customs=f.SCARF)
    f.fill_cart(buyer, [(coat, 2)])
    page = client_for(buyer).get(reverse("orders:checkout"))
    consignment = page.context["price"].consignments[0]
    assert not consignment.customs.collected_at_checkout
    assert consignment.customs.incoterm == "DAP"
    assert consignment.amounts.duty == consignment.amounts.tax == D("0.00")
    assert consignment.amounts.due_on_delivery == quantize(
        consignment.customs.duty + consignment.customs.tax, "EUR"
    )
    assert consignment.amounts.due_on_delivery > 0
    assert consignment.amounts.total == consignment.amounts.goods + consignment.amounts.shipping
    assert 'data-incoterm="DAP"' in page.content.decode()


def test_a_banner_warns_when_a_consignment_is_close_to_the_eu_150_eur_limit(
    client_for, buyer, tshirt
):
    f.fill_cart(buyer, [(tshirt, 8)])
    page = client_for(buyer).get(reverse("orders:checkout"))
    consignment = page.context["price"].consignments[0]
    left = D("150.00") - eur("20.00", "USD") * 8
    assert consignment.customs.banners
    assert consignment.customs.banners[0].startswith(f"{left} EUR left before the 150.00 EUR")
    assert "data-threshold-banner" in page.content.decode()


def test_blocked_goods_are_explained_and_the_order_cannot_be_placed(
    client_for, buyer, rules, us_shop
):
    battery = f.make_listing(
        us_shop,
        title="Button cells",
        price="5.00",
        sku="CELL-1",
        customs={
            "hs_code": "850650",
            "customs_description": "Lithium metal button cell battery for watches",
            "origin_country": "US",
            "material": "Lithium",
        },
    )
    cart = f.fill_cart(buyer, [(battery, 1)])
    client = client_for(buyer)
    page = client.get(reverse("orders:checkout"))
    html = page.content.decode()
    assert "This parcel cannot be sent:" in html
    assert "lithium batteries are prohibited" in html.lower()
    assert not page.context["price"].ok
    assert "data-place-order" in html and "disabled>" in html
    with pytest.raises(DomainError, match="lithium"):
        place_order(
            buyer=buyer,
            cart=cart,
            checkout_token=cart.checkout_token,
            address=cart.shipping_address,
            currency="EUR",
            payment_method="card",
            now=timezone.now(),
        )
    assert not Order.objects.exists()


def test_a_domestic_parcel_has_no_customs(client_for, buyer, mug):
    f.fill_cart(buyer, [(mug, 2)])
    consignment = client_for(buyer).get(reverse("orders:checkout")).context["price"].consignments[0]
    assert not consignment.international and consignment.customs is None
    # 2 x 12.50 EUR, domestic postal 4.00 + 1.00.
    assert consignment.amounts.total == D("30.00")


def test_choosing_courier_changes_the_shipping_and_the_form(german_checkout, us_shop, scarf):
    german_checkout.post(reverse("orders:checkout-shipping"), {f"shipping-{us_shop.pk}": "courier"})
    price = german_checkout.get(reverse("orders:checkout")).context["price"]
    us = price.consignments[0]
    assert us.shipping.service_level == "courier"
    assert us.amounts.shipping == eur("22.00", "USD")  # 18.00 + 4.00
    assert us.customs.form == "CN23"  # courier items always travel with a CN23


def test_prices_show_in_the_buyers_display_currency(client_for, buyer, tshirt, scarf):
    from marketplace.listings.buyer import SESSION_CURRENCY

    f.fill_cart(buyer, [(tshirt, 1), (scarf, 1)])
    client = client_for(buyer)
    session = client.session
    session[SESSION_CURRENCY] = "GBP"
    session.save()
    price = client.get(reverse("orders:checkout")).context["price"]
    assert price.currency == "GBP"
    us = price.consignments[0]
    # Customs works in EUR (the destination's currency); the buyer pays in GBP.
    assert us.customs.currency == "EUR"
    assert us.amounts.goods == quantize(D("20.00") * rate("USD", "GBP"), "GBP")
    assert us.amounts.tax == quantize(us.customs.tax * rate("EUR", "GBP"), "GBP")


def test_the_checkout_page_costs_a_bounded_number_of_queries(
    client_for, buyer, django_assert_max_num_queries, rules, us_shop, cn_shop, de_shop
):
    items = []
    for n in range(3):
        for shop in (us_shop, cn_shop, de_shop):
            items.append((f.make_listing(shop, sku=f"QC-{shop.pk}-{n}"), 1))
    f.fill_cart(buyer, items)
    client = client_for(buyer)
    client.get(reverse("orders:checkout"))  # warm the rule book and rate caches
    with django_assert_max_num_queries(13):
        assert client.get(reverse("orders:checkout")).status_code == 200


# --- Placing and paying ----------------------------------------------------------------------


def test_paying_by_card_places_one_paid_order_with_a_parcel_per_shop(
    german_checkout, buyer, tshirt, scarf, run_on_commit
):
    data = pay_form(german_checkout)
    with run_on_commit():
        response = german_checkout.post(reverse("orders:checkout-place"), data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.status == Order.Status.PAPERWORK_READY
    assert order.total == D(data["expected_total"])
    parcels = list(order.shop_orders.order_by("pk"))
    assert [so.shop.slug for so in parcels] == ["maple-thread", "jade-studio"]
    assert sum(so.total for so in parcels) == order.total
    assert {so.status for so in parcels} == {ShopOrder.Status.PAPERWORK_READY}
    payment = order.payments.get()
    assert (payment.status, payment.amount, payment.card_last4) == ("captured", order.total, "4242")
    # Stock decremented, cart emptied.
    assert Variant.objects.get(pk=tshirt.pk).stock == 48
    assert Variant.objects.get(pk=scarf.pk).stock == 19
    assert not Cart.objects.get(user=buyer).items.exists()
    # Line snapshots.
    line = parcels[0].lines.get()
    assert (line.title, line.sku, line.hs_code, line.origin_country.code, line.quantity) == (
        "Organic cotton T-shirt",
        "TEE-M",
        "610910",
        "US",
        2,
    )
    assert line.unit_price == D("20.00") and line.net_weight_kg == D("0.200")
    # Notifications: the buyer (placed, paid), each seller (new order, paperwork ready).
    subjects = sorted(m.subject for m in mail.outbox)
    assert f"[Tradepost] Order {order.number} placed" in subjects
    assert f"[Tradepost] Payment received for order {order.number}" in subjects
    assert f"[Tradepost] New order {order.number} for Maple & Thread" in subjects
    assert f"[Tradepost] New order {order.number} for Jade Studio" in subjects
    assert subjects.count(f"[Tradepost] Paperwork ready for order {order.number}") == 2
    # The audit trail, with actor and time.
    placed = order.events.get(kind=OrderEvent.Kind.PLACED)
    assert placed.actor == buyer and placed.created_at is not None


def test_a_declined_card_charges_nothing_and_leaves_cart_and_stock_as_they_were(
    german_checkout, buyer, tshirt, scarf
):
    cart = Cart.objects.get(user=buyer)
    before = {i.variant_id: i.quantity for i in cart.items.all()}
    response = german_checkout.post(
        reverse("orders:checkout-place"), pay_form(german_checkout, card_number=DECLINED)
    )
    assert response.status_code == 302 and response["Location"] == reverse("orders:checkout")
    order = Order.objects.get()
    assert order.status == Order.Status.PAYMENT_FAILED
    assert order.payments.get().status == Payment.Status.FAILED
    assert TestProviderCharge.objects.get().captured == 0
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    assert Variant.objects.get(pk=scarf.pk).stock == 20
    assert {i.variant_id: i.quantity for i in cart.items.all()} == before
    page = german_checkout.get(reverse("orders:checkout"))
    assert "Your card was declined. Nothing was charged and your cart is unchanged." in (
        page.content.decode()
    )
    # Trying again with a good card places a new order (the cart's token moved on).
    german_checkout.post(reverse("orders:checkout-place"), pay_form(german_checkout))
    assert (
        Order.objects.filter(status=Order.Status.PAID).count()
        + Order.objects.filter(status=Order.Status.PAPERWORK_READY).count()
        == 1
    )


def test_insufficient_funds_says_so(german_checkout):
    german_checkout.post(
        reverse("orders:checkout-place"),
        pay_form(german_checkout, card_number=INSUFFICIENT_FUNDS),
    )
    page = german_checkout.get(reverse("orders:checkout"))
    assert "Your card has insufficient funds." in page.content.decode()


def test_card_fields_are_checked_by_name_and_nothing_is_placed(german_checkout):
    response = german_checkout.post(
        reverse("orders:checkout-place"),
        pay_form(german_checkout, card_number="1234", expiry="13/20", cvc="x"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["card_number"] == ["Enter the 12 to 19 digits on the card."]
    assert errors["expiry"] == ["The month is between 01 and 12."]
    assert errors["cvc"] == ["Enter the 3 or 4 digits on the back of the card."]
    assert not Order.objects.exists()


def test_a_second_step_card_waits_for_the_buyer_then_pays(
    german_checkout, run_on_commit, django_capture_on_commit_callbacks
):
    response = german_checkout.post(
        reverse("orders:checkout-place"), pay_form(german_checkout, card_number=THREE_D_SECURE)
    )
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert response["Location"] == payment.action_url
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT
    page = german_checkout.get(payment.action_url)
    assert "simulated 3-D Secure" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = german_checkout.post(payment.action_url, {"decision": "approve"})
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:order-payment-return", args=[order.number])
    german_checkout.get(response["Location"])
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CAPTURED
    assert order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)


def test_a_failed_second_step_releases_the_stock(german_checkout, tshirt):
    german_checkout.post(
        reverse("orders:checkout-place"), pay_form(german_checkout, card_number=THREE_D_SECURE)
    )
    assert Variant.objects.get(pk=tshirt.pk).stock == 48  # held while the buyer confirms
    payment = Payment.objects.get()
    german_checkout.post(payment.action_url, {"decision": "decline"})
    response = german_checkout.get(
        reverse("orders:order-payment-return", args=[payment.order.number])
    )
    assert response["Location"] == reverse("orders:checkout")
    assert Order.objects.get().status == Order.Status.PAYMENT_FAILED
    assert Variant.objects.get(pk=tshirt.pk).stock == 50


def test_an_asynchronous_card_is_confirmed_by_the_providers_webhook(
    german_checkout, django_capture_on_commit_callbacks
):
    # The provider's webhook is published after commit: hold it back, as a slow provider.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = german_checkout.post(
            reverse("orders:checkout-place"), pay_form(german_checkout, card_number=ASYNC)
        )
    order = Order.objects.get()
    assert response["Location"] == order.get_absolute_url()
    assert order.status == Order.Status.PENDING_PAYMENT
    page = german_checkout.get(order.get_absolute_url())
    assert "Waiting for your bank to confirm the payment" in page.content.decode()
    for callback in callbacks:
        callback()  # the webhook arrives
    order.refresh_from_db()
    assert order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)
    assert order.payments.get().status == Payment.Status.CAPTURED


def test_bank_transfer_reserves_the_stock_and_an_admin_confirms_the_money(
    german_checkout, buyer, staff, tshirt, client_for, run_on_commit
):
    with run_on_commit():
        german_checkout.post(
            reverse("orders:checkout-place"), pay_form(german_checkout, method="bank_transfer")
        )
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert (order.expires_at - order.created_at).days == 2  # ORDERS_BANK_TRANSFER_HOLD_HOURS
    assert Variant.objects.get(pk=tshirt.pk).stock == 48
    assert not Cart.objects.get(user=buyer).items.exists()
    page = german_checkout.get(order.get_absolute_url()).content.decode()
    assert "data-bank-transfer" in page and "DE89 3704 0044 0532 0130 00" in page
    placed = next(m for m in mail.outbox if "placed" in m.subject)
    assert "IBAN: DE89 3704 0044 0532 0130 00" in placed.body and order.number in placed.body

    admin = client_for(staff)
    with run_on_commit():
        response = admin.post(
            reverse("admin:orders_order_changelist"),
            {"action": "confirm_bank_transfers", "_selected_action": [order.pk]},
        )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status in (Order.Status.PAID, Order.Status.PAPERWORK_READY)
    paid_event = order.events.get(kind=OrderEvent.Kind.PAID)
    assert paid_event.actor == staff


def test_stock_gone_between_cart_and_payment_is_explained_and_nothing_is_charged(
    german_checkout, buyer, tshirt, rules
):
    # Someone else buys all but one T-shirt while our buyer (who wants 2) reviews the order.
    data = pay_form(german_checkout)
    Variant.objects.filter(pk=tshirt.pk).update(stock=1)
    response = german_checkout.post(reverse("orders:checkout-place"), data)
    assert response["Location"] == reverse("orders:checkout")
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert not TestProviderCharge.objects.exists()
    assert Variant.objects.get(pk=tshirt.pk).stock == 1
    html = german_checkout.get(reverse("orders:checkout")).content.decode()
    assert "Only 1 left: lower the quantity." in html
    assert Cart.objects.get(user=buyer).items.get(variant=tshirt).quantity == 2


def test_a_last_unit_taken_under_the_lock_gives_a_clear_message(buyer, tshirt):
    cart = f.fill_cart(buyer, [(tshirt, 2)])
    from marketplace.orders import locks

    # The cart check passes (stock read before the lock), the locked re-check fails.
    real = locks.lock_variants

    def sell_out_first(ids):
        Variant.objects.filter(pk=tshirt.pk).update(stock=1)
        return real(ids)

    locks_module = pytest.MonkeyPatch()
    locks_module.setattr("marketplace.orders.checkout.lock_variants", sell_out_first)
    try:
        with pytest.raises(OutOfStock, match="sold out while you were checking out"):
            place_order(
                buyer=buyer,
                cart=cart,
                checkout_token=cart.checkout_token,
                address=cart.shipping_address,
                currency="EUR",
                payment_method="card",
                now=timezone.now(),
            )
    finally:
        locks_module.undo()
    # Nothing was taken (the simulated rival's write was in our transaction and went with it).
    assert Variant.objects.get(pk=tshirt.pk).stock == 50
    assert not Order.objects.exists()


def test_a_stale_checkout_page_cannot_place_an_order(german_checkout, buyer, tshirt):
    data = pay_form(german_checkout)
    cart = Cart.objects.get(user=buyer)
    carts.set_quantity(
        cart=cart, item=cart.items.get(variant=tshirt), quantity=3, now=timezone.now()
    )
    response = german_checkout.post(reverse("orders:checkout-place"), data)
    assert response["Location"] == reverse("orders:checkout")
    assert not Order.objects.exists()
    html = german_checkout.get(reverse("orders:checkout")).content.decode()
    assert "Your cart changed since you reviewed it." in html


def test_a_changed_total_is_refused(buyer, tshirt):
    cart = f.fill_cart(buyer, [(tshirt, 1)])
    with pytest.raises(CheckoutChanged, match="The total changed"):
        place_order(
            buyer=buyer,
            cart=cart,
            checkout_token=cart.checkout_token,
            address=cart.shipping_address,
            currency="EUR",
            payment_method="card",
            expected_total=D("1.00"),
            now=timezone.now(),
        )


def test_the_same_checkout_submitted_twice_makes_one_order_and_one_charge(german_checkout):
    data = pay_form(german_checkout)
    first = german_checkout.post(reverse("orders:checkout-place"), data)
    second = german_checkout.post(reverse("orders:checkout-place"), data)
    order = Order.objects.get()
    assert first["Location"] == second["Location"] == order.get_absolute_url()
    assert Payment.objects.count() == 1 and TestProviderCharge.objects.count() == 1


def test_place_order_returns_the_existing_order_for_a_replayed_token(buyer, tshirt):
    cart = f.fill_cart(buyer, [(tshirt, 1)])
    kwargs = {
        "buyer": buyer,
        "cart": cart,
        "checkout_token": cart.checkout_token,
        "address": cart.shipping_address,
        "currency": "EUR",
        "payment_method": "card",
        "now": timezone.now(),
    }
    first, created = place_order(**kwargs)
    again, created_again = place_order(**kwargs)
    assert created and not created_again and first.pk == again.pk
    assert Variant.objects.get(pk=tshirt.pk).stock == 49


def test_checkout_needs_an_account(client, tshirt):
    response = client.get(reverse("orders:checkout"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_another_users_address_cannot_be_chosen(german_checkout, buyer, stranger):
    from tests.factories import AddressFactory

    theirs = AddressFactory(user=stranger, city="Paris", country="FR")
    german_checkout.post(reverse("orders:checkout-address"), {"address": theirs.pk})
    assert Cart.objects.get(user=buyer).shipping_address_id != theirs.pk


def test_an_order_for_an_address_of_another_user_is_refused(buyer, stranger, tshirt):
    from tests.factories import AddressFactory

    cart = f.fill_cart(buyer, [(tshirt, 1)])
    with pytest.raises(DomainError, match="own addresses"):
        place_order(
            buyer=buyer,
            cart=cart,
            checkout_token=cart.checkout_token,
            address=AddressFactory(user=stranger),
            currency="EUR",
            payment_method="card",
            now=timezone.now(),
        )


def test_price_cart_without_an_address_asks_for_a_destination(buyer, tshirt):
    cart = f.fill_cart(buyer, [(tshirt, 1)])
    Cart.objects.filter(pk=cart.pk).update(destination_country="", shipping_address=None)
    cart.refresh_from_db()
    price = price_cart(cart, currency="EUR", address=None, on=timezone.now().date())
    assert not price.ok and "Choose where the order goes." in price.problems


def test_a_parcel_within_the_eu_goes_through_no_customs(client_for, rules, de_shop):
    from tests.factories import AddressFactory, UserFactory

    french = UserFactory(email="camille@example.test", country="FR")
    AddressFactory(user=french, city="Lyon", postcode="69002", country="FR")
    mug = f.make_listing(de_shop, price="12.50", sku="MUG-FR", customs=f.TEAPOT)
    f.fill_cart(french, [(mug, 1)])
    consignment = client_for(french).get(reverse("orders:checkout")).context["price"]
    consignment = consignment.consignments[0]
    assert not consignment.international and consignment.customs is None
    assert consignment.amounts.duty == consignment.amounts.tax == D("0.00")


def test_missing_duty_data_shows_duty_and_tax_unknown_with_the_reason(
    client_for, buyer, rules, cn_shop
):
    box = {**SCARF_LIKE, "hs_code": "442090", "customs_description": "Wooden jewellery box"}
    item = f.make_listing(cn_shop, title="Jewellery box", price="1200.00", sku="BOX-1", customs=box)
    f.fill_cart(buyer, [(item, 1)])
    page = client_for(buyer).get(reverse("orders:checkout"))
    consignment = page.context["price"].consignments[0]
    assert consignment.customs.incomplete and not consignment.customs.collected_at_checkout
    assert consignment.customs.unknowns == [
        "No ad valorem duty rate is known for HS 442090 in DE: the duty shown leaves it out "
        "and the estimate is incomplete."
    ]
    html = page.content.decode()
    assert "Duty and tax unknown — the carrier will charge them on delivery." in html
    assert "No ad valorem duty rate is known for HS 442090 in DE" in html
    assert "(estimate)" not in html.split("data-customs-unknown")[1].split("</div>")[0]


SCARF_LIKE = f.SCARF


def test_the_seller_is_told_which_customs_data_is_missing(
    client_for, buyer, rules, cn_shop, other_seller
):
    box = {**SCARF_LIKE, "hs_code": "442090", "customs_description": "Wooden jewellery box"}
    item = f.make_listing(cn_shop, title="Jewellery box", price="1200.00", sku="BOX-2", customs=box)
    order = f.order_for(buyer, [(item, 1)])
    shop_order = ShopOrder.objects.get(order=order)
    assert shop_order.quote["quote"]["incomplete"] is True
    page = client_for(other_seller).get(
        reverse("orders:seller-order-detail", args=[cn_shop.slug, order.number])
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "Data missing from the customs rules:" in html
    assert "No ad valorem duty rate is known for HS 442090 in DE" in html


def test_a_parcel_to_northern_ireland_is_priced_with_eu_rules_for_goods(client_for, buyer, scarf):
    from tests.factories import AddressFactory

    belfast = AddressFactory(
        user=buyer, line1="1 Donegall Square", city="Belfast", postcode="BT1 5GS", country="GB",
        phone="+44 28 9032 0202", is_default_shipping=False,
    )  # fmt: skip
    f.fill_cart(buyer, [(scarf, 1)], address=belfast)
    page = client_for(buyer).get(reverse("orders:checkout"))
    consignment = page.context["price"].consignments[0]
    rules_used = consignment.customs.snapshot["quote"]["rules"]
    assert any(r.endswith("GB-NI-2026-GB-NIR") for r in rules_used)
    assert consignment.customs.snapshot["inputs"]["destination_postcode"] == "BT1 5GS"
