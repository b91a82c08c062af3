from django.conf import settings
from django.urls import path

from marketplace.orders import views
from marketplace.orders.payments import views as payment_views

app_name = "orders"

urlpatterns = [
    # Cart and checkout
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/items/<int:pk>/", views.cart_update, name="cart-update"),
    path("cart/items/<int:pk>/remove/", views.cart_remove, name="cart-remove"),
    path("cart/destination/", views.cart_destination, name="cart-destination"),
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/address/", views.checkout_address, name="checkout-address"),
    path("checkout/shipping/", views.checkout_shipping, name="checkout-shipping"),
    path("checkout/place/", views.checkout_place, name="checkout-place"),
    # Buyer orders
    path("orders/", views.order_list, name="order-list"),
    path("orders/<str:number>/", views.order_detail, name="order-detail"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path(
        "orders/<str:number>/payment/return/",
        views.order_payment_return,
        name="order-payment-return",
    ),
    path(
        "orders/<str:number>/documents/<int:pk>/",
        views.order_document,
        name="order-document",
    ),
    # Payment providers
    path("orders/<str:number>/pay/card/", payment_views.stripe_pay, name="stripe-pay"),
    path("payments/webhooks/<str:provider>/", views.payment_webhook, name="payment-webhook"),
    # Seller pages
    path("sell/<slug:slug>/orders/", views.seller_orders, name="seller-orders"),
    path(
        "sell/<slug:slug>/orders/<str:number>/",
        views.seller_order_detail,
        name="seller-order-detail",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/ship/",
        views.seller_order_ship,
        name="seller-order-ship",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/delivered/",
        views.seller_order_deliver,
        name="seller-order-deliver",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/cancel/",
        views.seller_order_cancel,
        name="seller-order-cancel",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/refund/",
        views.seller_order_refund,
        name="seller-order-refund",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/paperwork/retry/",
        views.seller_paperwork_retry,
        name="seller-paperwork-retry",
    ),
    path(
        "sell/<slug:slug>/orders/<str:number>/documents/<int:pk>/",
        views.seller_document,
        name="seller-document",
    ),
    path("sell/<slug:slug>/balance/", views.seller_balance, name="seller-balance"),
    path(
        "sell/<slug:slug>/balance/<int:year>-<int:month>.csv",
        views.seller_statement,
        name="seller-statement",
    ),
]

# The test provider's second-step page exists only where it is the card provider.
if settings.ORDERS_CARD_PROVIDER == "test":
    urlpatterns.append(
        path(
            "pay/test/<str:reference>/",
            views.test_provider_authenticate,
            name="test-provider-authenticate",
        )
    )
