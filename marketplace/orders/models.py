"""Orders: carts, orders with one consignment (``ShopOrder``) per shop, payments, the ledger.

An ``Order`` is what the buyer paid for once; each ``ShopOrder`` is one shop's parcel with its
own shipping, customs quote, paperwork and state machine. Lines snapshot what was sold (title,
SKU, customs data, price, weight): they never read the live listing again. Money is a
``Decimal`` beside an ISO 4217 code; presentment amounts (what the buyer pays) are in
``Order.currency``, seller amounts in the shop's currency.

Writes that cross rows live in the services (``cart``, ``checkout``, ``services``, ``ledger``,
``payments``); models hold single-row rules: the transition tables and ``check_transition``.
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.models import Address, Shop, User
from marketplace.core.addresses import PostalAddress, format_lines
from marketplace.core.fields import MoneyField
from marketplace.core.state import StateMachine
from marketplace.listings.models import Variant

ZERO = Decimal("0")


def money_field(verbose_name: str = "", **kwargs) -> MoneyField:
    """Amounts of any currency: 3 decimal places cover KWD/BHD; JPY stores ``.000``."""
    kwargs.setdefault("default", ZERO)
    return MoneyField(verbose_name, **kwargs)


def currency_field(verbose_name: str = "", **kwargs) -> models.CharField:
    return models.CharField(verbose_name or _("currency"), max_length=3, **kwargs)


# --- Cart --------------------------------------------------------------------------------------


def _new_token() -> uuid.UUID:
    return uuid.uuid4()


class Cart(models.Model):
    """A buyer's basket across shops. Anonymous carts are found by ``token`` in the session.

    ``checkout_token`` changes whenever the contents or choices change: the checkout page
    carries it, so a stale page cannot place an order for a cart that is no longer what the
    buyer reviewed, and the same submit twice finds the order it already made.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged into an account cart")

    token = models.UUIDField(default=_new_token, unique=True, editable=False)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="carts"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    checkout_token = models.UUIDField(default=_new_token, unique=True)
    # Where the buyer wants the goods (anonymous visitors pick a country only).
    destination_country = CountryField(_("ship to"), blank=True)
    shipping_address = models.ForeignKey(
        Address, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # {"<shop id>": "postal" | "courier"}: the service the buyer chose per shop.
    shipping_choices = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="open", user__isnull=False),
                name="one_open_cart_per_user",
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"cart {self.pk} ({self.user or 'anonymous'})"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="one_row_per_variant_in_cart"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_quantity_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"


# --- Orders ------------------------------------------------------------------------------------


def _order_number() -> str:
    # Not the pk: numbers appear in URLs and emails and must not reveal volumes or invite
    # probing. 40 bits of randomness in Crockford base32, e.g. "TP-7KQ2M9XD".
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "TP-" + "".join(secrets.choice(alphabet) for _ in range(8))


# Public name for services that need the number before the row exists (screening).
new_order_number = _order_number


