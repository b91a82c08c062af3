"""Public catalog pages: categories, search, listing, shop; the buyer's currency and country."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Shop, ShopMembership
from marketplace.core.http import next_or
from marketplace.listings import buyer, fragments
from marketplace.listings.catalog import (
    BrowseQuery,
    browse,
    category_tree,
    load_cards,
    origin_name,
)
from marketplace.listings.extensions import LISTING_ACTIONS
from marketplace.listings.forms import SORT_CHOICES, BrowseForm, PreferencesForm
from marketplace.listings.models import Listing
from marketplace.listings.shipping import crosses_border, shipping_options


def _browse_query(request: HttpRequest, form: BrowseForm, **fixed) -> BrowseQuery:
    form.is_valid()  # invalid fields are left out of cleaned_data and ignored
    data = form.cleaned_data
    country = buyer.buyer_country(request)
    text = " ".join((data.get("q") or "").split())
    shop_id = fixed.get("shop_id")
    if shop_id is None and data.get("shop"):
        # An unknown shop filters everything out rather than being silently ignored.
        shop_id = (
            Shop.objects.filter(slug=data["shop"], status=Shop.Status.APPROVED)
            .values_list("pk", flat=True)
            .first()
        ) or -1
    return BrowseQuery(
        text=text,
        category_id=fixed.get("category_id"),
        min_price=data.get("min_price"),
        max_price=data.get("max_price"),
        origin=data.get("origin") or "",
        shop_id=shop_id,
        ships_to=country if data.get("ships") and country else "",
        sort=data.get("sort") or ("relevance" if text else "newest"),
        page=data.get("page") or 1,
        currency=buyer.display_currency(request),
    )


def _results(request: HttpRequest, form: BrowseForm, query: BrowseQuery, **extra) -> dict:
    """The page's context with ``results``: the facets, cards and pagination as one fragment.

    The fragment's HTML depends on the URL (filters, page, sort), the language, the display
    currency and the "ship to" country; it is shared by every visitor who has those, signed in
    or not. On a hit none of the browse queries run.
    """
    country = buyer.buyer_country(request)
    context = {
        "form": form,
        "query": query,
        "querystring": _querystring(request),
        "buyer_country": country,
        "buyer_country_name": buyer.country_name(country),
        "display_currency": query.currency,
        **extra,
    }

    def render() -> str:
        result = browse(query)
        tree = category_tree()
        return fragments.render_fragment(
            "listings/_results.html",
            {
                **context,
                "request": request,
                "result": result,
                "cards": load_cards(result.ids),
                "category_facets": [
                    (tree.by_id[pk], n) for pk, n in result.facets.categories if pk in tree.by_id
                ],
                "origin_facets": [
                    (code, origin_name(code), n) for code, n in result.facets.origins
                ],
                "shop_facets": result.facets.shops,
                "sort_choices": SORT_CHOICES if query.text else SORT_CHOICES[1:],
            },
        )

    parts = (request.get_full_path(), query.currency, country)
    context["results"] = fragments.cached_fragment(request, "results", parts, render)
    return context


def _querystring(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
def category_index(request: HttpRequest) -> HttpResponse:
    tree = category_tree()
    sections = [(root, tree.children.get(root.pk, [])) for root in tree.roots]
    return render(request, "listings/category_index.html", {"sections": sections})


@require_GET
def category(request: HttpRequest, path: str) -> HttpResponse:
    tree = category_tree()
    node = tree.by_path.get(path.strip("/"))
    if node is None:
        raise Http404("No such category.")
    form = BrowseForm(request.GET)
    query = _browse_query(request, form, category_id=node.pk)
    context = _results(
        request,
        form,
        query,
        category=node,
        ancestors=tree.ancestors(node),
        children=tree.children.get(node.pk, []),
        facet_category_links=True,
    )
    return fragments.mark_response(request, render(request, "listings/category.html", context))


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    tree = category_tree()
    form = BrowseForm(request.GET)
    form.is_valid()
    path = (form.cleaned_data.get("category") or "").strip("/")
    node = tree.by_path.get(path) if path else None
    query = _browse_query(request, form, category_id=node.pk if node else None)
    context = _results(request, form, query, category=node)
    return fragments.mark_response(request, render(request, "listings/search.html", context))


def _visible_listing(request: HttpRequest, pk: int) -> tuple[Listing, bool]:
    """The listing if buyers may see it, or if the user is a member of its shop (preview)."""
    listing = get_object_or_404(
        Listing.objects.select_related(
            "shop", "category", "shipping_profile__shop"
        ).prefetch_related("variants", "images", "shipping_profile__zones__rates"),
        pk=pk,
    )
    if listing.is_public:
        return listing, False
    if (
        request.user.is_authenticated
        and ShopMembership.objects.filter(shop_id=listing.shop_id, user=request.user).exists()
    ):
        return listing, True
    raise Http404("No such listing.")


@require_GET
def listing_detail(request: HttpRequest, pk: int, slug: str = "") -> HttpResponse:
    listing, preview = _visible_listing(request, pk)
    if slug != listing.slug:
        return HttpResponseRedirect(listing.get_absolute_url(), status=301)
    tree = category_tree()
    country = buyer.buyer_country(request)
    currency = buyer.display_currency(request)
    options = []
    # Abroad only once the customs data is complete (export_ready); at home always.
    can_ship = not crosses_border(listing, country) or listing.export_ready
    if listing.shipping_profile is not None and country and can_ship:
        options = shipping_options(listing.shipping_profile, country, 1)
    variants = list(listing.variants.all())
    category = tree.by_id.get(listing.category_id, listing.category)
    return render(
        request,
        "listings/listing.html",
        {
            "listing": listing,
            "preview": preview,
            "variants": variants,
            "images": list(listing.images.all()),
            "category": category,
            "ancestors": [*tree.ancestors(category), category],
            "shipping_options": options,
            "buyer_country": country,
            "buyer_country_name": buyer.country_name(country),
            "ships_abroad_blocked": bool(
                country and crosses_border(listing, country) and not listing.export_ready
            ),
            "display_currency": currency,
            "any_in_stock": any(v.stock > 0 for v in variants),
            "listing_actions": LISTING_ACTIONS,
        },
    )


@require_GET
def listing_short(request: HttpRequest, pk: int) -> HttpResponse:
    listing, _preview = _visible_listing(request, pk)
    return redirect(listing.get_absolute_url(), permanent=True)


@require_GET
def shop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    shop = get_object_or_404(Shop, slug=slug, status=Shop.Status.APPROVED)
    form = BrowseForm(request.GET)
    form.is_valid()
    tree = category_tree()
    path = (form.cleaned_data.get("category") or "").strip("/")
    node = tree.by_path.get(path) if path else None
    query = _browse_query(request, form, shop_id=shop.pk, category_id=node.pk if node else None)
    context = _results(request, form, query, shop=shop, category=node)
    return fragments.mark_response(request, render(request, "listings/shop.html", context))


def preferences(request: HttpRequest) -> HttpResponse:
    """The buyer's display currency and "ship to" country (a page, and the header's form)."""
    target = next_or(request, "/")
    if request.method != "POST":
        form = PreferencesForm(
            initial={
                "currency": buyer.display_currency(request),
                "country": buyer.buyer_country(request),
                "next": target,
            }
        )
        return render(request, "listings/preferences.html", {"form": form})
    form = PreferencesForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        buyer.set_preferences(
            request=request,
            currency=data["currency"] or None,
            country=data["country"] if "country" in request.POST else None,
        )
    else:
        messages.error(request, _("Choose a currency and a country from the lists."))
    return HttpResponseRedirect(target)
