"""Cart, checkout and order pages for buyers; order, paperwork and balance pages for sellers.

Views are thin: resolve what the request may touch (``access``), validate a form, call one
service, turn a ``DomainError`` into a message, redirect.
"""

from __future__ import annotations

import logging
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from accounts.access import shop_for_member
from marketplace.core.errors import DomainError
from marketplace.listings import buyer as catalog_buyer
from marketplace.listings.models import Variant
from marketplace.orders import cart as carts
from marketplace.orders import customs_bridge, ledger, services
from marketplace.orders.access import order_for_buyer, shop_order_for_member
from marketplace.orders.checkout import place_order, price_cart
from marketplace.orders.dashboard import SESSION_CART_KEY
from marketplace.orders.forms import (
    AddressChoiceForm,
    AddToCartForm,
    DestinationForm,
    PlaceOrderForm,
    QuantityForm,
    ReasonForm,
    RefundForm,
    ShipForm,
)
from marketplace.orders.models import (
    Cart,
    CartItem,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    ShopOrder,
)
from marketplace.orders.payments import service as payments
from marketplace.orders.payments.banktransfer import bank_details
from marketplace.orders.payments.base import InvalidSignature, ProviderError
from marketplace.orders.payments.testprovider import TEST_CARDS

logger = logging.getLogger(__name__)


# --- Helpers -----------------------------------------------------------------------------------


