"""Payment pages: the outcome after checkout or the provider's second step, the test
provider's page and the providers' webhooks.

Views are thin: resolve what the request may touch (``access``), validate a form, call one
service, turn a ``DomainError`` into a message, redirect.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from marketplace.orders.access import order_for_buyer
from marketplace.orders.models import (
    Order,
    Payment,
)
from marketplace.orders.payments import service as payments
from marketplace.orders.payments.base import InvalidSignature, ProviderError

logger = logging.getLogger(__name__)


def after_payment(request: HttpRequest, order: Order, outcome) -> HttpResponse:
    if outcome.state == "requires_action":
        return redirect(outcome.payment.action_url)
    if outcome.state == "failed":
        messages.error(
            request,
            _("%(reason)s Nothing was charged and your cart is unchanged.")
            % {"reason": outcome.message},
        )
        return redirect("orders:checkout")
    if outcome.state == "paid":
        messages.success(request, _("Thank you! Your order is paid."))
    elif outcome.state == "awaiting_transfer":
        messages.success(request, _("Your order is placed. Pay by bank transfer to confirm it."))
    elif outcome.state == "processing":
        messages.info(request, _("Your bank is confirming the payment. This page updates."))
    elif outcome.message:
        messages.warning(request, outcome.message)
    return redirect(order.get_absolute_url())


@login_required
@require_GET
def order_payment_return(request: HttpRequest, number: str) -> HttpResponse:
    """Where the buyer lands after the provider's second step: settle what we can now."""
    order = order_for_buyer(request, number)
    payment = order.payments.order_by("-pk").first()
    if payment is None:
        return redirect(order.get_absolute_url())
    outcome = payments.sync_payment(payment=payment, now=timezone.now())
    return after_payment(request, order, outcome)


# --- The test provider's pages and webhooks ---------------------------------------------------


def test_provider_authenticate(request: HttpRequest, reference: str) -> HttpResponse:
    """The test provider's second step, as a bank's 3-D Secure page would ask it."""
    payment = get_object_or_404(
        Payment.objects.select_related("order"), provider="test", provider_reference=reference
    )
    if request.method == "POST":
        approve = request.POST.get("decision") == "approve"
        payments.PROVIDERS["test"].complete_authentication(reference=reference, approve=approve)
        return redirect("orders:order-payment-return", number=payment.order.number)
    return render(request, "orders/test_provider_authenticate.html", {"payment": payment})


@csrf_exempt
@require_POST
def payment_webhook(request: HttpRequest, provider: str) -> HttpResponse:
    """Provider events; the signature is the authentication, the event id the dedupe key."""
    if provider not in payments.enabled_providers():
        # Includes the test provider wherever it is not the configured card provider.
        raise Http404("No such provider.")
    try:
        result = payments.handle_webhook(
            provider_name=provider,
            body=request.body,
            headers=dict(request.headers),
            now=timezone.now(),
        )
    except (InvalidSignature, ProviderError) as exc:
        logger.warning("rejected %s webhook: %s", provider, exc)
        return HttpResponseBadRequest("invalid webhook")
    return JsonResponse({"result": result})
