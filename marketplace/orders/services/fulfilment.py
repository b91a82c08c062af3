"""Shipping and delivery of a parcel."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from marketplace.core.errors import DomainError
from marketplace.orders import customs_bridge
from marketplace.orders.locks import lock_one
from marketplace.orders.models import (
    OrderEvent,
    ShopOrder,
)
from marketplace.orders.services.transitions import lock_order, move_shop_order, sync_order_status

logger = logging.getLogger(__name__)
SO = ShopOrder.Status


def ship_shop_order(
    *, shop_order: ShopOrder, carrier: str, tracking_number: str, actor: User, now: datetime
) -> None:
    """The seller handed the parcel over: record carrier and tracking number.

    A postal tracking number must be a valid UPU S10 id; it also becomes the item barcode on
    the customs declaration (the documents are re-rendered with it).
    """
    tracking_number = "".join(tracking_number.split()).upper()
    if carrier not in ShopOrder.Carrier.values:
        raise DomainError(_("Carrier: choose one from the list."), code="carrier")
    if not tracking_number:
        raise DomainError(_("Tracking number: enter the number on the receipt."), code="tracking")
    if carrier == ShopOrder.Carrier.POST:
        problem = customs_bridge.s10_problem(tracking_number, shop_order.shop.country.code)
        if problem:
            raise DomainError(
                _("Tracking number: %(problem)s") % {"problem": problem}, code="tracking"
            )
    elif len(tracking_number) > 40 or not tracking_number.isalnum():
        raise DomainError(_("Tracking number: letters and digits only, up to 40."), code="tracking")
    with transaction.atomic():
        order = lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        refusal = shop_order.ship_refusal()
        if refusal:
            raise DomainError(refusal)
        move_shop_order(
            shop_order,
            SO.SHIPPED,
            now=now,
            actor=actor,
            kind=OrderEvent.Kind.SHIPPED,
            data={"carrier": carrier, "tracking_number": tracking_number},
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
        )
        if (
            shop_order.international
            and shop_order.declaration_id
            and carrier == ShopOrder.Carrier.POST
        ):
            # The S10 id becomes the barcode on the CN22/CN23 (a new document version).
            customs_bridge.set_tracking_number(
                declaration_id=shop_order.declaration_id, tracking_number=tracking_number
            )
        sync_order_status(order, now=now, actor=actor)


def mark_delivered(*, shop_order: ShopOrder, actor: User | None, now: datetime) -> None:
    with transaction.atomic():
        order = lock_order(shop_order.order)
        shop_order = lock_one(ShopOrder.objects.select_related("shop"), shop_order.pk)
        shop_order.order = order
        move_shop_order(
            shop_order,
            SO.DELIVERED,
            now=now,
            actor=actor,
            kind=OrderEvent.Kind.DELIVERED,
            delivered_at=now,
        )
        sync_order_status(order, now=now, actor=actor)
