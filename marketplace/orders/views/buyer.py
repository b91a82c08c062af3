"""Cart, checkout and order pages for buyers.

Views are thin: resolve what the request may touch (``access``), validate a form, call one
service, turn a ``DomainError`` into a message, redirect.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from marketplace.core.errors import DomainError
from marketplace.core.http import next_or
from marketplace.listings import buyer as catalog_buyer
from marketplace.listings.models import Variant
from marketplace.orders import cart as carts
from marketplace.orders import customs_bridge
from marketplace.orders.access import order_for_buyer
from marketplace.orders.checkout import price_cart
from marketplace.orders.dashboard import SESSION_CART_KEY
from marketplace.orders.forms import (
    AddressChoiceForm,
    AddToCartForm,
    DestinationForm,
    PlaceOrderForm,
    QuantityForm,
    ReasonForm,
)
from marketplace.orders.models import (
    Cart,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    ShopOrder,
)
from marketplace.orders.payments.banktransfer import bank_details
from marketplace.orders.payments.testprovider import TEST_CARDS
from marketplace.orders.services import checkout as checkout_service
from marketplace.orders.services import refunds
from marketplace.orders.views.common import file_response
from marketplace.orders.views.payments import after_payment

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
    back = next_or(request, reverse("orders:cart"))
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
    try:
        order, outcome = checkout_service.complete_checkout(
            buyer=request.user,
            cart=cart,
            checkout_token=form.cleaned_data["checkout_token"],
            currency=catalog_buyer.display_currency(request),
            payment_method=form.cleaned_data["method"],
            payment_details=form.payment_details(),
            expected_total=form.cleaned_data["expected_total"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("orders:checkout")
    return after_payment(request, order, outcome)


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
    cancellable = "cancel" in order.available_transitions(request.user, shop_orders=shop_orders)
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
        refunds.cancel_order(
            order=order, actor=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your order is cancelled. Anything paid is refunded."))
    return redirect(order.get_absolute_url())


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
            return file_response(document)
    raise Http404("No such document.")
