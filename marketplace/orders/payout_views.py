"""The shop owner's payout account: connect Stripe (onboarding link), see its status."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import shop_for_member
from marketplace.orders import payouts
from marketplace.orders.models import PayoutAccount
from marketplace.orders.payments.base import ProviderError, ProviderUnreachable

logger = logging.getLogger(__name__)


@login_required
@require_GET
def payout_account(request: HttpRequest, slug: str) -> HttpResponse:
    """Also Stripe's return and refresh URL after onboarding: the status is asked afresh."""
    shop = shop_for_member(request, slug, owner=True)
    account = PayoutAccount.objects.filter(shop=shop).first()
    if account is not None and account.status != PayoutAccount.Status.ENABLED:
        try:
            account = payouts.refresh_connect_status(account=account, now=timezone.now())
        except (ProviderError, ProviderUnreachable):
            logger.warning("could not refresh payout account of %s", shop.pk, exc_info=True)
    return render(
        request,
        "orders/seller/payout_account.html",
        {
            "shop": shop,
            "account": account,
            "connect_available": bool(settings.STRIPE_SECRET_KEY),
        },
    )


@login_required
@require_POST
def payout_connect(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    here = request.build_absolute_uri(reverse("orders:seller-payout-account", args=[shop.slug]))
    try:
        link = payouts.start_connect_onboarding(
            shop=shop,
            email=request.user.email,
            refresh_url=here,
            return_url=here,
            now=timezone.now(),
        )
    except (ProviderError, ProviderUnreachable):
        logger.warning("Connect onboarding failed for shop %s", shop.pk, exc_info=True)
        messages.error(request, _("Stripe did not answer. Nothing changed; try again shortly."))
        return redirect("orders:seller-payout-account", slug=shop.slug)
    return redirect(link)
