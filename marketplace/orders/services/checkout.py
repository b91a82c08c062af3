"""The buyer's "place order": place the order, then start its payment (Saleor's
``complete_checkout``).

``place_order`` commits the order and its stock reservation in its own transaction; the
payment provider is called only after that commit, never inside it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import Address, User
from marketplace.core.errors import DomainError
from marketplace.orders.checkout import place_order
from marketplace.orders.models import Cart, Order
from marketplace.orders.payments import service as payments


def shipping_address_for(*, buyer: User, cart: Cart) -> Address | None:
    """The address the cart ships to: the one chosen at checkout, else the default."""
    if cart.shipping_address is not None:
        return cart.shipping_address
    return buyer.addresses.filter(is_default_shipping=True).first()


def complete_checkout(
    *,
    buyer: User,
    cart: Cart,
    checkout_token: str,
    currency: str,
    payment_method: str,
    payment_details: dict,
    expected_total: Decimal | None,
    now: datetime,
) -> tuple[Order, payments.PaymentOutcome]:
    """Turn the cart into an order and start paying for it; returns the order and the outcome.

    A double submit of the same checkout token gets the first order and its payment outcome.
    """
    address = shipping_address_for(buyer=buyer, cart=cart)
    if address is None:
        raise DomainError(_("Ship to: add an address first."), code="address")
    order, _created = place_order(
        buyer=buyer,
        cart=cart,
        checkout_token=checkout_token,
        address=address,
        currency=currency,
        payment_method=payment_method,
        expected_total=expected_total,
        now=now,
    )
    outcome = payments.start_payment(order=order, details=payment_details, now=now)
    return order, outcome
