"""Seller pages under /sell/<shop>/: listings, photos, HS finder, shipping, CSV import/export.

Every view resolves the shop through ``accounts.access.shop_for_member`` (a stranger gets
404) and every object through that shop, so another shop's listing is a 404 too.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.access import shop_for_member
from marketplace.core.errors import DomainError
from marketplace.listings import services
from marketplace.listings.csv_io import columns, export
from marketplace.listings.csv_io import jobs as import_jobs
from marketplace.listings.forms import (
    ImageEditForm,
    ImageUploadForm,
    ImportForm,
    ListingForm,
    SellerListingFilterForm,
    ShippingProfileForm,
    ShippingRateFormSet,
    ShippingZoneForm,
    VariantFormSet,
)
from marketplace.listings.models import (
    ImportJob,
    Listing,
    ListingImage,
    ShippingProfile,
    ShippingZone,
    Variant,
)

SELLER_PAGE_SIZE = 50


def _listing_for(shop, pk: int) -> Listing:
    return get_object_or_404(Listing, pk=pk, shop=shop)


# --- Listings ----------------------------------------------------------------------------


@login_required
@require_GET
def listing_list(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    form = SellerListingFilterForm(request.GET or None)
    low = Q(variants__stock__lte=F("variants__low_stock_threshold"), variants__stock__gt=0)
    listings = (
        shop.listings.select_related("category", "cover_image")
        .annotate(
            variant_count=Count("variants"),
            total_stock=Sum("variants__stock"),
            low_variants=Count("variants", filter=low),
            sold_out_variants=Count("variants", filter=Q(variants__stock=0)),
        )
        .order_by("-updated_at", "-pk")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            listings = listings.filter(
                Q(title__icontains=data["q"]) | Q(variants__sku__icontains=data["q"])
            ).distinct()
        if data["status"]:
            listings = listings.filter(status=data["status"])
        if data["readiness"] == "ready":
            listings = listings.filter(export_ready=True)
        elif data["readiness"] == "missing":
            listings = listings.filter(export_ready=False)
        if data["stock"] == "low":
            listings = listings.filter(low_variants__gt=0)
        elif data["stock"] == "out":
            listings = listings.filter(sold_out_variants__gt=0)
    page = Paginator(listings, SELLER_PAGE_SIZE).get_page(request.GET.get("page"))
    alerts = Variant.objects.filter(shop=shop, listing__status=Listing.Status.ACTIVE).aggregate(
        low=Count("pk", filter=Q(stock__lte=F("low_stock_threshold"), stock__gt=0)),
        out=Count("pk", filter=Q(stock=0)),
    )
    return render(
        request,
        "listings/seller/listing_list.html",
        {
            "shop": shop,
            "form": form,
            "page": page,
            "alerts": alerts,
            "querystring": _querystring_without_page(request),
        },
    )


def _querystring_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@login_required
def listing_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    shop = shop_for_member(request, slug)
    listing = _listing_for(shop, pk) if pk else Listing(shop=shop)
    form = ListingForm(request.POST or None, instance=listing, shop=shop)
    formset = VariantFormSet(
        request.POST or None,
        instance=listing if listing.pk else Listing(shop=shop),
        shop=shop,
        prefix="variants",
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        variants, removed = [], []
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms:
                if variant_form.instance.pk:
                    removed.append(variant_form.instance)
                continue
            if not variant_form.instance.pk and not variant_form.has_changed():
                continue  # the blank row for a new variant
            variants.append(variant_form.save(commit=False))
        try:
            listing = services.save_listing(
                listing=form.save(commit=False),
                variants=variants,
                removed=removed,
                actor=request.user,
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The listing was saved."))
            for warning in form.customs_warnings:
                messages.warning(request, _("Customs description: %(w)s") % {"w": warning})
            return redirect("listings:seller-listing-edit", slug=shop.slug, pk=listing.pk)
    context = {"shop": shop, "listing": listing, "form": form, "formset": formset}
    if listing.pk:
        context.update(
            readiness=listing.export_readiness(),
            images=listing.images.order_by("position", "pk"),
            image_form=ImageUploadForm(),
            events=listing.events.select_related("actor")[:10],
            transitions=sorted(listing.TRANSITIONS.get(listing.status, set())),
        )
    return render(request, "listings/seller/listing_form.html", context)


@login_required
@require_POST
def listing_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug)
    listing = _listing_for(shop, pk)
    target = request.POST.get("status", "")
    try:
        if target not in Listing.Status.values:
            raise DomainError(_("Unknown status."))
        services.change_listing_status(
            listing=listing, target=target, actor=request.user, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            {
                Listing.Status.ACTIVE: _("The listing is live."),
                Listing.Status.PAUSED: _("The listing is paused; buyers no longer see it."),
                Listing.Status.DRAFT: _("The listing is a draft again."),
            }[target],
        )
    return redirect("listings:seller-listing-edit", slug=shop.slug, pk=listing.pk)


# --- Photos ------------------------------------------------------------------------------


@login_required
@require_POST
def image_upload(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug)
    listing = _listing_for(shop, pk)
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    else:
        try:
            services.add_listing_image(
                listing=listing,
                upload=form.cleaned_data["image"],
                alt_text=form.cleaned_data["alt_text"],
                now=timezone.now(),
            )
        except ValidationError as exc:
            messages.error(request, _("Photo: %(reason)s") % {"reason": " ".join(exc.messages)})
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The photo was added; its thumbnails are being made."))
    return redirect(
        reverse("listings:seller-listing-edit", kwargs={"slug": shop.slug, "pk": listing.pk})
        + "#photos"
    )


@login_required
@require_POST
def image_edit(request: HttpRequest, slug: str, pk: int, image_pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug)
    listing = _listing_for(shop, pk)
    image = get_object_or_404(ListingImage, pk=image_pk, listing=listing)
    action = request.POST.get("action", "save")
    if action == "delete":
        services.delete_listing_image(image=image)
        messages.success(request, _("The photo was removed."))
    elif action in ("up", "down"):
        services.move_listing_image(image=image, offset=-1 if action == "up" else 1)
    else:
        form = ImageEditForm(request.POST)
        if form.is_valid():
            services.update_listing_image(image=image, alt_text=form.cleaned_data["alt_text"])
            messages.success(request, _("The alt text was saved."))
        else:
            messages.error(request, _("Alt text: at most 200 characters."))
    return redirect(
        reverse("listings:seller-listing-edit", kwargs={"slug": shop.slug, "pk": listing.pk})
        + "#photos"
    )


# --- Customs helpers ---------------------------------------------------------------------


@login_required
@require_GET
def hs_finder(request: HttpRequest, slug: str) -> HttpResponse:
    """Ranked HS 2022 subheadings for the words typed (HTML page, or JSON for the widget)."""
    from customs.hs import search_hs

    shop = shop_for_member(request, slug)
    query = request.GET.get("q", "").strip()[:200]
    matches = search_hs(query, limit=20) if query else []
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "query": query,
                "results": [
                    {
                        "code": m.code,
                        "dotted": m.dotted,
                        "description": m.description,
                        "heading": m.heading_code,
                        "heading_description": m.heading_description,
                        "chapter": m.chapter_code,
                        "chapter_description": m.chapter_description,
                        "score": m.score,
                    }
                    for m in matches
                ],
            }
        )
    return render(
        request,
        "listings/seller/hs_finder.html",
        {"shop": shop, "query": query, "matches": matches},
    )


@login_required
@require_GET
def ics2_check(request: HttpRequest, slug: str) -> JsonResponse:
    """Live check of a customs description against the EU ICS2 rules (for the form)."""
    from customs.ics2 import validate_description

    shop_for_member(request, slug)
    check = validate_description(request.GET.get("text", "")[:600])
    return JsonResponse({"ok": check.ok, "errors": check.errors, "warnings": check.warnings})


# --- Shipping ----------------------------------------------------------------------------


@login_required
def shipping_list(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    profiles = (
        shop.shipping_profiles.annotate(listing_count=Count("listings"))
        .prefetch_related("zones__rates")
        .order_by("name")
    )
    return render(
        request, "listings/seller/shipping_list.html", {"shop": shop, "profiles": profiles}
    )


@login_required
def shipping_edit(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    shop = shop_for_member(request, slug)
    profile = (
        get_object_or_404(ShippingProfile, pk=pk, shop=shop) if pk else ShippingProfile(shop=shop)
    )
    form = ShippingProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            profile = services.save_shipping_profile(
                profile=form.save(commit=False), now=timezone.now()
            )
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("The shipping profile was saved."))
            if pk is None:
                messages.info(request, _("Now add the zones you ship to, with their rates."))
            return redirect("listings:seller-shipping-edit", slug=shop.slug, pk=profile.pk)
    zones = profile.zones.prefetch_related("rates") if profile.pk else []
    return render(
        request,
        "listings/seller/shipping_form.html",
        {"shop": shop, "profile": profile, "form": form, "zones": zones},
    )


@login_required
@require_POST
def shipping_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    # Removing shipping destinations is an owner's decision; staff can edit rates.
    shop = shop_for_member(request, slug, owner=True)
    profile = get_object_or_404(ShippingProfile, pk=pk, shop=shop)
    try:
        services.delete_shipping_profile(profile=profile)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("listings:seller-shipping-edit", slug=shop.slug, pk=profile.pk)
    messages.success(request, _("The shipping profile was deleted."))
    return redirect("listings:seller-shipping", slug=shop.slug)


@login_required
def zone_edit(request: HttpRequest, slug: str, pk: int, zone_pk: int | None = None) -> HttpResponse:
    shop = shop_for_member(request, slug)
    profile = get_object_or_404(ShippingProfile, pk=pk, shop=shop)
    zone = (
        get_object_or_404(ShippingZone, pk=zone_pk, profile=profile)
        if zone_pk
        else ShippingZone(profile=profile)
    )
    form = ShippingZoneForm(request.POST or None, instance=zone)
    formset = ShippingRateFormSet(
        request.POST or None, instance=zone if zone.pk else ShippingZone(), prefix="rates"
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rates, removed = [], []
        for rate_form in formset.forms:
            if rate_form in formset.deleted_forms:
                if rate_form.instance.pk:
                    removed.append(rate_form.instance)
                continue
            if not rate_form.instance.pk and not rate_form.has_changed():
                continue
            rates.append(rate_form.save(commit=False))
        try:
            services.save_shipping_zone(zone=form.save(commit=False), rates=rates, removed=removed)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The zone was saved."))
            return redirect("listings:seller-shipping-edit", slug=shop.slug, pk=profile.pk)
    return render(
        request,
        "listings/seller/zone_form.html",
        {
            "shop": shop,
            "profile": profile,
            "zone": zone,
            "form": form,
            "formset": formset,
        },
    )


@login_required
@require_POST
def zone_delete(request: HttpRequest, slug: str, pk: int, zone_pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    profile = get_object_or_404(ShippingProfile, pk=pk, shop=shop)
    zone = get_object_or_404(ShippingZone, pk=zone_pk, profile=profile)
    services.delete_shipping_zone(zone=zone)
    messages.success(request, _("The zone was deleted."))
    return redirect("listings:seller-shipping-edit", slug=shop.slug, pk=profile.pk)


# --- CSV import and export ---------------------------------------------------------------


@login_required
def import_list(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_jobs.start_import(
                shop=shop,
                actor=request.user,
                upload=form.cleaned_data["file"],
                mode=form.cleaned_data["mode"],
                now=timezone.now(),
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("listings:seller-import-detail", slug=shop.slug, pk=job.pk)
    jobs = shop.import_jobs.select_related("created_by")[:20]
    return render(
        request,
        "listings/seller/import_list.html",
        {"shop": shop, "form": form, "jobs": jobs, "columns": columns.COLUMNS},
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug)
    job = get_object_or_404(ImportJob, pk=pk, shop=shop)
    return render(request, "listings/seller/import_detail.html", {"shop": shop, "job": job})


@login_required
@require_GET
def import_status(request: HttpRequest, slug: str, pk: int) -> JsonResponse:
    shop = shop_for_member(request, slug)
    job = get_object_or_404(ImportJob, pk=pk, shop=shop)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "processed": job.processed_rows,
            "total": job.total_rows,
            "percent": job.progress_percent,
            "finished": job.is_finished,
            "errors": len(job.errors),
        }
    )


@login_required
@require_GET
def export_csv(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    shop = shop_for_member(request, slug)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(export.export_rows(shop), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{shop.slug}-catalog-{stamp}.csv"'
    return response
