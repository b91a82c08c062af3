from tests.url_matrix import MEMBER, OWNER, PUBLIC, SIGNED_IN, TOKEN, Rule


def _order(p):
    from tests.orders.records import paid_order

    return {"number": paid_order(p["buyer"], p["shop"]).number}


def _buyer_document(p):
    from tests.orders.records import document_of, paid_order

    order = paid_order(p["buyer"], p["shop"])
    return {"number": order.number, "pk": document_of(order, "invoice").pk}


def _shop_order(p):
    from tests.orders.records import paid_order

    return {"slug": p["shop"].slug, "number": paid_order(p["buyer"], p["shop"]).number}


def _seller_document(p):
    from tests.orders.records import document_of, paid_order

    order = paid_order(p["buyer"], p["shop"])
    return {"slug": p["shop"].slug, "number": order.number, "pk": document_of(order, "cn22").pk}


def _shop(p):
    return {"slug": p["shop"].slug}


def _cart_item(p):
    # Another visitor's cart item: the probing personas have no cart, so they get 404.
    from django.utils import timezone

    from marketplace.orders.models import Cart, CartItem
    from tests.orders.records import paid_order

    order = paid_order(p["buyer"], p["shop"], with_documents=False)
    variant = order.shop_orders.get().lines.get().variant
    cart = Cart.objects.create(user=p["buyer"], created_at=timezone.now())
    return {"pk": CartItem.objects.create(cart=cart, variant=variant, quantity=1).pk}


SELLER = {"owner": "seller", "also": ("seller_staff",)}

RULES = {
    # Cart: visitors have carts too (in their session).
    "orders:cart": Rule(PUBLIC),
    "orders:cart-add": Rule(PUBLIC, method="post"),
    "orders:cart-update": Rule(PUBLIC, kwargs=_cart_item, method="post"),
    "orders:cart-remove": Rule(PUBLIC, kwargs=_cart_item, method="post"),
    "orders:cart-destination": Rule(PUBLIC, method="post"),
    # Checkout and the buyer's orders.
    "orders:checkout": Rule(SIGNED_IN),
    "orders:checkout-address": Rule(SIGNED_IN, method="post"),
    "orders:checkout-shipping": Rule(SIGNED_IN, method="post"),
    "orders:checkout-place": Rule(SIGNED_IN, method="post"),
    "orders:order-list": Rule(SIGNED_IN),
    "orders:order-detail": Rule(SIGNED_IN, kwargs=_order, owner="buyer"),
    "orders:order-cancel": Rule(SIGNED_IN, kwargs=_order, owner="buyer", method="post"),
    "orders:order-payment-return": Rule(SIGNED_IN, kwargs=_order, owner="buyer"),
    "orders:order-document": Rule(SIGNED_IN, kwargs=_buyer_document, owner="buyer"),
    "orders:stripe-pay": Rule(SIGNED_IN, kwargs=_order, owner="buyer"),
    # Payment providers: a secret reference in the URL; webhooks carry a signature.
    "orders:test-provider-authenticate": Rule(
        TOKEN, kwargs=lambda p: {"reference": "tp_ch_no_such_charge"}
    ),
    "orders:payment-webhook": Rule(PUBLIC, kwargs=lambda p: {"provider": "test"}, method="post"),
    # Seller pages.
    "orders:seller-orders": Rule(MEMBER, kwargs=_shop, **SELLER),
    "orders:seller-order-detail": Rule(MEMBER, kwargs=_shop_order, **SELLER),
    "orders:seller-order-ship": Rule(MEMBER, kwargs=_shop_order, method="post", **SELLER),
    "orders:seller-declaration-category": Rule(MEMBER, kwargs=_shop_order, method="post", **SELLER),
    "orders:seller-order-deliver": Rule(MEMBER, kwargs=_shop_order, method="post", **SELLER),
    "orders:seller-order-cancel": Rule(OWNER, kwargs=_shop_order, method="post", **SELLER),
    "orders:seller-order-refund": Rule(OWNER, kwargs=_shop_order, **SELLER),
    "orders:seller-paperwork-retry": Rule(MEMBER, kwargs=_shop_order, method="post", **SELLER),
    "orders:seller-document": Rule(MEMBER, kwargs=_seller_document, **SELLER),
    "orders:seller-balance": Rule(OWNER, kwargs=_shop, **SELLER),
    "orders:seller-payout-account": Rule(OWNER, kwargs=_shop, **SELLER),
    "orders:seller-payout-connect": Rule(OWNER, kwargs=_shop, method="post", **SELLER),
    "orders:seller-statement": Rule(
        OWNER, kwargs=lambda p: {"slug": p["shop"].slug, "year": 2026, "month": 10}, **SELLER
    ),
}
