"""Customs admin: an operations console for rules, screening, quotes and paperwork."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from customs import documents, fx, screening, services
from customs.hs import reset_hs_index
from customs.models import (
    CustomsDeclaration,
    CustomsDocument,
    DeclarationLine,
    DutyRate,
    ExchangeRate,
    Fee,
    HSCode,
    PaperworkJob,
    Quote,
    Regime,
    Restriction,
    SanctionedDestination,
    ScreeningHit,
    ScreeningList,
    SdrRate,
)
from customs.rulebook import invalidate_rules
from marketplace.core.admin_permissions import requires
from marketplace.core.errors import DomainError


class InForceFilter(admin.SimpleListFilter):
    title = _("in force today")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        from django.utils import timezone

        today = timezone.localdate()
        in_force = queryset.model.objects.in_force(today).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=in_force)
        if self.value() == "no":
            return queryset.exclude(pk__in=in_force)
        return queryset


class RuleAdmin(SimpleHistoryAdmin):
    """Rule tables: an edit drops this process's rule cache so the next quote uses it."""

    list_per_page = 100
    readonly_fields = ("data_key",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        invalidate_rules()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate_rules()


@admin.register(Regime)
class RegimeAdmin(RuleAdmin):
    list_display = (
        "name", "destination", "destination_region", "channel", "transport", "effective_from",
        "effective_to", "tax_rate", "collect_at_sale", "duty_formula", "uncertain", "active",
    )  # fmt: skip
    list_filter = (
        InForceFilter, "active", "uncertain", "collect_at_sale", "duty_formula", "channel",
        "transport", "customs_value_basis", "destination",
    )  # fmt: skip
    search_fields = ("name", "destination", "destination_region", "data_key", "source", "notes")
    fieldsets = (
        (None, {"fields": ("name", "data_key", "active", "uncertain")}),
        (_("Applies to"), {"fields": (
            "destination", "destination_region", "channel", "transport", "ship_from",
            "effective_from", "effective_to",
        )}),
        (_("Values and thresholds"), {"fields": (
            "currency", "fx_kind", "customs_value_basis", "duty_threshold",
            "duty_threshold_basis", "tax_threshold", "tax_threshold_basis",
            "deminimis_max_uses_per_year",
        )}),
        (_("Duty"), {"fields": (
            "duty_formula", "apply_mfn", "flat_duty_amount", "flat_duty_max_value",
            "duty_exempt_hs_prefixes", "params", "round_per_line",
        )}),
        (_("Tax"), {"fields": (
            "tax_name", "tax_rate", "tax_rate_factor", "collect_at_sale", "collect_max_value",
            "collect_max_basis", "tax_scheme", "tax_base_at_sale", "tax_base_at_border",
            "no_duty_when_collected", "tax_minimum", "rounding_increment",
        )}),
        (_("Source"), {"fields": ("source", "as_of", "notes")}),
    )  # fmt: skip


@admin.register(DutyRate)
class DutyRateAdmin(RuleAdmin):
    list_display = (
        "destination", "hs_prefix", "layer", "rate_percent", "national_code", "description",
        "as_of", "effective_from", "effective_to", "active",
    )  # fmt: skip
    list_filter = (InForceFilter, "layer", "active", "uncertain", "destination")
    search_fields = ("hs_prefix", "national_code", "description", "specific_note", "source")


@admin.register(Fee)
class FeeAdmin(RuleAdmin):
    list_display = (
        "name", "destination", "unit", "amount", "currency", "payer", "effective_from",
        "effective_to", "active",
    )  # fmt: skip
    list_filter = (InForceFilter, "payer", "unit", "active", "destination")
    search_fields = ("name", "destination", "source")


@admin.register(Restriction)
class RestrictionAdmin(RuleAdmin):
    list_display = ("hs_prefix", "destination", "transport", "action", "reason", "active")
    list_filter = (InForceFilter, "action", "transport", "active", "uncertain")
    search_fields = ("hs_prefix", "destination", "reason", "document", "source")


@admin.register(SanctionedDestination)
class SanctionedDestinationAdmin(RuleAdmin):
    list_display = (
        "destination", "region", "seller_jurisdiction", "programme", "action",
        "min_item_value_eur", "effective_from", "effective_to", "active",
    )  # fmt: skip
    list_filter = (InForceFilter, "action", "seller_jurisdiction", "active")
    search_fields = ("destination", "region", "programme", "reason", "source")


@admin.register(SdrRate)
class SdrRateAdmin(RuleAdmin):
    list_display = ("currency", "units_per_sdr", "cn22_max_sdr", "effective_from", "active")
    list_filter = ("currency", "active")
    search_fields = ("currency", "source")


@admin.register(HSCode)
class HSCodeAdmin(SimpleHistoryAdmin):
    list_display = ("code", "level", "parent_code", "description", "section", "hs_edition")
    list_filter = ("level", "section", "hs_edition")
    search_fields = ("code", "description")
    list_per_page = 100

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        reset_hs_index()


@admin.register(ExchangeRate)
class ExchangeRateAdmin(SimpleHistoryAdmin):
    list_display = ("date", "currency", "rate", "rate_kind", "source")
    list_filter = ("rate_kind", "currency")
    search_fields = ("currency", "source")
    date_hierarchy = "date"
    list_per_page = 100

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fx.clear_cache()

    def changelist_view(self, request, extra_context=None):
        warn_stale_rates(request)
        return super().changelist_view(request, extra_context)


def warn_stale_rates(request) -> None:
    """Say once, on the admin pages about rates and quotes, which rate sources are stale."""
    for source in fx.stale_sources():
        messages.warning(
            request,
            _(
                "Exchange rates are stale: the newest %(kind)s%(cur)s rate is of %(date)s "
                "(valid %(days)s days). Import newer rates (ECB_RATES_URL, or a manual rate)."
            )
            % {
                "kind": source.kind,
                "cur": f" {source.currency}" if source.currency else "",
                "date": source.newest or "-",
                "days": source.valid_days,
            },
        )


@admin.register(ScreeningList)
class ScreeningListAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "entries", "loaded_at")
    readonly_fields = ("name", "version", "entries", "sha256", "source", "loaded_at")
    search_fields = ("name", "version")


