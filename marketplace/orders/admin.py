"""The order operations console: every record read-only, every change through a service.

Orders, payments, refunds, events and ledger entries are financial records: they cannot be
added, edited or deleted here (``has_delete_permission`` is False and the foreign keys
pointing at them PROTECT). Actions call the same services the sellers and buyers use.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone

from marketplace.core.admin_actions import action_with_reason
from marketplace.core.admin_permissions import requires
from marketplace.core.errors import DomainError
from marketplace.orders import ledger
from marketplace.orders.models import (
    Cart,
    CartItem,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Payout,
    Refund,
    ShopOrder,
    TestProviderCharge,
    WebhookEvent,
)
from marketplace.orders.payments import service as payments
from marketplace.orders.services import paperwork, payment_outcome, refunds


class ReadOnlyMixin:
    """A financial record: viewable, never added, changed or deleted from the admin.

    Actions on it check their own permission (``Order.Meta.permissions``), never "change".
    """

    has_confirm_payment_permission = requires("orders.confirm_payment")
    has_cancel_order_permission = requires("orders.cancel_order")
    has_expire_order_permission = requires("orders.expire_order")
    has_refund_order_permission = requires("orders.refund_order")
    has_release_hold_permission = requires("orders.release_hold")
    has_regenerate_paperwork_permission = requires("customs.regenerate_paperwork")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Staff view these records (Django's view permission); changes go through actions.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class ShopOrderInline(ReadOnlyInline):
    model = ShopOrder
    fields = ["shop", "status", "paperwork_status", "total", "incoterm", "tracking_number"]


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "title",
        "sku",
        "hs_code",
        "origin_country",
        "quantity",
        "quantity_refunded",
        "unit_price",
        "line_total",
        "net_weight_kg",
    ]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["provider", "status", "amount", "currency", "amount_refunded", "provider_reference"]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "status", "amount", "currency", "amount_shop", "reason", "actor"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fk_name = "order"
    fields = ["created_at", "kind", "shop_order", "from_status", "to_status", "actor_label", "note"]
    show_change_link = False


class ShopOrderEventInline(OrderEventInline):
    fk_name = "shop_order"


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


def _with_reason(modeladmin, request, queryset, *, title: str, apply):
    """Ask the reason the buyer will read, then ``apply(obj, reason)``."""
    return action_with_reason(
        modeladmin,
        request,
        queryset,
        title=title,
        apply=apply,
        form_class=ReasonForm,
        done=lambda n: f"{title}: {n} done.",
    )


def _each(modeladmin, request, queryset, label: str, apply) -> None:
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            apply(obj)
            done += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} done.", messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "buyer",
        "status",
        "total",
        "currency",
        "payment_method",
        "created_at",
        "paid_at",
    ]
    list_filter = ["status", "payment_method", "currency", "ship_country"]
    search_fields = ["number", "buyer__email", "ship_name", "buyer_email"]
    list_select_related = ["buyer"]
    date_hierarchy = "created_at"
    inlines = [ShopOrderInline, PaymentInline, OrderEventInline]
    actions = ["cancel_orders", "confirm_bank_transfers", "expire_now"]

    @admin.action(
        description="Cancel selected orders and refund them (asks for a reason)",
        permissions=["cancel_order"],
    )
    def cancel_orders(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title="Cancel orders",
            apply=lambda order, reason: refunds.cancel_order(
                order=order, actor=request.user, reason=reason, now=timezone.now()
            ),
        )

    @admin.action(
        description="Bank transfer received: confirm payment", permissions=["confirm_payment"]
    )
    def confirm_bank_transfers(self, request, queryset):
        def confirm(order):
            payment = order.payments.filter(provider="bank_transfer").order_by("-pk").first()
            if payment is None:
                raise DomainError("This order is not paid by bank transfer.")
            payments.confirm_bank_transfer(payment=payment, actor=request.user, now=timezone.now())

        _each(self, request, queryset, "Confirmed", confirm)

    @admin.action(
        description="Expire if past the payment window (releases stock)",
        permissions=["expire_order"],
    )
    def expire_now(self, request, queryset):
        def expire(order):
            if not payment_outcome.expire_order(order=order, now=timezone.now()):
                raise DomainError("Not unpaid past its payment window.")

        _each(self, request, queryset, "Expired", expire)


@admin.register(ShopOrder)
class ShopOrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "shop",
        "status",
        "paperwork_status",
        "on_hold",
        "total",
        "incoterm",
        "carrier",
        "tracking_number",
        "created_at",
    ]
    list_filter = [
        "status",
        "paperwork_status",
        "incoterm",
        "international",
        "carrier",
        ("held_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["order__number", "shop__display_name", "shop__slug", "tracking_number"]
    list_select_related = ["order", "shop"]
    inlines = [OrderLineInline, RefundInline, ShopOrderEventInline]
    actions = ["cancel", "refund_in_full", "regenerate_paperwork", "release_hold"]

    @admin.display(boolean=True, description="on hold")
    def on_hold(self, obj):
        return bool(obj.held_at)

    @admin.action(
        description="Cancel before shipment and refund (asks for a reason)",
        permissions=["cancel_order"],
    )
    def cancel(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title="Cancel parcels",
            apply=lambda so, reason: refunds.cancel_shop_order(
                shop_order=so, actor=request.user, reason=reason, now=timezone.now()
            ),
        )

    @admin.action(
        description="Refund everything left (asks for a reason)", permissions=["refund_order"]
    )
    def refund_in_full(self, request, queryset):
        def refund(so, reason):
            open_lines = {
                line.pk: line.quantity_open for line in so.lines.all() if line.quantity_open
            }
            refunds.refund_shop_order(
                shop_order=so,
                lines=open_lines,
                include_shipping=not so.refunds.filter(
                    includes_shipping=True, status=Refund.Status.SUCCEEDED
                ).exists(),
                reason=reason,
                actor=request.user,
                now=timezone.now(),
            )

        return _with_reason(self, request, queryset, title="Refund parcels", apply=refund)

    @admin.action(description="Regenerate customs paperwork", permissions=["regenerate_paperwork"])
    def regenerate_paperwork(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            "Paperwork requested",
            lambda so: paperwork.retry_paperwork(
                shop_order=so, actor=request.user, now=timezone.now()
            ),
        )

    @admin.action(
        description="Release the screening hold (clears pending hits)",
        permissions=["release_hold"],
    )
    def release_hold(self, request, queryset):
        return _with_reason(
            self,
            request,
            queryset,
            title="Release holds",
            apply=lambda so, note: paperwork.release_hold(
                shop_order=so, actor=request.user, note=note, now=timezone.now()
            ),
        )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "order",
        "provider",
        "status",
        "amount",
        "currency",
        "amount_refunded",
        "provider_reference",
        "created_at",
    ]
    list_filter = ["provider", "status", "currency"]
    search_fields = ["order__number", "provider_reference", "idempotency_key"]
    list_select_related = ["order"]
    inlines = [RefundInline]
    actions = ["confirm_bank_transfer"]

    @admin.action(
        description="Bank transfer received: confirm payment", permissions=["confirm_payment"]
    )
    def confirm_bank_transfer(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            "Confirmed",
            lambda p: payments.confirm_bank_transfer(
                payment=p, actor=request.user, now=timezone.now()
            ),
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "shop_order",
        "status",
        "amount",
        "currency",
        "amount_shop",
        "actor",
        "created_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["shop_order__order__number", "reason", "idempotency_key"]
    list_select_related = ["shop_order__order", "shop_order__shop", "actor"]


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "order",
        "shop_order",
        "kind",
        "from_status",
        "to_status",
        "actor_label",
        "notified_at",
    ]
    list_filter = ["kind"]
    search_fields = ["order__number", "actor_label", "note"]
    list_select_related = ["order", "shop_order__order", "shop_order__shop"]
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["received_at", "provider", "event_id", "event_type", "reference", "outcome"]
    list_filter = ["provider", "event_type"]
    search_fields = ["event_id", "reference"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "shop", "kind", "amount", "currency", "description"]
    list_filter = ["kind", "currency", "shop"]
    search_fields = ["shop__display_name", "description", "key"]
    list_select_related = ["shop"]
    date_hierarchy = "created_at"


class PayoutForm(forms.ModelForm):
    class Meta:
        model = Payout
        fields = ["shop", "amount", "reference", "paid_on", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Automatic payouts have no date until sent; one recorded by hand always has one.
        self.fields["paid_on"].required = True

    def clean(self):
        data = super().clean()
        shop, amount = data.get("shop"), data.get("amount")
        if shop is not None and amount is not None:
            for field, message in ledger.payout_problems(
                shop=shop, amount=amount, reference=data.get("reference") or ""
            ).items():
                self.add_error(field, message)
        return data


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    """Record money sent to a shop: the ledger entry and the owners' notice come with it."""

    form = PayoutForm
    list_display = [
        "created_at",
        "shop",
        "amount",
        "currency",
        "method",
        "status",
        "provider_reference",
        "failure_message",
        "paid_on",
    ]
    list_filter = ["status", "method", "currency"]
    search_fields = ["shop__display_name", "reference"]
    list_select_related = ["shop", "recorded_by"]
    autocomplete_fields = ["shop"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [f.name for f in Payout._meta.fields]
        return ["currency", "recorded_by"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        # The form checked the amount and reference; the service checks again under a lock.
        payout = ledger.record_payout(
            shop=obj.shop,
            amount=obj.amount,
            reference=obj.reference,
            paid_on=obj.paid_on,
            note=obj.note,
            actor=request.user,
            now=timezone.now(),
        )
        obj.pk = payout.pk
        obj.currency = payout.currency
        obj.recorded_by = payout.recorded_by


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["pk", "user", "status", "destination_country", "updated_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "token"]
    list_select_related = ["user"]
    readonly_fields = [
        "token",
        "checkout_token",
        "user",
        "status",
        "created_at",
        "updated_at",
        "shipping_address",
        "shipping_choices",
        "destination_country",
    ]

    class Items(admin.TabularInline):
        model = CartItem
        extra = 0
        raw_id_fields = ["variant"]

    inlines = [Items]

    def has_add_permission(self, request):
        return False


class TestProviderChargeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "status",
        "amount",
        "currency",
        "captured",
        "refunded",
        "card_last4",
        "created_at",
    ]
    search_fields = ["reference", "idempotency_key"]


# The test provider is a development tool: its records are only in the admin when it is the
# configured card provider (production refuses it: orders.E001).
if settings.ORDERS_CARD_PROVIDER == "test":
    admin.site.register(TestProviderCharge, TestProviderChargeAdmin)
