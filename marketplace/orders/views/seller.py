"""Order, paperwork and balance pages for sellers.

Views are thin: resolve what the request may touch (``access``), validate a form, call one
service, turn a ``DomainError`` into a message, redirect.
"""

from __future__ import annotations

import logging
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import shop_for_member
from marketplace.core.errors import DomainError
from marketplace.orders import customs_bridge, ledger
from marketplace.orders.access import shop_order_for_member
from marketplace.orders.forms import (
    CategoryForm,
    ReasonForm,
    RefundForm,
    ShipForm,
)
from marketplace.orders.models import (
    LedgerEntry,
    OrderEvent,
    ShopOrder,
)
from marketplace.orders.services import fulfilment, paperwork, refunds
from marketplace.orders.views.common import file_response

logger = logging.getLogger(__name__)


# --- Seller pages ------------------------------------------------------------------------------


SELLER_FILTERS = {
    "to_ship": (ShopOrder.Status.PAPERWORK_READY,),
    "preparing": (ShopOrder.Status.PAID,),
    "shipped": (ShopOrder.Status.SHIPPED, ShopOrder.Status.DELIVERED),
    "closed": (ShopOrder.Status.CANCELLED, ShopOrder.Status.REFUNDED),
}


@login_required
@require_GET
def seller_orders(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    shop_orders = (
        ShopOrder.objects.filter(shop=shop, order__paid_at__isnull=False)
        .select_related("order")
        .annotate(item_count=Sum("lines__quantity"))
        .order_by("-order__paid_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in SELLER_FILTERS:
        shop_orders = shop_orders.filter(status__in=SELLER_FILTERS[status])
    query = request.GET.get("q", "").strip()
    if query:
        shop_orders = shop_orders.filter(order__number__icontains=query)
    page = Paginator(shop_orders, 30).get_page(request.GET.get("page"))
    counts = dict(
        ShopOrder.objects.filter(shop=shop, order__paid_at__isnull=False)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return render(
        request,
        "orders/seller/order_list.html",
        {
            "shop": shop,
            "page": page,
            "status": status,
            "query": query,
            "counts": counts,
            "filters": SELLER_FILTERS,
        },
    )


def _seller_detail_context(request: HttpRequest, shop_order: ShopOrder, **forms) -> dict:
    order = shop_order.order
    lines = list(shop_order.lines.order_by("pk"))
    events = list(
        OrderEvent.objects.filter(
            Q(order=order, shop_order__isnull=True) | Q(shop_order=shop_order)
        ).order_by("created_at", "pk")
    )
    paperwork_events = [
        e
        for e in events
        if e.kind
        in (
            OrderEvent.Kind.PAPERWORK_QUEUED,
            OrderEvent.Kind.PAPERWORK_READY,
            OrderEvent.Kind.PAPERWORK_FAILED,
            OrderEvent.Kind.HELD,
            OrderEvent.Kind.RELEASED,
        )
    ]
    is_owner = shop_order.shop.membership.role == "owner"
    transitions = shop_order.available_transitions(request.user)
    return {
        "shop": shop_order.shop,
        "shop_order": shop_order,
        "order": order,
        "lines": lines,
        "events": events,
        "paperwork_events": paperwork_events,
        "paperwork": customs_bridge.paperwork_state(declaration_id=shop_order.declaration_id),
        "documents": customs_bridge.documents(declaration_id=shop_order.declaration_id),
        "is_owner": is_owner,
        "transitions": transitions,
        "ship_form": forms.get("ship_form")
        or ShipForm(initial={"carrier": "post" if shop_order.service_level == "postal" else ""}),
        "cancel_form": forms.get("cancel_form") or ReasonForm(),
        "category_form": _category_form(shop_order),
        "quote": (shop_order.quote or {}).get("quote", {}),
    }


def _category_form(shop_order: ShopOrder):
    current = customs_bridge.declaration_category(declaration_id=shop_order.declaration_id)
    if current is None:
        return None
    return CategoryForm(initial={"category": current[0], "explanation": current[1]})


@login_required
@require_GET
def seller_order_detail(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    return render(
        request, "orders/seller/order_detail.html", _seller_detail_context(request, shop_order)
    )


@login_required
@require_POST
def seller_order_ship(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    form = ShipForm(request.POST)
    if form.is_valid():
        try:
            fulfilment.ship_shop_order(
                shop_order=shop_order,
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Marked as shipped. The buyer has the tracking number."))
            return redirect("orders:seller-order-detail", slug=slug, number=number)
    context = _seller_detail_context(request, shop_order, ship_form=form)
    return render(request, "orders/seller/order_detail.html", context)


@login_required
@require_POST
def seller_order_deliver(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    try:
        fulfilment.mark_delivered(shop_order=shop_order, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Marked as delivered."))
    return redirect("orders:seller-order-detail", slug=slug, number=number)


@login_required
@require_POST
def seller_order_cancel(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number, owner=True)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            refunds.cancel_shop_order(
                shop_order=shop_order,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Cancelled. The buyer is refunded and notified."))
            return redirect("orders:seller-order-detail", slug=slug, number=number)
    context = _seller_detail_context(request, shop_order, cancel_form=form)
    return render(request, "orders/seller/order_detail.html", context)


@login_required
def seller_order_refund(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number, owner=True)
    lines = [line for line in shop_order.lines.order_by("pk") if line.quantity_open]
    form = RefundForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            refund = refunds.refund_shop_order(
                shop_order=shop_order,
                lines=form.quantities(),
                include_shipping=form.cleaned_data["include_shipping"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Refunded %(amount)s %(currency)s to the buyer.")
                % {"amount": refund.amount, "currency": refund.currency},
            )
            return redirect("orders:seller-order-detail", slug=slug, number=number)
    return render(
        request,
        "orders/seller/refund.html",
        {
            "shop": shop_order.shop,
            "shop_order": shop_order,
            "order": shop_order.order,
            "form": form,
        },
    )


@login_required
@require_POST
def seller_declaration_category(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    form = CategoryForm(request.POST)
    if shop_order.declaration_id is None or not shop_order.before_shipment:
        messages.error(request, _("The category can change only before the parcel ships."))
    elif not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    else:
        try:
            changed = customs_bridge.set_category(
                declaration_id=shop_order.declaration_id,
                category=form.cleaned_data["category"],
                explanation=form.cleaned_data["explanation"],
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if changed:
                messages.success(request, _("Category saved: the documents are made again."))
    return redirect("orders:seller-order-detail", slug=slug, number=number)


@login_required
@require_POST
def seller_paperwork_retry(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    try:
        paperwork.retry_paperwork(shop_order=shop_order, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The paperwork is being made again."))
    return redirect("orders:seller-order-detail", slug=slug, number=number)


@login_required
@require_GET
def seller_document(request: HttpRequest, slug: str, number: str, pk: int) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    document = customs_bridge.document(declaration_id=shop_order.declaration_id, pk=pk)
    if document is None:
        raise Http404("No such document.")
    return file_response(document)


@login_required
@require_GET
def seller_balance(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    entries = (
        LedgerEntry.objects.filter(shop=shop)
        .select_related("shop_order__order", "payout")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    months = []
    year, month = today.year, today.month
    for _i in range(12):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return render(
        request,
        "orders/seller/balance.html",
        {
            "shop": shop,
            "balance": ledger.balance(shop),
            "page": page,
            "months": months,
            "payouts": shop.payouts.order_by("-paid_on", "-pk")[:10],
        },
    )


@login_required
@require_GET
def seller_statement(request: HttpRequest, slug: str, year: int, month: int) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise Http404("No such month.")
    body = ledger.monthly_statement_csv(shop=shop, year=year, month=month)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{shop.slug}-statement-{year}-{month:02d}.csv"'
    )
    return response
