from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.models import EmailAddress
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from accounts import services
from accounts.forms import ShopReviewReasonForm
from accounts.models import (
    Address,
    Notification,
    Shop,
    ShopEvent,
    ShopInvitation,
    ShopMembership,
    User,
)
from marketplace.core.admin_actions import action_with_reason
from marketplace.core.admin_permissions import requires
from marketplace.core.errors import DomainError


class AddressInline(admin.StackedInline):
    model = Address
    extra = 0


class MembershipInline(admin.TabularInline):
    model = ShopMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "country", "preferred_language", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "country", "preferred_language"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "country", "preferred_language", "preferred_currency"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    inlines = [AddressInline]


class ShopEventInline(admin.TabularInline):
    model = ShopEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _review_with_reason(modeladmin, request, queryset, *, service, title, verb):
    """Reject or suspend with the reason the seller will read (one page for every admin)."""
    return action_with_reason(
        modeladmin,
        request,
        queryset,
        title=title,
        apply=lambda shop, reason: service(
            shop=shop, actor=request.user, reason=reason, now=timezone.now()
        ),
        form_class=ShopReviewReasonForm,
        done=lambda n: f"{verb} {n} shop(s).",
    )


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug", "country", "status", "business_type", "applied_at"]
    list_filter = ["status", "country", "business_type", "default_incoterm"]
    search_fields = ["display_name", "legal_name", "slug", "eori", "vat_number", "email"]
    readonly_fields = ["status", "status_reason", "applied_at", "reviewed_at", "reviewed_by"]
    date_hierarchy = "applied_at"
    list_select_related = ["reviewed_by"]
    inlines = [MembershipInline, ShopEventInline]
    actions = ["approve", "reject", "suspend"]
    fieldsets = [
        (
            "Review",
            {"fields": ["status", "status_reason", "applied_at", "reviewed_at", "reviewed_by"]},
        ),
        (
            "Shop",
            {
                "fields": [
                    "display_name",
                    "slug",
                    "legal_name",
                    "business_type",
                    "description",
                    "currency",
                    "time_zone",
                ]
            },
        ),
        (
            "Ship-from address",
            {
                "fields": [
                    "country",
                    "address_line1",
                    "address_line2",
                    "city",
                    "region",
                    "postcode",
                    "phone",
                    "email",
                ]
            },
        ),
        (
            "Commission",
            {"fields": ["commission_rate"]},
        ),
        (
            "Export profile",
            {
                "fields": [
                    "eori",
                    "vat_number",
                    "exporter_reference",
                    "origin_statement_on_file",
                    "default_incoterm",
                    "non_delivery",
                    "signatory_name",
                ]
            },
        ),
    ]

    @admin.action(description="Approve selected shops", permissions=["approve_shop"])
    def approve(self, request, queryset):
        done = 0
        for shop in queryset.order_by("pk"):
            try:
                services.approve_shop(shop=shop, actor=request.user, now=timezone.now())
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{shop}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"Approved {done} shop(s).", messages.SUCCESS)

    @admin.action(
        description="Reject selected applications (asks for a reason)",
        permissions=["approve_shop"],
    )
    def reject(self, request, queryset):
        return _review_with_reason(
            self,
            request,
            queryset,
            service=services.reject_shop,
            title="Reject shop applications",
            verb="Rejected",
        )

    @admin.action(
        description="Suspend selected shops (asks for a reason)", permissions=["suspend_shop"]
    )
    def suspend(self, request, queryset):
        return _review_with_reason(
            self,
            request,
            queryset,
            service=services.suspend_shop,
            title="Suspend shops",
            verb="Suspended",
        )

    has_approve_shop_permission = requires("accounts.approve_shop")
    has_suspend_shop_permission = requires("accounts.suspend_shop")


@admin.register(ShopInvitation)
class ShopInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "shop", "role", "created_at", "expires_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "shop__display_name"]
    list_select_related = ["shop"]
    readonly_fields = ["token", "accepted_at", "accepted_by", "invited_by"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "kind", "created_at", "read_at", "email_status"]
    list_filter = ["kind", "email_status"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["resend_email"]

    @admin.action(description="Email again", permissions=["change"])
    def resend_email(self, request, queryset):
        from accounts.tasks import deliver_notification_email

        ids = list(queryset.values_list("pk", flat=True))
        Notification.objects.filter(pk__in=ids).update(
            email_status=Notification.EmailStatus.PENDING, email_error=""
        )
        for pk in ids:
            deliver_notification_email.delay_on_commit(pk)
        self.message_user(request, f"Queued {len(ids)} email(s).", messages.SUCCESS)

    def has_add_permission(self, request):
        return False


# allauth's own admin for email addresses declares no permission on its action: marking an
# address verified is a change to that address, so it needs "change".
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class EmailAddressAdmin(AllauthEmailAddressAdmin):
    @admin.action(
        description=AllauthEmailAddressAdmin.make_verified.short_description,
        permissions=["change"],
    )
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)