@admin.register(ScreeningHit)
class ScreeningHitAdmin(admin.ModelAdmin):
    """The review queue: pending hits first; decisions are final and recorded."""

    list_display = (
        "reference", "subject", "query_name", "query_country", "matched_name", "score",
        "list_name", "list_version", "decision", "decided_by", "created_at",
    )  # fmt: skip
    list_filter = ("decision", "subject", "list_name", "list_version")
    search_fields = ("reference", "query_name", "matched_name", "entry_id", "programs")
    list_select_related = ("decided_by",)
    readonly_fields = (
        "reference", "subject", "query_name", "query_country", "list_name", "list_version",
        "entry_id", "matched_name", "programs", "score", "decision", "decided_by",
        "decided_at", "created_at",
    )  # fmt: skip
    fields = (*readonly_fields, "decision_note")
    actions = ("clear_hits", "confirm_hits")

    def has_add_permission(self, request):
        return False

    def _decide(self, request, queryset, decision):
        done = 0
        for hit in queryset.order_by("pk"):
            try:
                screening.decide_screening_hit(hit=hit, decision=decision, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{hit}: {exc.message}", messages.WARNING)
        self.message_user(request, _("%(n)d hit(s) decided.") % {"n": done})

    @admin.action(description=_("Clear: not the listed party"), permissions=["decide_screeninghit"])
    def clear_hits(self, request, queryset):
        self._decide(request, queryset, ScreeningHit.Decision.CLEARED)

    @admin.action(
        description=_("Confirm: the listed party (keep blocked)"),
        permissions=["decide_screeninghit"],
    )
    def confirm_hits(self, request, queryset):
        self._decide(request, queryset, ScreeningHit.Decision.CONFIRMED)

    has_decide_screeninghit_permission = requires("customs.decide_screeninghit")


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = (
        "pk", "created_at", "shop", "reference", "destination", "currency", "goods", "duty",
        "tax", "landed_cost", "incoterm", "form", "blocked", "incomplete",
    )  # fmt: skip
    list_filter = ("destination", "incoterm", "form", "blocked", "incomplete", "review_required")
    search_fields = ("reference", "shop__display_name", "destination")
    list_select_related = ("shop", "regime")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Quote._meta.fields]

    def changelist_view(self, request, extra_context=None):
        from customs.coverage import incomplete_quote_counts

        warn_stale_rates(request)
        counts = incomplete_quote_counts(days=30)
        if counts:
            messages.info(
                request,
                _("Incomplete quotes in the last 30 days, by destination: %(counts)s.")
                % {"counts": ", ".join(f"{dest} {n}" for dest, n in counts)},
            )
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeclarationLineInline(admin.TabularInline):
    model = DeclarationLine
    extra = 0
    can_delete = False
    fields = ("position", "description", "quantity", "net_weight_kg", "unit_value", "value",
              "hs_code", "origin", "sku")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class DocumentInline(admin.TabularInline):
    model = CustomsDocument
    extra = 0
    can_delete = False
    fields = ("kind", "version", "download", "size", "sha256", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)