class Order(StateMachine, models.Model):
    """What the buyer paid for, once, across shops. Status rolls up from the shop orders."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        PAPERWORK_READY = "paperwork_ready", _("Preparing shipment")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired (not paid in time)")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        REFUNDED = "refunded", _("Refunded")

    S = Status
    # The order's status machine; every move is a compare-and-swap in ``services``.
    TRANSITIONS: dict[str, set[str]] = {
        S.PENDING_PAYMENT: {S.PAID, S.CANCELLED, S.EXPIRED, S.PAYMENT_FAILED},
        S.PAID: {S.PAPERWORK_READY, S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REFUNDED},
        S.PAPERWORK_READY: {S.SHIPPED, S.DELIVERED, S.CANCELLED, S.REFUNDED},
        S.SHIPPED: {S.DELIVERED, S.REFUNDED},
        S.DELIVERED: {S.REFUNDED},
        S.CANCELLED: set(),
        S.EXPIRED: set(),
        S.PAYMENT_FAILED: set(),
        S.REFUNDED: set(),
    }
    ILLEGAL_TRANSITION = _("An order that is “%(old)s” cannot become “%(new)s”.")

    number = models.CharField(max_length=16, unique=True, default=_order_number, editable=False)
    buyer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="orders")
    # The cart it came from: what was ordered leaves the cart once the order is confirmed.
    cart = models.ForeignKey(
        Cart, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    # The cart's checkout token: the same checkout submitted twice finds this order.
    checkout_token = models.UUIDField(unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    currency = currency_field(_("presentment currency"))
    # Totals snapshot in ``currency``: each is the exact sum of the shop orders' amounts.
    goods_total = money_field(_("goods"))
    shipping_total = money_field(_("shipping"))
    duty_total = money_field(_("duty collected"))
    tax_total = money_field(_("import tax collected"))
    fees_total = money_field(_("customs fees collected"))
    total = money_field(_("total"))
    # Duty and tax the buyer will pay the carrier on delivery (DAP consignments): shown,
    # never charged by us.
    due_on_delivery = money_field(_("estimated due on delivery"))
    amount_refunded = money_field(_("refunded"))
    fx_date = models.DateField(_("exchange rates of"), null=True, blank=True)
    fx_source = models.CharField(_("exchange rate source"), max_length=30, blank=True)

    buyer_email = models.EmailField()
    buyer_language = models.CharField(max_length=10, default="en")
    # The shipping address as it was when the order was placed (the address book may change).
    ship_name = models.CharField(max_length=150)
    ship_company = models.CharField(max_length=150, blank=True)
    ship_line1 = models.CharField(max_length=200)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postcode = models.CharField(max_length=20, blank=True)
    ship_country = CountryField()
    ship_phone = models.CharField(max_length=40, blank=True)
    ship_latin = models.CharField(max_length=300, blank=True)
    ship_tax_reference = models.CharField(max_length=40, blank=True)

    payment_method = models.CharField(max_length=20)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Order operations in the admin: each its own permission, "change" is never granted
        # on these financial records.
        permissions = [
            ("confirm_payment", "Can confirm a bank transfer was received"),
            ("cancel_order", "Can cancel orders and parcels"),
            ("expire_order", "Can expire unpaid orders"),
            ("refund_order", "Can refund parcels"),
            ("release_hold", "Can release a screening hold"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-created_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("total")),
                name="order_refund_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:order-detail", kwargs={"number": self.number})

    def cancel_refusal(self, shop_orders: list[ShopOrder]) -> str:
        """Why the buyer cannot cancel the order now ("" when they can): nothing may have
        shipped and something must still be open."""
        if any(not so.before_shipment and so.is_live for so in shop_orders):
            return str(
                _(
                    "Part of this order has shipped: it can no longer be cancelled. "
                    "Ask the shop for a refund instead."
                )
            )
        if not any(so.is_live for so in shop_orders):
            return str(_("This order is already closed."))
        return ""

    def available_transitions(self, user=None, *, shop_orders=None) -> list[str]:
        """What ``user`` may do with the order now: "cancel" (its buyer only)."""
        if user is None or user.pk != self.buyer_id:
            return []
        if shop_orders is None:
            shop_orders = list(self.shop_orders.all())
        return [] if self.cancel_refusal(shop_orders) else ["cancel"]

    def ship_to(self) -> PostalAddress:
        return PostalAddress(
            country=self.ship_country.code,
            name=self.ship_name,
            company=self.ship_company,
            lines=tuple(x for x in (self.ship_line1, self.ship_line2) if x),
            city=self.ship_city,
            region=self.ship_region,
            postcode=self.ship_postcode,
            phone=self.ship_phone,
            latin=self.ship_latin,
        )

    def address_lines(self) -> list[str]:
        """The shipping address as its country writes it (marketplace.core.addresses)."""
        return format_lines(self.ship_to())


class ShopOrder(StateMachine, models.Model):
    """One shop's part of an order: the consignment, with its own parcel and paperwork."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        PAPERWORK_READY = "paperwork_ready", _("Ready to ship")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    S = Status
    TRANSITIONS: dict[str, set[str]] = {
        S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
        # paid -> shipped is for domestic parcels, which need no customs paperwork.
        S.PAID: {S.PAPERWORK_READY, S.SHIPPED, S.CANCELLED},
        S.PAPERWORK_READY: {S.SHIPPED, S.CANCELLED},
        S.SHIPPED: {S.DELIVERED, S.REFUNDED},
        S.DELIVERED: {S.REFUNDED},
        S.CANCELLED: set(),
        S.REFUNDED: set(),
    }
    ILLEGAL_TRANSITION = _("A parcel that is “%(old)s” cannot become “%(new)s”.")
    # How far a live consignment has come; the order shows the least advanced one.
    PROGRESS = [S.PENDING_PAYMENT, S.PAID, S.PAPERWORK_READY, S.SHIPPED, S.DELIVERED]
    BEFORE_SHIPMENT = (S.PENDING_PAYMENT, S.PAID, S.PAPERWORK_READY)

    class Paperwork(models.TextChoices):
        NOT_NEEDED = "not_needed", _("Not needed (domestic)")
        WAITING = "waiting", _("Waiting for payment")
        HELD = "held", _("On hold for review")
        QUEUED = "queued", _("Queued")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Carrier(models.TextChoices):
        POST = "post", _("National post (UPU tracking number)")
        DHL = "dhl", _("DHL Express")
        UPS = "ups", _("UPS")
        FEDEX = "fedex", _("FedEx")
        OTHER = "other", _("Other courier")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shop_orders")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="shop_orders")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT)
    # Seller amounts, in the shop's currency (what the ledger books).
    shop_currency = currency_field(_("shop currency"))
    goods_shop = money_field(_("goods (shop currency)"))
    shipping_shop = money_field(_("shipping (shop currency)"))
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    # Presentment amounts (order currency), each rounded once; total is their exact sum.
    fx_rate = models.DecimalField(
        _("shop currency -> order currency"), max_digits=20, decimal_places=10
    )
    goods = money_field(_("goods"))
    shipping = money_field(_("shipping"))
    duty = money_field(_("duty collected"))
    tax = money_field(_("import tax collected"))
    fees = money_field(_("customs fees collected"))
    total = money_field(_("total"))
    due_on_delivery = money_field(_("estimated due on delivery"))
    amount_refunded = money_field(_("refunded"))
    amount_refunded_shop = money_field(_("refunded (shop currency)"))

    # Shipping choice, frozen.
    service_level = models.CharField(max_length=10)
    service_label = models.CharField(max_length=50)
    delivery_min_days = models.PositiveSmallIntegerField(default=0)
    delivery_max_days = models.PositiveSmallIntegerField(default=0)

    # The customs quote, frozen: the full breakdown the buyer saw is in ``quote``.
    international = models.BooleanField(default=True)
    customs_quote_id = models.BigIntegerField(null=True, blank=True)
    incoterm = models.CharField(max_length=3, blank=True)
    customs_form = models.CharField(max_length=4, blank=True)
    customs_currency = currency_field(_("customs currency"), blank=True)
    duty_customs = money_field(_("duty (customs currency)"))
    tax_customs = money_field(_("import tax (customs currency)"))
    fees_customs = money_field(_("fees (customs currency)"))
    collected_at_checkout = models.BooleanField(default=False)
    quote = models.JSONField(default=dict, blank=True)

    # Fulfilment.
    paperwork_status = models.CharField(
        max_length=12, choices=Paperwork.choices, default=Paperwork.WAITING
    )
    paperwork_error = models.TextField(blank=True)
    paperwork_requested_at = models.DateTimeField(null=True, blank=True)
    paperwork_attempts = models.PositiveSmallIntegerField(default=0)
    declaration_id = models.BigIntegerField(null=True, blank=True)
    hold_reason = models.TextField(blank=True)
    held_at = models.DateTimeField(null=True, blank=True)
    carrier = models.CharField(max_length=10, choices=Carrier.choices, blank=True)
    tracking_number = models.CharField(max_length=40, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            # One consignment per shop per order: a double submit cannot split a shop.
            models.UniqueConstraint(fields=["order", "shop"], name="one_shop_order_per_shop"),
            models.CheckConstraint(condition=Q(total__gte=0), name="shop_order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("total")),
                name="shop_order_refund_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"]),
            models.Index(fields=["paperwork_status", "paperwork_requested_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.shop.slug}" if self.order_id else "shop order"

    @property
    def reference(self) -> str:
        """The consignment's number on paperwork and in the seller's pages."""
        return f"{self.order.number}-{self.shop_id}"

    @property
    def is_live(self) -> bool:
        return self.status not in (self.Status.CANCELLED, self.Status.REFUNDED)

    @property
    def before_shipment(self) -> bool:
        return self.status in self.BEFORE_SHIPMENT

    @property
    def refundable(self) -> Decimal:
        return self.total - self.amount_refunded

    # --- What can happen next (``StateMachine``): the service refuses exactly what the
    # seller's page does not offer.

    def ship_refusal(self) -> str:
        """Why the parcel cannot ship now, or "" when it can."""
        if self.held_at:
            return str(_("This parcel is on hold for review and cannot ship yet."))
        if self.status == self.Status.PAID and self.international:
            return str(
                _("The customs paperwork is not ready yet: ship once the CN22/CN23 is ready.")
            )
        if not self.can_become(self.Status.SHIPPED):
            return str(
                _("A parcel that is “%(status)s” cannot be shipped.")
                % {"status": self.get_status_display()}
            )
        return ""

    def available_transitions(self, user=None) -> list[str]:
        """What the seller ``user`` may do with the parcel now: any of "ship", "deliver",
        "retry_paperwork" (members), "cancel" and "refund" (owners)."""
        S = self.Status
        actions = []
        if not self.ship_refusal():
            actions.append("ship")
        if self.can_become(S.DELIVERED):
            actions.append("deliver")
        if (
            self.paperwork_status == self.Paperwork.FAILED
            and not self.held_at
            and self.status in (S.PAID, S.PAPERWORK_READY)
        ):
            actions.append("retry_paperwork")
        if self._owned_by(user):
            if self.before_shipment and self.status != S.PENDING_PAYMENT:
                actions.append("cancel")
            if self.status in (S.PAID, S.PAPERWORK_READY, S.SHIPPED, S.DELIVERED):
                actions.append("refund")
        return actions

    def _owned_by(self, user) -> bool:
        if user is None or not user.is_authenticated:
            return False
        # The access helper (``shop_for_member``) leaves the member's row on the shop.
        membership = getattr(self.shop, "membership", None)
        if membership is not None and membership.user_id == user.pk:
            return membership.role == "owner"
        return self.shop.memberships.filter(user=user, role="owner").exists()

    @property
    def paperwork_queued(self) -> bool:
        return self.paperwork_status == self.Paperwork.QUEUED

    @property
    def paperwork_failed(self) -> bool:
        return self.paperwork_status == self.Paperwork.FAILED

    @property
    def gross_shop(self) -> Decimal:
        """What the seller sells this parcel for: goods + shipping, in the shop's currency."""
        return self.goods_shop + self.shipping_shop

    def tracking_url(self) -> str:
        """A public tracking page for the number (universal trackers for postal items)."""
        if not self.tracking_number:
            return ""
        number = self.tracking_number
        return {
            self.Carrier.POST: f"https://parcelsapp.com/en/tracking/{number}",
            self.Carrier.DHL: f"https://www.dhl.com/track?tracking-id={number}",
            self.Carrier.UPS: f"https://www.ups.com/track?tracknum={number}",
            self.Carrier.FEDEX: f"https://www.fedex.com/fedextrack/?trknbr={number}",
        }.get(self.carrier, "")


class OrderLine(models.Model):
    """A snapshot of what was sold: paperwork and refunds never read the live listing."""

    shop_order = models.ForeignKey(ShopOrder, on_delete=models.PROTECT, related_name="lines")
    # PROTECT: a variant that was sold cannot be deleted (the catalog offers stock 0 instead).
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="order_lines")
    title = models.CharField(max_length=140)
    options_label = models.CharField(max_length=200, blank=True)
    sku = models.CharField(max_length=64)
    hs_code = models.CharField(max_length=10, blank=True)
    customs_description = models.CharField(max_length=200, blank=True)
    origin_country = CountryField(blank=True)
    material = models.CharField(max_length=100, blank=True)
    net_weight_kg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    quantity = models.PositiveIntegerField()
    quantity_refunded = models.PositiveIntegerField(default=0)
    unit_price = money_field(_("unit price (shop currency)"))
    line_total = money_field(_("line total (shop currency)"))
    line_total_presentment = money_field(_("line total (order currency)"))

    class Meta:
        ordering = ["shop_order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_gte_1"),
            models.CheckConstraint(
                condition=Q(quantity_refunded__lte=models.F("quantity")),
                name="order_line_refund_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_refunded


class OrderEvent(models.Model):
    """The audit trail: one row per transition or action, with actor and time.

    Events that tell people something (``NOTIFYING``) are also the notification outbox: a
    task sends them after commit, and a sweeper finds those a broker outage left unsent.
    """

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        PAYMENT_AUTHORIZED = "payment_authorized", _("Payment authorised")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        PAID = "paid", _("Paid")
        PAPERWORK_QUEUED = "paperwork_queued", _("Paperwork queued")
        PAPERWORK_READY = "paperwork_ready", _("Paperwork ready")
        PAPERWORK_FAILED = "paperwork_failed", _("Paperwork failed")
        HELD = "held", _("Put on hold (screening)")
        RELEASED = "released", _("Hold released")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")
        REFUNDED = "refunded", _("Refunded")
        STATUS = "status", _("Status changed")

    NOTIFYING = {
        Kind.PLACED,
        Kind.PAID,
        Kind.PAPERWORK_READY,
        Kind.PAPERWORK_FAILED,
        Kind.HELD,
        Kind.SHIPPED,
        Kind.CANCELLED,
        Kind.EXPIRED,
        Kind.REFUNDED,
    }

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    shop_order = models.ForeignKey(
        ShopOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted, as text, kept when the user is erased: "buyer", "system", an email...
    actor_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["notified_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.order_id})"

    @property
    def to_status_label(self) -> str:
        labels = dict(ShopOrder.Status.choices if self.shop_order_id else Order.Status.choices)
        return str(labels.get(self.to_status, self.to_status))


# --- Payments ----------------------------------------------------------------------------------


class Payment(StateMachine, models.Model):
    """One payment for an order through a provider; every provider call carries a key."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REQUIRES_ACTION = "requires_action", _("Waiting for the buyer to authenticate")
        AUTHORIZED = "authorized", _("Authorised")
        CAPTURED = "captured", _("Captured")
        FAILED = "failed", _("Failed")
        VOIDED = "voided", _("Voided")
        REFUNDED = "refunded", _("Refunded")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")

    S = Status
    TRANSITIONS: dict[str, set[str]] = {
        S.PENDING: {S.REQUIRES_ACTION, S.AUTHORIZED, S.CAPTURED, S.FAILED, S.VOIDED},
        S.REQUIRES_ACTION: {S.AUTHORIZED, S.CAPTURED, S.FAILED, S.VOIDED},
        S.AUTHORIZED: {S.CAPTURED, S.VOIDED, S.FAILED},
        S.CAPTURED: {S.REFUNDED, S.PARTIALLY_REFUNDED},
        S.PARTIALLY_REFUNDED: {S.REFUNDED, S.PARTIALLY_REFUNDED},
        S.FAILED: set(),
        S.VOIDED: set(),
        S.REFUNDED: set(),
    }
    ILLEGAL_TRANSITION = _("A payment that is “%(old)s” cannot become “%(new)s”.")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount = money_field(_("amount"))
    currency = currency_field()
    amount_refunded = money_field(_("refunded"))
    # Sent with the authorisation; the provider answers a repeated key with the first result.
    idempotency_key = models.CharField(max_length=80)
    provider_reference = models.CharField(max_length=80, null=True, blank=True)
    # Where the buyer completes a second step (3-D Secure), when the provider asks for one.
    action_url = models.CharField(max_length=300, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.TextField(blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    authorized_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "idempotency_key"], name="payment_idempotency_key_unique"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=Q(provider_reference__isnull=False),
                name="payment_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"

    @property
    def is_settled(self) -> bool:
        return self.status in (self.S.CAPTURED, self.S.PARTIALLY_REFUNDED, self.S.REFUNDED)


class WebhookEvent(models.Model):
    """A provider event as received. The unique constraint makes a replay a no-op."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=80)
    event_type = models.CharField(max_length=60)
    reference = models.CharField(max_length=80, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="webhook_event_once_per_provider"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.event_type}"


class Refund(models.Model):
    """Money given back for (part of) one shop order, with the lines restocked."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    shop_order = models.ForeignKey(ShopOrder, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    amount = money_field(_("amount (order currency)"))
    currency = currency_field()
    amount_shop = money_field(_("amount (shop currency)"))
    commission_returned = money_field(_("commission returned (shop currency)"))
    # {"<line id>": quantity}: what goes back into stock.
    lines = models.JSONField(default=dict, blank=True)
    includes_shipping = models.BooleanField(default=False)
    reason = models.TextField()
    idempotency_key = models.CharField(max_length=80, unique=True)
    provider_reference = models.CharField(max_length=80, blank=True)
    failure_message = models.TextField(blank=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Written while pending, applied when the provider confirms: the last refund of the
    # parcel (returns all remaining commission), and how it closes the parcel.
    CLOSES_CANCEL = "cancel"  # a cancellation (with its own "cancelled" event)
    CLOSES_CANCELLED = "cancelled"  # everything refunded before shipment
    CLOSES_REFUNDED = "refunded"  # everything refunded after shipment
    final = models.BooleanField(default=False)
    closes_as = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount} {self.currency} of {self.shop_order_id}"


class TestProviderCharge(models.Model):
    """The test payment provider's own records: what its "server" knows about a charge.

    Kept apart from ``Payment`` on purpose, so the provider behaves like a remote one: it
    answers a repeated idempotency key with the first result, refuses the same key with a
    different amount, and only ever reports what it stored.
    """

    __test__ = False  # not a pytest test class, despite its name

    reference = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    amount = money_field()
    currency = currency_field()
    card_last4 = models.CharField(max_length=4)
    status = models.CharField(max_length=20)
    captured = money_field()
    refunded = money_field()
    decline_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The answers the provider gave, by idempotency key: {"capture:<key>": {...}}.
    operations = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "test provider charge"

    def __str__(self) -> str:
        return self.reference


# --- Ledger ------------------------------------------------------------------------------------


class PayoutAccount(models.Model):
    """Where a shop's money goes: a Stripe Connect account, or (where Connect does not reach
    the seller's country) a bank account or mobile-money wallet paid through a batch file."""

    class Method(models.TextChoices):
        STRIPE_CONNECT = "stripe_connect", _("Stripe")
        BANK_ACCOUNT = "bank_account", _("Bank account")
        MOBILE_MONEY = "mobile_money", _("Mobile money")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the shop to finish onboarding")
        ENABLED = "enabled", _("Enabled")
        RESTRICTED = "restricted", _("Restricted")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="payout_account")
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # The provider's reason when restricted (Stripe's requirements.disabled_reason).
    status_reason = models.CharField(max_length=300, blank=True)
    stripe_account_id = models.CharField(max_length=40, blank=True)
    country = CountryField(blank=True)
    holder_name = models.CharField(max_length=150, blank=True)
    iban = models.CharField(max_length=40, blank=True)
    account_number = models.CharField(max_length=40, blank=True)
    swift = models.CharField(max_length=11, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.shop_id} ({self.status})"


class Payout(models.Model):
    """Money sent to a shop: recorded by an admin (manual), a Stripe transfer, or a line of
    a payout batch file. Automatic payouts are written ``created`` before the provider is
    called; the ledger entry is booked only once the money has gone."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        SENT = "sent", _("Sent")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="payouts")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=3)
    currency = currency_field()
    reference = models.CharField(
        _("bank reference"), max_length=80, help_text=_("As on the bank transfer.")
    )
    note = models.TextField(_("note"), blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PAID)
    method = models.CharField(max_length=20, default="manual")
    # The provider's id of the money movement (Stripe transfer "tr_...").
    provider_reference = models.CharField(max_length=80, blank=True)
    failure_message = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    batch = models.ForeignKey(
        "PayoutBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("confirm_payout", "Can confirm payout batch lines")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_gt_0"),
            models.UniqueConstraint(fields=["shop", "reference"], name="payout_reference_per_shop"),
            # One automatic payout in flight per shop and currency: the periodic task can run
            # twice (or on two beat processes) and still create only one.
            models.UniqueConstraint(
                fields=["shop", "currency"],
                condition=Q(status__in=["created", "sent"]),
                name="payout_one_open_per_shop_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.amount} {self.currency} to {self.shop_id}"


class PayoutBatch(models.Model):
    """A CSV file of bank / mobile-money payouts for a payout partner to import."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        SENT = "sent", _("Sent to the partner")
        CLOSED = "closed", _("Closed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "payout batches"

    def __str__(self) -> str:
        return f"payout batch {self.pk} ({self.status})"


class LedgerEntry(models.Model):
    """One movement of a shop's balance, in the shop's currency; never edited, only added.

    ``key`` makes every posting idempotent: the sale of shop order 12 is "sale:12" and can be
    booked once, however often the service runs.
    """

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        COMMISSION = "commission", _("Commission")
        REFUND = "refund", _("Refund")
        PAYOUT = "payout", _("Payout")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = currency_field()
    shop_order = models.ForeignKey(
        ShopOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    description = models.CharField(max_length=200)
    key = models.CharField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"