def current_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The signed-in user's open cart, or the visitor's session cart."""
    now = timezone.now()
    if request.user.is_authenticated:
        return carts.open_cart_for_user(user=request.user, create=create, now=now)
    cart = carts.anonymous_cart(token=request.session.get(SESSION_CART_KEY))
    if cart is None and create:
        cart = Cart.objects.create(created_at=now, updated_at=now)
        request.session[SESSION_CART_KEY] = str(cart.token)
    return cart


def _next_or(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _destination(request: HttpRequest, cart: Cart | None) -> str:
    if cart is not None and cart.destination_country:
        return cart.destination_country.code
    return catalog_buyer.buyer_country(request)


# --- Cart --------------------------------------------------------------------------------------


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    destination = _destination(request, cart)
    contents = carts.read_cart(cart, destination=destination) if cart else None
    return render(
        request,
        "orders/cart.html",
        {
            "cart": cart,
            "contents": contents,
            "destination": destination,
            "destination_form": DestinationForm(initial={"country": destination}),
        },
    )


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    back = _next_or(request, reverse("orders:cart"))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(back)
    variant = get_object_or_404(
        Variant.objects.select_related("listing", "listing__shop"), pk=form.cleaned_data["variant"]
    )
    if not variant.listing.is_public:
        raise Http404("No such item.")
    cart = current_cart(request, create=True)
    try:
        carts.add_to_cart(
            cart=cart,
            variant=variant,
            quantity=form.cleaned_data["quantity"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if not cart.destination_country:
        country = catalog_buyer.buyer_country(request)
        if country:
            carts.set_destination(cart=cart, country=country, now=timezone.now())
    messages.success(request, _("“%(title)s” is in your cart.") % {"title": variant.listing.title})
    return redirect(reverse("orders:cart"))


def _cart_item(request: HttpRequest, pk: int) -> tuple[Cart, CartItem]:
    cart = current_cart(request)
    if cart is None:
        raise Http404("No cart.")
    return cart, get_object_or_404(CartItem, pk=pk, cart=cart)


@require_POST
def cart_update(request: HttpRequest, pk: int) -> HttpResponse:
    cart, item = _cart_item(request, pk)
    form = QuantityForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("orders:cart")
    try:
        carts.set_quantity(
            cart=cart, item=item, quantity=form.cleaned_data["quantity"], now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("orders:cart")


@require_POST
def cart_remove(request: HttpRequest, pk: int) -> HttpResponse:
    cart, item = _cart_item(request, pk)
    carts.remove_item(cart=cart, item=item, now=timezone.now())
    messages.success(request, _("Removed from your cart."))
    return redirect("orders:cart")


@require_POST
def cart_destination(request: HttpRequest) -> HttpResponse:
    form = DestinationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Ship to: choose a country from the list."))
        return redirect("orders:cart")
    cart = current_cart(request, create=True)
    carts.set_destination(cart=cart, country=form.cleaned_data["country"], now=timezone.now())
    return redirect("orders:cart")


# --- Checkout ----------------------------------------------------------------------------------


def _checkout_context(request: HttpRequest, cart: Cart, form: PlaceOrderForm | None = None):
    addresses = list(request.user.addresses.all())
    address = None
    if cart.shipping_address_id:
        address = next((a for a in addresses if a.pk == cart.shipping_address_id), None)
    if address is None and addresses:
        address = next((a for a in addresses if a.is_default_shipping), addresses[0])
    currency = catalog_buyer.display_currency(request)
    price = price_cart(
        cart, currency=currency, address=address, on=timezone.now().date(), buyer=request.user
    )
    if form is None:
        form = PlaceOrderForm(
            initial={"checkout_token": cart.checkout_token, "expected_total": price.total}
        )
    return {
        "cart": cart,
        "addresses": addresses,
        "address": address,
        "address_form": AddressChoiceForm(user=request.user, initial={"address": address}),
        "price": price,
        "currency": currency,
        "form": form,
        "test_cards": TEST_CARDS,
        "pending_orders": request.user.orders.filter(status=Order.Status.PENDING_PAYMENT)[:3],
    }


@login_required
@require_GET
def checkout(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    if cart is None or not cart.items.exists():
        messages.info(request, _("Your cart is empty."))
        return redirect("orders:cart")
    return render(request, "orders/checkout.html", _checkout_context(request, cart))


@login_required
@require_POST
def checkout_address(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    if cart is None:
        return redirect("orders:cart")
    form = AddressChoiceForm(request.POST, user=request.user)
    if form.is_valid():
        carts.set_shipping_address(
            cart=cart, address=form.cleaned_data["address"], now=timezone.now()
        )
    else:
        messages.error(request, _("Ship to: choose one of your addresses."))
    return redirect("orders:checkout")


@login_required
@require_POST
def checkout_shipping(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    if cart is None:
        return redirect("orders:cart")
    shops = {item.variant.shop for item in cart.items.select_related("variant__shop")}
    for shop in sorted(shops, key=lambda s: s.pk):
        level = request.POST.get(f"shipping-{shop.pk}")
        if level in ("postal", "courier"):
            carts.choose_shipping(cart=cart, shop=shop, service_level=level, now=timezone.now())
    return redirect("orders:checkout")


@login_required
@require_POST
def checkout_place(request: HttpRequest) -> HttpResponse:
    cart = current_cart(request)
    if cart is None:
        return redirect("orders:cart")
    form = PlaceOrderForm(request.POST)
    if not form.is_valid():
        context = _checkout_context(request, cart, form=form)
        return render(request, "orders/checkout.html", context)
    context_address = cart.shipping_address
    if context_address is None:
        context_address = request.user.addresses.filter(is_default_shipping=True).first()
    if context_address is None:
        messages.error(request, _("Ship to: add an address first."))
        return redirect("orders:checkout")
    now = timezone.now()
    try:
        order, _created = place_order(
            buyer=request.user,
            cart=cart,
            checkout_token=form.cleaned_data["checkout_token"],
            address=context_address,
            currency=catalog_buyer.display_currency(request),
            payment_method=form.cleaned_data["method"],
            expected_total=form.cleaned_data["expected_total"],
            now=now,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("orders:checkout")
    outcome = payments.start_payment(order=order, details=form.payment_details(), now=now)
    return _after_payment(request, order, outcome)


def _after_payment(request: HttpRequest, order: Order, outcome) -> HttpResponse:
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


# --- Buyer orders ------------------------------------------------------------------------------


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = (
        request.user.orders.exclude(status=Order.Status.PAYMENT_FAILED)
        .prefetch_related(
            Prefetch(
                "shop_orders", queryset=ShopOrder.objects.select_related("shop").order_by("pk")
            )
        )
        .order_by("-created_at", "-pk")
    )
    page = Paginator(orders, 20).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page})


BUYER_EVENT_KINDS = (
    OrderEvent.Kind.PLACED,
    OrderEvent.Kind.PAID,
    OrderEvent.Kind.PAYMENT_FAILED,
    OrderEvent.Kind.SHIPPED,
    OrderEvent.Kind.DELIVERED,
    OrderEvent.Kind.CANCELLED,
    OrderEvent.Kind.EXPIRED,
    OrderEvent.Kind.REFUNDED,
)


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = order_for_buyer(request, number)
    shop_orders = list(
        order.shop_orders.select_related("shop")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
        .order_by("pk")
    )
    for shop_order in shop_orders:
        shop_order.buyer_documents = customs_bridge.documents(
            declaration_id=shop_order.declaration_id, kinds=customs_bridge.BUYER_DOCUMENT_KINDS
        )
    payment = order.payments.order_by("-pk").first()
    cancellable = order.status in (
        Order.Status.PENDING_PAYMENT,
        Order.Status.PAID,
        Order.Status.PAPERWORK_READY,
    ) and all(so.before_shipment or not so.is_live for so in shop_orders)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "shop_orders": shop_orders,
            "payment": payment,
            "bank": bank_details() if order.payment_method == "bank_transfer" else None,
            "events": order.events.filter(kind__in=BUYER_EVENT_KINDS).select_related(
                "shop_order__shop"
            ),
            "cancellable": cancellable,
            "cancel_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    order = order_for_buyer(request, number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Reason: say why you cancel, the shops read it."))
        return redirect(order.get_absolute_url())
    try:
        services.cancel_order(
            order=order, actor=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your order is cancelled. Anything paid is refunded."))
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
    return _after_payment(request, order, outcome)


@login_required
@require_GET
def order_document(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """A document the buyer may see (the commercial invoice) of one of their parcels."""
    order = order_for_buyer(request, number)
    for shop_order in order.shop_orders.exclude(declaration_id=None):
        document = customs_bridge.document(
            declaration_id=shop_order.declaration_id,
            pk=pk,
            kinds=customs_bridge.BUYER_DOCUMENT_KINDS,
        )
        if document is not None:
            return _file_response(document)
    raise Http404("No such document.")


def _file_response(document) -> HttpResponse:
    from django.http import FileResponse

    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=True,
        filename=document.filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


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
    if provider not in payments.PROVIDERS:
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
        "ship_form": forms.get("ship_form")
        or ShipForm(initial={"carrier": "post" if shop_order.service_level == "postal" else ""}),
        "cancel_form": forms.get("cancel_form") or ReasonForm(),
        "quote": (shop_order.quote or {}).get("quote", {}),
    }


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
            services.ship_shop_order(
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
        services.mark_delivered(shop_order=shop_order, actor=request.user, now=timezone.now())
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
            services.cancel_shop_order(
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
            refund = services.refund_shop_order(
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
def seller_paperwork_retry(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    shop_order = shop_order_for_member(request, slug, number)
    try:
        services.retry_paperwork(shop_order=shop_order, actor=request.user, now=timezone.now())
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
    return _file_response(document)


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
