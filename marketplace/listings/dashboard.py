"""What the catalog adds to the seller dashboard (registered in ``ListingsConfig.ready``)."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.listings.models import Listing, ShippingRate, Variant


def catalog_section(shop) -> dict:
    counts = shop.listings.aggregate(
        active=Count("pk", filter=Q(status=Listing.Status.ACTIVE)),
        drafts=Count("pk", filter=Q(status=Listing.Status.DRAFT)),
        paused=Count("pk", filter=Q(status=Listing.Status.PAUSED)),
        not_ready=Count("pk", filter=Q(status=Listing.Status.ACTIVE, export_ready=False)),
    )
    by_status = _("Live: %(active)d, drafts: %(drafts)d, paused: %(paused)d.") % counts
    not_ready = ngettext(
        "%(not_ready)d live listing cannot ship abroad yet (customs data missing).",
        "%(not_ready)d live listings cannot ship abroad yet (customs data missing).",
        counts["not_ready"],
    ) % {"not_ready": counts["not_ready"]}
    summary = f"{by_status} {not_ready}"
    return {
        "title": _("Listings"),
        "summary": summary,
        "url": reverse("listings:seller-listings", kwargs={"slug": shop.slug}),
        "action": _("Manage listings"),
    }


def stock_section(shop) -> dict | None:
    alerts = Variant.objects.filter(shop=shop, listing__status=Listing.Status.ACTIVE).aggregate(
        low=Count("pk", filter=Q(stock__lte=F("low_stock_threshold"), stock__gt=0)),
        out=Count("pk", filter=Q(stock=0)),
    )
    if not alerts["low"] and not alerts["out"]:
        return None
    low = ngettext(
        "%(n)d variant is running low.", "%(n)d variants are running low.", alerts["low"]
    ) % {"n": alerts["low"]}
    out = ngettext("%(n)d variant is sold out.", "%(n)d variants are sold out.", alerts["out"]) % {
        "n": alerts["out"]
    }
    return {
        "title": _("Stock alerts"),
        "summary": f"{low} {out}",
        "url": reverse("listings:seller-listings", kwargs={"slug": shop.slug}) + "?stock=low",
        "action": _("See them"),
    }


def shipping_checklist(shop) -> dict:
    return {
        "label": _("Shipping profile with rates"),
        "done": ShippingRate.objects.filter(zone__profile__shop=shop).exists(),
        "url": reverse("listings:seller-shipping-create", kwargs={"slug": shop.slug}),
        "action": _("set up shipping"),
    }


def listing_checklist(shop) -> dict:
    return {
        "label": _("First listing live"),
        "done": shop.listings.filter(status=Listing.Status.ACTIVE).exists(),
        "url": reverse("listings:seller-listing-create", kwargs={"slug": shop.slug}),
        "action": _("create a listing"),
    }
