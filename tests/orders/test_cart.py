"""The cart: visitors and accounts, grouped by shop, stock and destination flags, login merge."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.core.errors import DomainError
from marketplace.orders import cart as carts
from marketplace.orders.dashboard import SESSION_CART_KEY
from marketplace.orders.models import Cart, CartItem
from tests.factories import UserFactory
from tests.orders import factories as f

pytestmark = pytest.mark.django_db


def _add(client, variant, quantity=1):
    return client.post(reverse("orders:cart-add"), {"variant": variant.pk, "quantity": quantity})


def test_a_visitor_adds_items_from_two_shops_and_sees_them_grouped_by_shop(client, tshirt, scarf):
    assert _add(client, tshirt, 2).status_code == 302
    assert _add(client, scarf, 1).status_code == 302
    cart = Cart.objects.get(token=client.session[SESSION_CART_KEY])
    assert cart.user is None
    assert {(i.variant_id, i.quantity) for i in cart.items.all()} == {(tshirt.pk, 2), (scarf.pk, 1)}

    page = client.get(reverse("orders:cart"))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Maple &amp; Thread") < html.index("Jade Studio")
    assert 'data-cart-line="TEE-M"' in html and 'data-cart-line="SCARF-1"' in html
    # The header's cart link counts the items.
    assert '<span class="badge"' in html and ">3</span>" in html


def test_adding_the_same_item_again_adds_up_and_stops_at_the_stock(client, rules, us_shop):
    variant = f.make_listing(us_shop, stock=3, sku="FEW-1")
    _add(client, variant, 2)
    response = _add(client, variant, 2)
    assert response.status_code == 302
    cart = Cart.objects.get(token=client.session[SESSION_CART_KEY])
    assert cart.items.get().quantity == 2
    page = client.get(reverse("orders:cart"))
    assert "Only 3 left in stock." in page.content.decode()


def test_quantity_zero_removes_a_line_and_bad_quantities_are_refused_by_name(client, tshirt):
    _add(client, tshirt, 1)
    item = CartItem.objects.get()
    response = client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": "-1"})
    assert response.status_code == 302
    assert "Quantity: enter 0 or more." in client.get(reverse("orders:cart")).content.decode()
    assert CartItem.objects.get().quantity == 1
    client.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": "0"})
    assert not CartItem.objects.exists()


def test_a_sold_out_item_cannot_be_added(client, rules, us_shop):
    variant = f.make_listing(us_shop, stock=0, sku="NONE-1")
    _add(client, variant)
    assert not CartItem.objects.exists()
    assert "Sorry, this item is sold out." in client.get(reverse("orders:cart")).content.decode()


def test_items_that_do_not_ship_to_the_destination_are_flagged(client, rules, us_shop):
    domestic_only = f.make_profile(
        us_shop, name="US only", zones=[(["US"], [("postal", "5.00", "1.00", 2, 4)])]
    )
    variant = f.make_listing(us_shop, sku="US-ONLY", profile=domestic_only)
    _add(client, variant)
    client.post(reverse("orders:cart-destination"), {"country": "DE"})
    html = client.get(reverse("orders:cart")).content.decode()
    assert "Does not ship to Germany." in html
    assert reverse("orders:checkout") not in html  # no checkout button
    client.post(reverse("orders:cart-destination"), {"country": "US"})
    assert "Does not ship to" not in client.get(reverse("orders:cart")).content.decode()


def test_an_item_that_is_not_export_ready_is_flagged_for_a_foreign_destination(
    client, rules, us_shop
):
    variant = f.make_listing(us_shop, sku="NO-HS", customs={"hs_code": "", "material": ""})
    _add(client, variant)
    client.post(reverse("orders:cart-destination"), {"country": "DE"})
    html = client.get(reverse("orders:cart")).content.decode()
    assert "The seller cannot ship this item abroad yet." in html


def test_sellers_cannot_buy_from_their_own_shop(client_for, seller, tshirt):
    client = client_for(seller)
    _add(client, tshirt)
    assert not CartItem.objects.exists()


def test_someone_elses_cart_item_is_a_404(client_for, buyer, stranger, tshirt):
    client = client_for(buyer)
    _add(client, tshirt)
    item = CartItem.objects.get()
    other = client_for(stranger)
    assert other.post(reverse("orders:cart-remove", args=[item.pk])).status_code == 404
    assert (
        other.post(reverse("orders:cart-update", args=[item.pk]), {"quantity": 5}).status_code
        == 404
    )
    assert CartItem.objects.get().quantity == 1


def test_the_anonymous_cart_merges_into_the_account_cart_at_login(client, buyer, tshirt, scarf):
    # The account already holds a T-shirt; the visitor adds another and a scarf, then logs in.
    account_cart = carts.open_cart_for_user(user=buyer, now=timezone.now())
    carts.add_to_cart(cart=account_cart, variant=tshirt, quantity=1, now=timezone.now())
    _add(client, tshirt, 2)
    _add(client, scarf, 1)
    anonymous = Cart.objects.get(token=client.session[SESSION_CART_KEY])

    response = client.post(
        reverse("account_login"), {"login": buyer.email, "password": f_password()}
    )
    assert response.status_code == 302

    anonymous.refresh_from_db()
    assert anonymous.status == Cart.Status.MERGED
    merged = Cart.objects.get(user=buyer, status=Cart.Status.OPEN)
    assert merged.pk == account_cart.pk
    assert {(i.variant_id, i.quantity) for i in merged.items.all()} == {
        (tshirt.pk, 3),
        (scarf.pk, 1),
    }
    assert SESSION_CART_KEY not in client.session
    # Logging in again merges nothing twice.
    carts.merge_carts(source=anonymous, user=buyer, now=timezone.now())
    assert merged.items.get(variant=tshirt).quantity == 3


def test_merging_caps_quantities_at_the_stock(buyer, rules, us_shop):
    variant = f.make_listing(us_shop, stock=4, sku="CAP-1")
    now = timezone.now()
    mine = carts.open_cart_for_user(user=buyer, now=now)
    carts.add_to_cart(cart=mine, variant=variant, quantity=3, now=now)
    visitor = Cart.objects.create(created_at=now, updated_at=now)
    carts.add_to_cart(cart=visitor, variant=variant, quantity=3, now=now)
    carts.merge_carts(source=visitor, user=buyer, now=now)
    assert mine.items.get().quantity == 4


def test_every_change_moves_the_checkout_token_on(buyer, tshirt):
    now = timezone.now()
    cart = carts.open_cart_for_user(user=buyer, now=now)
    tokens = {cart.checkout_token}
    item = carts.add_to_cart(cart=cart, variant=tshirt, quantity=1, now=now)
    tokens.add(Cart.objects.get(pk=cart.pk).checkout_token)
    carts.set_quantity(cart=cart, item=item, quantity=2, now=now)
    tokens.add(Cart.objects.get(pk=cart.pk).checkout_token)
    carts.set_destination(cart=cart, country="FR", now=now)
    tokens.add(Cart.objects.get(pk=cart.pk).checkout_token)
    assert len(tokens) == 4


def test_one_open_cart_per_account_even_when_two_tabs_create_it(buyer):
    now = timezone.now()
    first = carts.open_cart_for_user(user=buyer, now=now)
    second = carts.open_cart_for_user(user=buyer, now=now)
    assert first.pk == second.pk
    with pytest.raises(Exception):  # noqa: B017 - the partial unique constraint
        Cart.objects.create(user=buyer, created_at=now)


def test_a_paused_listing_cannot_be_added(buyer, tshirt):
    from marketplace.listings import services as catalog
    from marketplace.listings.models import Listing

    catalog.change_listing_status(
        listing=tshirt.listing, target=Listing.Status.PAUSED, actor=None, now=timezone.now()
    )
    cart = carts.open_cart_for_user(user=buyer, now=timezone.now())
    with pytest.raises(DomainError, match="not for sale"):
        carts.add_to_cart(cart=cart, variant=tshirt, quantity=1, now=timezone.now())


def test_the_listing_page_offers_add_to_cart(client, tshirt):
    page = client.get(tshirt.listing.get_absolute_url())
    assert page.status_code == 200
    assert reverse("orders:cart-add") in page.content.decode()


def test_the_cart_page_costs_a_fixed_number_of_queries(
    client, django_assert_max_num_queries, rules, us_shop, cn_shop
):
    for n in range(6):
        shop = us_shop if n % 2 else cn_shop
        _add(client, f.make_listing(shop, sku=f"Q-{n}"))
    client.post(reverse("orders:cart-destination"), {"country": "DE"})
    with django_assert_max_num_queries(10):
        assert client.get(reverse("orders:cart")).status_code == 200


def f_password():
    from tests.factories import PASSWORD

    return PASSWORD


def test_a_new_account_cart_is_created_on_first_add(client_for, tshirt):
    user = UserFactory()
    client = client_for(user)
    _add(client, tshirt)
    assert Cart.objects.get(user=user).items.count() == 1


def test_an_item_without_customs_data_ships_within_the_eu_customs_union(client, rules, de_shop):
    """Customs owns the border rule: a German shop's item needs no customs data for France
    (the cart used to say "cannot ship abroad yet" while checkout needed no customs)."""
    variant = f.make_listing(
        de_shop, sku="NO-HS-DE", customs={"hs_code": "", "material": "", "origin_country": ""}
    )
    _add(client, variant)
    client.post(reverse("orders:cart-destination"), {"country": "FR"})
    html = client.get(reverse("orders:cart")).content.decode()
    assert "cannot ship this item abroad" not in html
    assert reverse("orders:checkout") in html
    client.post(reverse("orders:cart-destination"), {"country": "US"})
    html = client.get(reverse("orders:cart")).content.decode()
    assert "The seller cannot ship this item abroad yet." in html
