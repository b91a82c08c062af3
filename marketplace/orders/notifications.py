"""Who hears about which order event, and what they read.

Run by ``tasks.notify_order_event`` on the notifications queue. Every message goes through
``accounts.services.notify`` (inbox + email in the recipient's language) with the dedupe key
``order-event:<event id>``, so sending an event twice notifies nobody twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import Shop, ShopMembership, User
from accounts.services import notify, notify_staff
from marketplace.core.addresses import format_phone
from marketplace.orders.models import Order, OrderEvent, ShopOrder


def shop_recipients(shop: Shop, *, owners_only: bool = False) -> QuerySet:
    members = ShopMembership.objects.filter(shop=shop)
    if owners_only:
        members = members.filter(role=ShopMembership.Role.OWNER)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by("pk")


def _order_context(order: Order) -> dict:
    return {
        "order_number": order.number,
        "total": str(order.total),
        "currency": order.currency,
        "order_url": reverse("orders:order-detail", args=[order.number]),
        "buyer_name": order.ship_name,
    }


def _shop_context(shop_order: ShopOrder) -> dict:
    order = shop_order.order
    return {
        "shop_name": shop_order.shop.display_name,
        "order_number": order.number,
        "reference": shop_order.reference,
        "seller_url": reverse(
            "orders:seller-order-detail", args=[shop_order.shop.slug, order.number]
        ),
        "destination": str(order.ship_country.name),
    }


@dataclass(frozen=True)
class Message:
    """One notification: to ``user``, or to the staff when ``user`` is None."""

    kind: str
    context: dict
    url: str
    dedupe_key: str
    user: User | None = None


def _to_shop(shop_order: ShopOrder, kind: str, context: dict, key: str, *, skip=None):
    for user in shop_recipients(shop_order.shop):
        if user.pk != skip:
            yield Message(kind, context, context["seller_url"], key, user)


def _placed(event: OrderEvent, key: str):
    from marketplace.orders.payments.banktransfer import bank_details

    order = event.order
    context = _order_context(order)
    context["ship_to"] = order.address_lines()  # as the destination's post writes it
    context["payment_method"] = order.payment_method
    if order.payment_method == "bank_transfer":
        context["bank"] = bank_details()
        context["expires_at"] = order.expires_at.date().isoformat() if order.expires_at else ""
    yield Message("order_placed", context, context["order_url"], key, order.buyer)


def _paid(event: OrderEvent, key: str):
    order = event.order
    context = _order_context(order)
    context["parcels"] = [
        {
            "shop_name": so.shop.display_name,
            "days": f"{so.delivery_min_days}-{so.delivery_max_days}",
        }
        for so in order.shop_orders.select_related("shop").order_by("pk")
    ]
    yield Message("order_paid", context, context["order_url"], key, order.buyer)
    for so in order.shop_orders.select_related("shop", "order").order_by("pk"):
        shop_context = _shop_context(so)
        shop_context.update(
            total=str(so.goods_shop + so.shipping_shop),
            currency=so.shop_currency,
            items=[
                f"{line.quantity} x {line.title} ({line.sku})" for line in so.lines.order_by("pk")
            ],
            international=so.international,
            held=bool(so.held_at),
            ship_to=so.order.address_lines(),
            ship_phone=format_phone(so.order.ship_phone),
        )
        yield from _to_shop(so, "shop_new_order", shop_context, f"{key}:{so.pk}")


def _paperwork_ready(event: OrderEvent, key: str):
    context = _shop_context(event.shop_order)
    context["form"] = event.shop_order.customs_form or "CN23"
    yield from _to_shop(event.shop_order, "paperwork_ready", context, key)


def _staff_context(event: OrderEvent) -> dict:
    context = _shop_context(event.shop_order)
    context["reason"] = event.note[:500]
    context["admin_url"] = reverse("admin:orders_shoporder_change", args=[event.shop_order.pk])
    return context


def _paperwork_failed(event: OrderEvent, key: str):
    context = _staff_context(event)
    yield Message("paperwork_failed_admin", context, context["admin_url"], key)
    if event.shop_order.declaration_id is None:
        # Customs refused to declare it; customs itself tells the owners about failed
        # renders of a declaration that exists, so this is the only seller message here.
        yield from _to_shop(event.shop_order, "paperwork_failed", context, key)


def _held(event: OrderEvent, key: str):
    context = _staff_context(event)
    yield Message("screening_hold", context, context["admin_url"], key)


def _shipped(event: OrderEvent, key: str):
    shop_order = event.shop_order
    context = _order_context(event.order)
    context.update(
        shop_name=shop_order.shop.display_name,
        carrier=shop_order.get_carrier_display(),
        tracking_number=shop_order.tracking_number,
        tracking_url=shop_order.tracking_url(),
        days=f"{shop_order.delivery_min_days}-{shop_order.delivery_max_days}",
    )
    yield Message("parcel_shipped", context, context["order_url"], key, event.order.buyer)


def _expired(event: OrderEvent, key: str):
    # Not paid in time: the stock went back, nothing was charged.
    context = _order_context(event.order)
    context["payment_method"] = event.order.payment_method
    yield Message("order_expired", context, context["order_url"], key, event.order.buyer)


def _cancelled(event: OrderEvent, key: str):
    order, shop_order = event.order, event.shop_order
    context = _order_context(order)
    context["reason"] = event.note[:500]
    context["shop_name"] = shop_order.shop.display_name if shop_order else ""
    if event.actor_id != order.buyer.pk:
        yield Message("order_cancelled", context, context["order_url"], key, order.buyer)
    parcels = (
        [shop_order]
        if shop_order
        else list(order.shop_orders.select_related("shop", "order").order_by("pk"))
    )
    for so in parcels:
        shop_context = {**_shop_context(so), "reason": event.note[:500]}
        yield from _to_shop(
            so, "shop_order_cancelled", shop_context, f"{key}:{so.pk}", skip=event.actor_id
        )


def _refunded(event: OrderEvent, key: str):
    context = _order_context(event.order)
    context.update(
        shop_name=event.shop_order.shop.display_name,
        amount=event.data.get("amount", ""),
        reason=event.note[:500],
    )
    yield Message("order_refunded", context, context["order_url"], key, event.order.buyer)


K = OrderEvent.Kind
# Which event tells whom: kind -> (needs a shop order, the messages).
HANDLERS: dict[str, tuple[bool, Callable[[OrderEvent, str], Iterator[Message]]]] = {
    K.PLACED: (False, _placed),
    K.PAID: (False, _paid),
    K.PAPERWORK_READY: (True, _paperwork_ready),
    K.PAPERWORK_FAILED: (True, _paperwork_failed),
    K.HELD: (True, _held),
    K.SHIPPED: (True, _shipped),
    K.EXPIRED: (False, _expired),
    K.CANCELLED: (False, _cancelled),
    K.REFUNDED: (True, _refunded),
}


def send_for_event(event: OrderEvent) -> None:
    entry = HANDLERS.get(event.kind)
    if entry is None:
        return
    needs_parcel, messages = entry
    if needs_parcel and event.shop_order is None:
        return
    for m in messages(event, f"order-event:{event.pk}"):
        if m.user is None:
            notify_staff(kind=m.kind, context=m.context, url=m.url, dedupe_key=m.dedupe_key)
        else:
            notify(user=m.user, kind=m.kind, context=m.context, url=m.url, dedupe_key=m.dedupe_key)