class JobInline(admin.TabularInline):
    model = PaperworkJob
    extra = 0
    can_delete = False
    fields = ("version", "status", "attempts", "last_error", "created_at", "finished_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _address_block(party: dict):
    """A party snapshot as the lines of a postal address, then its contact details."""
    if not isinstance(party, dict):
        return "-"
    lines = documents._party_lines(party)  # the same lines the CN22/CN23 print
    for label, key in ((_("Tel."), "phone"), (_("Email"), "email"), ("EORI", "eori")):
        if party.get(key):
            lines.append(f"{label} {party[key]}")
    return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "-"


def _download_link(document: CustomsDocument):
    url = reverse("admin:customs_customsdocument_download", args=[document.pk])
    return format_html('<a href="{}">{}</a>', url, document.filename)


@admin.register(CustomsDeclaration)
class CustomsDeclarationAdmin(admin.ModelAdmin):
    list_display = (
        "reference", "shop", "form", "destination", "currency", "total_value", "incoterm",
        "tax_scheme", "item_id", "documents_version", "created_at",
    )  # fmt: skip
    list_filter = ("form", "incoterm", "destination", "transport", "tax_collected")
    search_fields = ("reference", "invoice_number", "order_number", "item_id",
                     "shop__display_name")  # fmt: skip
    list_select_related = ("shop",)
    date_hierarchy = "created_at"
    inlines = (DeclarationLineInline, DocumentInline, JobInline)
    actions = ("regenerate_documents",)
    exclude = ("sender", "addressee")  # shown read-only as addresses (below)

    def get_readonly_fields(self, request, obj=None):
        # A frozen snapshot: only services change it (item id, new document versions). The
        # sender and addressee snapshots show as postal addresses, not as their JSON.
        parties = {"sender": "sender_address", "addressee": "addressee_address"}
        return [parties.get(f.name, f.name) for f in CustomsDeclaration._meta.fields]

    @admin.display(description=_("sender"))
    def sender_address(self, obj):
        return _address_block(obj.sender)

    @admin.display(description=_("addressee"))
    def addressee_address(self, obj):
        return _address_block(obj.addressee)

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=_("Regenerate documents (new version)"),
        permissions=["regenerate_paperwork"],
    )
    def regenerate_documents(self, request, queryset):
        for declaration in queryset.order_by("pk"):
            services.request_documents(declaration=declaration)
        self.message_user(request, _("New document versions requested."))

    has_regenerate_paperwork_permission = requires("customs.regenerate_paperwork")


@admin.register(CustomsDocument)
class CustomsDocumentAdmin(admin.ModelAdmin):
    list_display = ("declaration", "kind", "version", "download", "size", "created_at")
    list_filter = ("kind",)
    search_fields = ("declaration__reference", "sha256")
    list_select_related = ("declaration",)
    readonly_fields = ("declaration", "kind", "version", "download", "content_type", "sha256",
                       "size", "created_at")  # fmt: skip
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("file"))
    def download(self, obj):
        return _download_link(obj)

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="customs_customsdocument_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, pk: int):
        document = get_object_or_404(CustomsDocument.objects.select_related("declaration"), pk=pk)
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.filename,
            content_type=document.content_type,
        )


@admin.register(PaperworkJob)
class PaperworkJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk", "declaration", "version", "status", "attempts", "last_error", "created_at",
        "finished_at",
    )  # fmt: skip
    list_filter = ("status",)
    search_fields = ("declaration__reference", "last_error")
    list_select_related = ("declaration",)
    readonly_fields = ("declaration", "version", "status", "attempts", "last_error",
                       "created_at", "started_at", "finished_at", "documents")  # fmt: skip
    fields = readonly_fields
    actions = ("retry_jobs",)

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("documents"))
    def documents(self, obj):
        docs = obj.declaration.documents.filter(version=obj.version)
        return format_html_join(", ", "{}", ((_download_link(d),) for d in docs)) or "-"

    @admin.action(description=_("Retry failed jobs"), permissions=["regenerate_paperwork"])
    def retry_jobs(self, request, queryset):
        retried = sum(services.retry_job(job=job) for job in queryset.order_by("pk"))
        self.message_user(request, _("%(n)d job(s) queued again.") % {"n": retried})

    has_regenerate_paperwork_permission = requires("customs.regenerate_paperwork")
