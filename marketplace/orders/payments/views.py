"""The buyer's card page for Stripe: the card Element and ``confirmCardPayment`` (Stripe.js).

Card data goes from the buyer's browser to Stripe only; our server hands the page the
intent's client secret and, when Stripe.js is done, settles the payment by asking Stripe
(``order_payment_return``), exactly as the webhook would.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from marketplace.orders.access import order_for_buyer
from marketplace.orders.models import Order, Payment
from marketplace.orders.payments import service as payments
from marketplace.orders.payments import stripeprovider
from marketplace.orders.payments.base import ProviderError, ProviderUnreachable


@login_required
@require_GET
def stripe_pay(request: HttpRequest, number: str) -> HttpResponse:
    order = order_for_buyer(request, number)  # someone else's order: 404
    payment = order.payments.filter(provider="stripe").order_by("-pk").first()
    if payment is None or settings.ORDERS_CARD_PROVIDER != "stripe":
        return redirect(order.get_absolute_url())
    if order.status != Order.Status.PENDING_PAYMENT or payment.status not in (
        Payment.Status.PENDING,
        Payment.Status.REQUIRES_ACTION,
    ):
        return redirect(order.get_absolute_url())
    if not payment.provider_reference:
        # Stripe did not answer when the order was placed: ask again with the same key.
        payments.start_payment(order=order, details={}, now=timezone.now())
        payment.refresh_from_db()
    try:
        if not payment.provider_reference:
            raise ProviderUnreachable("no intent yet")
        client_secret = payments.PROVIDERS["stripe"].client_secret(payment=payment)
    except (ProviderError, ProviderUnreachable):
        messages.error(
            request,
            _("The card payment service did not answer. Nothing was charged; try again shortly."),
        )
        return redirect(order.get_absolute_url())
    response = render(
        request,
        "orders/payments/stripe_pay.html",
        {
            "order": order,
            "payment": payment,
            "client_secret": client_secret,
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js": stripeprovider.js_url(),
        },
    )
    # The client secret confirms this payment: never cached anywhere.
    response["Cache-Control"] = "no-store"
    return response
