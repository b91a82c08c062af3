from django.conf import settings
from django.urls import path

from marketplace.orders import payout_views
from marketplace.orders.payments import views as payment_views
from marketplace.orders.views import buyer, seller
from marketplace.orders.views import payments as payment_pages

app_name = "orders"

urlpatterns = [
    # Cart and checkout
    path("cart/", buyer.cart_detail, name="cart"),
    path("cart/add/", buyer.cart_add, name="cart-add"),
    path("cart/items/<int:pk>/", buyer.cart_update, name="cart-update"),
    path("cart/items/<int:pk>/remove/", buyer.cart_remove, name="cart-remove"),
    path("cart/destination/", buyer.cart_destination, name="cart-destination"),
    path("checkout/", buyer.checkout, name="checkout"),
    path("checkout/address/", buyer.checkout_address, name="checkout-address"),
    path("checkout/shipping/", buyer.checkout_shipping, name="checkout-shipping"),
    path("checkout/place/", buyer.checkout_place, name="checkout-place"),
    # Buyer orders
    path("orders/", buyer.order_list, name="order-list"),
    path("orders/<str:number>/", buyer.order_detail, name="order-detail"),
    path("orders/<str:number>/cancel/", buyer.order_cancel, name="order-cancel"),
    path(
        "orders/<str:number>/payment/return/",
        payment_pages.order_payment_return,
        name="order-payment-return",
    ),
    path(
        "orders/<str:number>/documents/<int:pk>/",
        buyer.order_document,
        name="order-document",
    ),
    # Payment providers
    path("orders/<str:number>/pay/card/", payment_views.stripe_pay, name="stripe-pay"),
    path(
        "payments/webhooks/<str:provider>/", payment_pages.payment_webhook, name="payment-webhook"
    ),
    # Seller pages
    path("sell/<slug:slug>/orders/", seller.seller_orders, name="seller-orders"),
    path(
        "sell/<slug:slug>/orders/<str:number>/",
        seller.seller_order_detail,
        name="seller-order-detail",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/ship/",
        seller.seller_order_ship,
        name="seller-order-ship",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/delivered/",
        seller.seller_order_deliver,
        name="seller-order-deliver",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/cancel/",
        seller.seller_order_cancel,
        name="seller-order-cancel",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/refund/",
        seller.seller_order_refund,
        name="seller-order-refund",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/paperwork/category/",
        seller.seller_declaration_category,
        name="seller-declaration-category",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/paperwork/retry/",
        seller.seller_paperwork_retry,
        name="seller-paperwork-retry",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/documents/<int:pk>/",
        seller.seller_document,
        name="seller-document",
    ),
    path("sell/<slug:slug>/balance/", seller.seller_balance, name="seller-balance"),
    path("sell/<slug:slug>/payouts/", payout_views.payout_account, name="seller-payout-account"),
    path(
        "sell/<slug:slug>/payouts/connect/",
        payout_views.payout_connect,
        name="seller-payout-connect",
    ),
    path(
        "sell/<slug:slug>/balance/<int:year>-<int:month>.csv",
        seller.seller_statement,
        name="seller-statement",
    ),
]

# The test provider's second-step page exists only where it is the card provider.
if settings.ORDERS_CARD_PROVIDER == "test":
    urlpatterns.append(
        path(
            "pay/test/<str:reference>/",
            payment_pages.test_provider_authenticate,
            name="test-provider-authenticate",
        )
    )
