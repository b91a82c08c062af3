"""The catalog in the admin: moderation (pause), thumbnails, categories, shipping, imports.

Saves go through the services, so summaries, search documents and cached pages stay right.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from marketplace.core.errors import DomainError
from marketplace.listings import services
from marketplace.listings.models import (
    Category,
    ImportJob,
    Listing,
    ListingEvent,
    ListingImage,
    ShippingProfile,
    ShippingRate,
    ShippingZone,
    Variant,
)


def _thumb(image: ListingImage | None) -> str:
    if image is None or not image.thumbnail:
        return "—"
    return format_html(
        '<img src="{}" alt="" width="48" height="48" style="object-fit:cover">', image.thumbnail.url
    )


# --- Categories ------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["path", "name", "depth", "position", "is_featured", "listing_count"]
    list_filter = ["depth", "is_featured"]
    search_fields = ["name", "path", "slug"]
    list_select_related = ["parent"]
    list_editable = ["position", "is_featured"]
    readonly_fields = ["path", "depth"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [
        "parent",
        "name",
        "slug",
        "names",
        "position",
        "description",
        "is_featured",
        "path",
        "depth",
    ]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(n_listings=Count("listings"))

    @admin.display(description=_("listings"), ordering="n_listings")
    def listing_count(self, obj: Category) -> int:
        return obj.n_listings

    def save_model(self, request, obj, form, change):
        try:
            services.save_category(category=obj)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)


# --- Listings ----------------------------------------------------------------------------


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "options", "price", "stock", "net_weight_kg", "low_stock_threshold"]
    readonly_fields = ["sku", "options", "price", "net_weight_kg"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # variants are created by sellers, through their pages or CSV


class ListingImageInline(admin.TabularInline):
    model = ListingImage
    extra = 0
    fields = ["preview", "alt_text", "position", "thumbnail_status", "thumbnail_error"]
    readonly_fields = ["preview", "position", "thumbnail_status", "thumbnail_error"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def preview(self, obj: ListingImage) -> str:
        return _thumb(obj)


class ListingEventInline(admin.TabularInline):
    model = ListingEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(
    description=_("Pause the selected listings (hide them from buyers)"), permissions=["change"]
)
def pause_selected(modeladmin, request, queryset):
    count = services.pause_listings(listings=list(queryset), actor=request.user, now=timezone.now())
    modeladmin.message_user(request, _("%(n)d listing(s) paused.") % {"n": count}, messages.SUCCESS)


@admin.action(
    description=_("Regenerate the thumbnails of the selected listings"), permissions=["change"]
)
def regenerate_listing_thumbnails(modeladmin, request, queryset):
    ids = ListingImage.objects.filter(listing__in=queryset).values_list("pk", flat=True)
    count = services.request_thumbnails(image_ids=list(ids))
    modeladmin.message_user(
        request, _("%(n)d photo(s) queued for new thumbnails.") % {"n": count}, messages.SUCCESS
    )


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "shop",
        "status",
        "export_ready",
        "category",
        "price_min",
        "currency",
        "hs_code",
        "origin_country",
        "updated_at",
    ]
    list_filter = ["status", "export_ready", "currency", "origin_country", "shop__country"]
    search_fields = [
        "title",
        "hs_code",
        "customs_description",
        "shop__display_name",
        "variants__sku",
    ]
    list_select_related = ["shop", "category"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["shop", "category", "shipping_profile"]
    readonly_fields = [
        "slug",
        "currency",
        "price_min",
        "price_max",
        "export_ready",
        "readiness",
        "created_at",
        "updated_at",
        "published_at",
    ]
    fields = [
        "shop",
        "title",
        "slug",
        "description",
        "category",
        "status",
        "shipping_profile",
        "hs_code",
        "customs_description",
        "origin_country",
        "material",
        "currency",
        "price_min",
        "price_max",
        "export_ready",
        "readiness",
        "created_at",
        "updated_at",
        "published_at",
    ]
    inlines = [VariantInline, ListingImageInline, ListingEventInline]
    actions = [pause_selected, regenerate_listing_thumbnails]

    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the actions (the state machine), never a free edit.
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly += ["shop", "status"]
        return readonly

    @admin.display(description=_("export readiness"))
    def readiness(self, obj: Listing) -> str:
        if not obj.pk:
            return "—"
        missing = obj.export_readiness().missing
        if not missing:
            return _("Ready to ship abroad")
        return "; ".join(f"{item.label}: {item.detail}" for item in missing)

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Admin edits (customs data, stock) refresh the same summaries the services keep.
        services.refresh_listing_summaries(listing_ids=[form.instance.pk])


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "listing", "shop", "price", "stock", "net_weight_kg", "low_stock"]
    list_filter = ["shop__country", "listing__status"]
    search_fields = ["sku", "listing__title", "shop__display_name"]
    list_select_related = ["listing", "shop"]
    readonly_fields = ["listing", "shop", "created_at", "updated_at"]
    fields = [
        "listing",
        "shop",
        "sku",
        "options",
        "price",
        "stock",
        "net_weight_kg",
        "low_stock_threshold",
        "created_at",
        "updated_at",
    ]

    @admin.display(boolean=True, description=_("low stock"))
    def low_stock(self, obj: Variant) -> bool:
        return obj.low_stock

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)
        services.refresh_listing_summaries(listing_ids=[obj.listing_id])


@admin.action(description=_("Regenerate thumbnails"), permissions=["change"])
def regenerate_thumbnails(modeladmin, request, queryset):
    count = services.request_thumbnails(image_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(
        request, _("%(n)d photo(s) queued for new thumbnails.") % {"n": count}, messages.SUCCESS
    )


@admin.register(ListingImage)
class ListingImageAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "listing",
        "position",
        "thumbnail_status",
        "width",
        "height",
        "created_at",
    ]
    list_filter = ["thumbnail_status"]
    search_fields = ["listing__title", "alt_text", "sha256"]
    list_select_related = ["listing"]
    readonly_fields = [
        "listing",
        "preview",
        "image",
        "width",
        "height",
        "sha256",
        "thumbnail",
        "large",
        "thumbnail_status",
        "thumbnail_error",
        "position",
        "created_at",
    ]
    fields = [*readonly_fields[:2], "alt_text", *readonly_fields[2:]]
    actions = [regenerate_thumbnails]

    def has_add_permission(self, request):
        return False  # uploads go through the seller page, which validates and re-encodes

    @admin.display(description=_("photo"))
    def preview(self, obj: ListingImage) -> str:
        return _thumb(obj)


# --- Shipping ----------------------------------------------------------------------------


class ShippingZoneInline(admin.StackedInline):
    model = ShippingZone
    extra = 0
    fields = ["name", "countries", "rest_of_world"]
    show_change_link = True


@admin.register(ShippingProfile)
class ShippingProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "shop", "handling_days", "zone_count", "listing_count"]
    search_fields = ["name", "shop__display_name", "shop__slug"]
    list_filter = ["shop__country"]
    list_select_related = ["shop"]
    autocomplete_fields = ["shop"]
    inlines = [ShippingZoneInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return (
            super()
            .get_queryset(request)
            .annotate(
                n_zones=Count("zones", distinct=True), n_listings=Count("listings", distinct=True)
            )
        )

    @admin.display(description=_("zones"), ordering="n_zones")
    def zone_count(self, obj) -> int:
        return obj.n_zones

    @admin.display(description=_("listings"), ordering="n_listings")
    def listing_count(self, obj) -> int:
        return obj.n_listings


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 0


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "profile", "rest_of_world"]
    list_filter = ["rest_of_world"]
    search_fields = ["name", "profile__name", "profile__shop__display_name"]
    list_select_related = ["profile__shop"]
    inlines = [ShippingRateInline]


# --- Imports -----------------------------------------------------------------------------


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "shop",
        "status",
        "mode",
        "total_rows",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "mode"]
    search_fields = ["original_name", "shop__display_name"]
    list_select_related = ["shop"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
