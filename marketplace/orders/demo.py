"""Demo orders in different states, placed and moved through the real services.

- Lena (Berlin) ordered from Maple & Thread (US) and Jade Studio (China), paid by card, duty
  and VAT collected; the paperwork is made and the US parcel has shipped with its S10 id.
- Camille (Lyon) ordered a cuckoo clock from Black Forest Goods and pays by bank transfer:
  the order awaits payment (intra-EU, so no customs).
- James (Manchester) ordered tea from Thames Tea Co. (domestic), delivered, then one item
  refunded.
- Chloe (Sydney) ordered a beanie and cancelled it before it shipped.

Each order has a fixed checkout token (uuid5 of its name): seeding again finds it and adds
nothing. Paperwork is rendered inline so the demo shows documents before a worker runs.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from accounts.models import Shop, User
from marketplace.listings.models import Variant
from marketplace.orders import cart as carts
from marketplace.orders.checkout import place_order
from marketplace.orders.models import Cart, Order, ShopOrder
from marketplace.orders.payments import service as payments
from marketplace.orders.payments.testprovider import SUCCESS
from marketplace.orders.services import fulfilment, paperwork, refunds

logger = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("6f1c2a9e-3b9e-4a47-9b8e-0d3c1f5a7e21")
CARD = {"card_number": SUCCESS, "expiry": "12/30"}

ORDERS = [
    # name, buyer, [(sku, shop slug, quantity)], payment method
    (
        "lena-two-shops",
        "lena@buyer.example",
        [("MT-TEE-M", "maple-thread", 2), ("JS-CUPS-4", "jade-studio", 1)],
        "card",
    ),
    (
        "camille-transfer",
        "camille@buyer.example",
        [("BF-CUCKOO", "black-forest-goods", 1)],
        "bank_transfer",
    ),
    (
        "james-delivered",
        "james@buyer.example",
        [("TT-EB-250", "thames-tea", 2), ("TT-MUG", "thames-tea", 1)],
        "card",
    ),
    ("chloe-cancelled", "chloe@buyer.example", [("MT-BEANIE-NAVY", "maple-thread", 1)], "card"),
]


def _token(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def _place(name: str, email: str, lines, method: str, *, now: datetime) -> Order | None:
    token = _token(name)
    existing = Order.objects.filter(checkout_token=token).first()
    if existing is not None:
        return None
    buyer = User.objects.filter(email=email).first()
    if buyer is None:
        logger.warning("demo orders: no buyer %s (run the accounts seeder first)", email)
        return None
    address = buyer.addresses.filter(is_default_shipping=True).first()
    variants = []
    for sku, slug, quantity in lines:
        variant = Variant.objects.filter(sku=sku, shop__slug=slug).first()
        if variant is None or variant.stock < quantity:
            logger.warning(
                "demo orders: %s/%s missing or out of stock; skipped %s", slug, sku, name
            )
            return None
        variants.append((variant, quantity))
    cart = carts.open_cart_for_user(user=buyer, now=now)
    if cart.items.exists():
        # Somebody is shopping as this demo buyer: leave their cart alone.
        logger.warning("demo orders: %s has items in the cart; skipped %s", email, name)
        return None
    for variant, quantity in variants:
        carts.add_to_cart(cart=cart, variant=variant, quantity=quantity, now=now)
    carts.set_shipping_address(cart=cart, address=address, now=now)
    Cart.objects.filter(pk=cart.pk).update(checkout_token=token)
    cart.refresh_from_db()
    order, _created = place_order(
        buyer=buyer,
        cart=cart,
        checkout_token=token,
        address=address,
        currency=buyer.preferred_currency,
        payment_method=method,
        now=now,
    )
    payments.start_payment(order=order, details=CARD, now=now)
    order.refresh_from_db()
    return order


def _render_paperwork(order: Order, *, now: datetime) -> None:
    """Run the customs jobs now (a worker would do it moments later) and catch up."""
    from customs.models import PaperworkJob
    from customs.services import process_paperwork_job

    for so in order.shop_orders.exclude(declaration_id=None):
        for job in PaperworkJob.objects.filter(declaration_id=so.declaration_id, status="pending"):
            process_paperwork_job(job_id=job.pk, now=now)
    paperwork.catch_up_paperwork(now=now)  # in case the seed runs inside a transaction


def seed(*, now: datetime) -> list[tuple[str, str, str]]:
    placed = {}
    for name, email, lines, method in ORDERS:
        order = _place(name, email, lines, method, now=now)
        if order is not None:
            placed[name] = order

    lena = placed.get("lena-two-shops")
    if lena is not None:
        _render_paperwork(lena, now=now)
        us = ShopOrder.objects.select_related("order", "shop").get(
            order=lena, shop__slug="maple-thread"
        )
        owner = Shop.objects.get(slug="maple-thread").members.order_by("pk").first()
        fulfilment.ship_shop_order(
            shop_order=us,
            carrier=ShopOrder.Carrier.POST,
            tracking_number="RR123456785US",
            actor=owner,
            now=now,
        )
        _render_paperwork(lena, now=now)

    james = placed.get("james-delivered")
    if james is not None:
        parcel = ShopOrder.objects.select_related("order", "shop").get(order=james)
        owner = parcel.shop.members.order_by("pk").first()
        fulfilment.ship_shop_order(
            shop_order=parcel,
            carrier=ShopOrder.Carrier.OTHER,
            tracking_number="RMT0012345GB",
            actor=owner,
            now=now,
        )
        fulfilment.mark_delivered(shop_order=parcel, actor=owner, now=now)
        mug = parcel.lines.get(sku="TT-MUG")
        refunds.refund_shop_order(
            shop_order=parcel,
            lines={mug.pk: 1},
            include_shipping=False,
            reason="The mug arrived chipped.",
            actor=owner,
            now=now,
        )

    chloe = placed.get("chloe-cancelled")
    if chloe is not None:
        refunds.cancel_order(order=chloe, actor=chloe.buyer, reason="Bought one locally.", now=now)
    return []
