"""What orders add to the seller dashboard and to login (registered in ``OrdersConfig.ready``)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.orders.models import PayoutAccount, ShopOrder

SESSION_CART_KEY = "cart_token"


def orders_section(shop) -> dict:
    S = ShopOrder.Status
    counts = ShopOrder.objects.filter(shop=shop).aggregate(
        to_ship=Count("pk", filter=Q(status=S.PAPERWORK_READY)),
        preparing=Count("pk", filter=Q(status=S.PAID)),
        failed=Count(
            "pk",
            filter=Q(
                paperwork_status=ShopOrder.Paperwork.FAILED, status__in=(S.PAID, S.PAPERWORK_READY)
            ),
        ),
    )
    to_ship = ngettext(
        "%(to_ship)d parcel is ready to ship.",
        "%(to_ship)d parcels are ready to ship.",
        counts["to_ship"],
    ) % {"to_ship": counts["to_ship"]}
    paperwork = _("Waiting for paperwork: %(preparing)d, paperwork failed: %(failed)d.") % counts
    account = PayoutAccount.objects.filter(shop=shop).first()
    payout_status = (
        _("Payouts: %(status)s.") % {"status": account.get_status_display()}
        if account
        else _("Payouts: no payout account yet (your balance accrues).")
    )
    summary = f"{to_ship} {paperwork} {payout_status}"
    return {
        "title": _("Orders"),
        "summary": summary,
        "url": reverse("orders:seller-orders", kwargs={"slug": shop.slug}),
        "action": _("Open orders"),
    }


def merge_cart_at_login(sender, request, user, **kwargs) -> None:
    """Signal receiver: hand the session's anonymous cart to the merge service."""
    if request is None or not hasattr(request, "session"):
        return
    token = request.session.pop(SESSION_CART_KEY, None)
    if not token:
        return
    from marketplace.orders.cart import anonymous_cart, merge_carts

    cart = anonymous_cart(token=token)
    if cart is not None:
        merge_carts(source=cart, user=user, now=timezone.now())
