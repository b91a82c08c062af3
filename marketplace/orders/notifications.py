"""Who hears about which order event, and what they read.

Run by ``tasks.notify_order_event`` on the notifications queue. Every message goes through
``accounts.services.notify`` (inbox + email in the recipient's language) with the dedupe key
``order-event:<event id>``, so sending an event twice notifies nobody twice.
"""

from __future__ import annotations

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


def send_for_event(event: OrderEvent) -> None:
    order = event.order
    shop_order = event.shop_order
    key = f"order-event:{event.pk}"
    buyer = order.buyer
    kind = event.kind
    K = OrderEvent.Kind

    if kind == K.PLACED:
        from marketplace.orders.payments.banktransfer import bank_details

        context = _order_context(order)
        context["ship_to"] = order.address_lines()  # as the destination's post writes it
        context["payment_method"] = order.payment_method
        if order.payment_method == "bank_transfer":
            context["bank"] = bank_details()
            context["expires_at"] = order.expires_at.date().isoformat() if order.expires_at else ""
        notify(
            user=buyer,
            kind="order_placed",
            context=context,
            url=context["order_url"],
            dedupe_key=key,
        )

    elif kind == K.PAID:
        context = _order_context(order)
        context["parcels"] = [
            {
                "shop_name": so.shop.display_name,
                "days": f"{so.delivery_min_days}-{so.delivery_max_days}",
            }
            for so in order.shop_orders.select_related("shop").order_by("pk")
        ]
        notify(
            user=buyer, kind="order_paid", context=context, url=context["order_url"], dedupe_key=key
        )
        for so in order.shop_orders.select_related("shop", "order").order_by("pk"):
            shop_context = _shop_context(so)
            shop_context.update(
                total=str(so.goods_shop + so.shipping_shop),
                currency=so.shop_currency,
                items=[
                    f"{line.quantity} x {line.title} ({line.sku})"
                    for line in so.lines.order_by("pk")
                ],
                international=so.international,
                held=bool(so.held_at),
                ship_to=so.order.address_lines(),
                ship_phone=format_phone(so.order.ship_phone),
            )
            for user in shop_recipients(so.shop):
                notify(
                    user=user,
                    kind="shop_new_order",
                    context=shop_context,
                    url=shop_context["seller_url"],
                    dedupe_key=f"{key}:{so.pk}",
                )

    elif kind == K.PAPERWORK_READY and shop_order is not None:
        context = _shop_context(shop_order)
        context["form"] = shop_order.customs_form or "CN23"
        for user in shop_recipients(shop_order.shop):
            notify(
                user=user,
                kind="paperwork_ready",
                context=context,
                url=context["seller_url"],
                dedupe_key=key,
            )

    elif kind == K.PAPERWORK_FAILED and shop_order is not None:
        context = _shop_context(shop_order)
        context["reason"] = event.note[:500]
        context["admin_url"] = reverse("admin:orders_shoporder_change", args=[shop_order.pk])
        notify_staff(
            kind="paperwork_failed_admin", context=context, url=context["admin_url"], dedupe_key=key
        )
        if shop_order.declaration_id is None:
            # Customs refused to declare it; customs itself tells the owners about failed
            # renders of a declaration that exists, so this is the only seller message here.
            for user in shop_recipients(shop_order.shop):
                notify(
                    user=user,
                    kind="paperwork_failed",
                    context=context,
                    url=context["seller_url"],
                    dedupe_key=key,
                )

    elif kind == K.HELD and shop_order is not None:
        context = _shop_context(shop_order)
        context["reason"] = event.note[:500]
        context["admin_url"] = reverse("admin:orders_shoporder_change", args=[shop_order.pk])
        notify_staff(
            kind="screening_hold", context=context, url=context["admin_url"], dedupe_key=key
        )

    elif kind == K.SHIPPED and shop_order is not None:
        context = _order_context(order)
        context.update(
            shop_name=shop_order.shop.display_name,
            carrier=shop_order.get_carrier_display(),
            tracking_number=shop_order.tracking_number,
            tracking_url=shop_order.tracking_url(),
            days=f"{shop_order.delivery_min_days}-{shop_order.delivery_max_days}",
        )
        notify(
            user=buyer,
            kind="parcel_shipped",
            context=context,
            url=context["order_url"],
            dedupe_key=key,
        )

    elif kind == K.EXPIRED:
        # Not paid in time: the stock went back, nothing was charged.
        context = _order_context(order)
        context["payment_method"] = order.payment_method
        notify(
            user=buyer,
            kind="order_expired",
            context=context,
            url=context["order_url"],
            dedupe_key=key,
        )

    elif kind == K.CANCELLED:
        context = _order_context(order)
        context["reason"] = event.note[:500]
        context["shop_name"] = shop_order.shop.display_name if shop_order else ""
        if event.actor_id != buyer.pk:
            notify(
                user=buyer,
                kind="order_cancelled",
                context=context,
                url=context["order_url"],
                dedupe_key=key,
            )
        parcels = (
            [shop_order]
            if shop_order
            else list(order.shop_orders.select_related("shop", "order").order_by("pk"))
        )
        for so in parcels:
            shop_context = {**_shop_context(so), "reason": event.note[:500]}
            for user in shop_recipients(so.shop):
                if user.pk != event.actor_id:
                    notify(
                        user=user,
                        kind="shop_order_cancelled",
                        context=shop_context,
                        url=shop_context["seller_url"],
                        dedupe_key=f"{key}:{so.pk}",
                    )

    elif kind == K.REFUNDED and shop_order is not None:
        context = _order_context(order)
        context.update(
            shop_name=shop_order.shop.display_name,
            amount=event.data.get("amount", ""),
            reason=event.note[:500],
        )
        notify(
            user=buyer,
            kind="order_refunded",
            context=context,
            url=context["order_url"],
            dedupe_key=key,
        )
