from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services
from accounts.access import address_for_user, shop_for_member
from accounts.forms import (
    AddressForm,
    ExportProfileForm,
    InviteMemberForm,
    ProfileForm,
    ShopApplicationForm,
)
from accounts.models import Address, Notification, Shop, ShopInvitation, ShopMembership
from accounts.navigation import dashboard_context
from marketplace.core.errors import DomainError
from marketplace.core.http import next_or


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("shop").order_by("shop__display_name")
    return render(
        request,
        "accounts/overview.html",
        {
            "memberships": memberships,
            "notifications": request.user.notifications.all()[:5],
            "default_address": request.user.addresses.filter(is_default_shipping=True).first(),
        },
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("accounts:profile")
        # The profile language wins over an earlier choice made in the language switcher.
        response.delete_cookie("django_language")
        return response
    return render(request, "accounts/profile.html", {"form": form})


# --- Address book --------------------------------------------------------------------------


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/address_list.html", {"addresses": request.user.addresses.all()}
    )


@login_required
def address_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    address = address_for_user(request, pk) if pk else Address(user=request.user)
    initial = {"make_default": address.is_default_shipping}
    if pk is None:
        initial.update(name=request.user.name, country=request.user.country)
    form = AddressForm(request.POST or None, instance=address, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.save_address(
            user=request.user,
            address=form.save(commit=False),
            make_default=form.cleaned_data["make_default"],
        )
        messages.success(request, _("The address was saved."))
        return redirect(next_or(request, reverse("accounts:address-list")))
    return render(request, "accounts/address_form.html", {"form": form, "address": address})


@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_address(user=request.user, address=address_for_user(request, pk))
    messages.success(request, _("The address was deleted."))
    return redirect("accounts:address-list")


@login_required
@require_POST
def address_make_default(request: HttpRequest, pk: int) -> HttpResponse:
    services.set_default_address(user=request.user, address=address_for_user(request, pk))
    messages.success(request, _("Default shipping address changed."))
    return redirect("accounts:address-list")


# --- Inbox -------------------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = request.user.notifications.all()[:100]
    return render(request, "accounts/notifications.html", {"items": items})


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    services.mark_notifications_read(user=request.user, now=timezone.now())
    return redirect("accounts:notifications")


@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Notification, pk=pk, user=request.user)
    services.mark_notifications_read(user=request.user, now=timezone.now(), ids=[item.pk])
    target = item.url if url_has_allowed_host_and_scheme(item.url, None) else ""
    return redirect(target or "accounts:notifications")


# --- Selling: application, dashboard, export profile, team ---------------------------------


def seller_home(request: HttpRequest) -> HttpResponse:
    """Public pitch for visitors; the list of one's shops for a signed-in seller."""
    memberships = []
    if request.user.is_authenticated:
        memberships = request.user.memberships.select_related("shop").order_by("shop__display_name")
    return render(request, "accounts/seller_home.html", {"memberships": memberships})


@login_required
def shop_apply(request: HttpRequest) -> HttpResponse:
    form = ShopApplicationForm(
        request.POST or None,
        initial={"country": request.user.country, "email": request.user.email},
    )
    if request.method == "POST" and form.is_valid():
        shop = services.apply_for_shop(
            user=request.user, shop=form.save(commit=False), now=timezone.now()
        )
        messages.success(
            request,
            _("Thank you! %(shop)s is waiting for review. We will email you the decision.")
            % {"shop": shop.display_name},
        )
        return redirect("accounts:shop-dashboard", slug=shop.slug)
    return render(request, "accounts/shop_apply.html", {"form": form})


@login_required
def shop_application(request: HttpRequest, slug: str) -> HttpResponse:
    """The owner corrects a pending or rejected application; a rejected one is resubmitted."""
    shop = shop_for_member(request, slug, owner=True)
    if shop.status not in (Shop.Status.PENDING, Shop.Status.REJECTED):
        messages.info(request, _("This application has been decided."))
        return redirect("accounts:shop-dashboard", slug=shop.slug)
    form = ShopApplicationForm(request.POST or None, instance=shop)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                shop = form.save()
                if shop.status == Shop.Status.REJECTED:
                    services.reapply_for_shop(shop=shop, actor=request.user, now=timezone.now())
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your application was sent for review."))
            return redirect("accounts:shop-dashboard", slug=shop.slug)
    return render(request, "accounts/shop_apply.html", {"form": form, "shop": shop})


@login_required
def shop_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    return render(
        request,
        "accounts/shop_dashboard.html",
        {
            "shop": shop,
            "export_missing": shop.export_profile_missing(),
            **dashboard_context(shop),
        },
    )


@login_required
def shop_export_profile(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    form = ExportProfileForm(request.POST or None, instance=shop)
    if request.method == "POST" and form.is_valid():
        services.update_export_profile(
            shop=form.save(commit=False), actor=request.user, now=timezone.now()
        )
        messages.success(request, _("The export profile was saved."))
        return redirect("accounts:shop-dashboard", slug=shop.slug)
    return render(request, "accounts/shop_export_profile.html", {"shop": shop, "form": form})


@login_required
def shop_team(request: HttpRequest, slug: str) -> HttpResponse:
    shop = shop_for_member(request, slug)
    form = InviteMemberForm(request.POST or None)
    if request.method == "POST":
        shop = shop_for_member(request, slug, owner=True)
        if form.is_valid():
            try:
                services.invite_member(
                    shop=shop,
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    now=timezone.now(),
                )
            except DomainError as exc:
                form.add_error("email", exc.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return redirect("accounts:shop-team", slug=shop.slug)
    now = timezone.now()
    invitations = shop.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )
    return render(
        request,
        "accounts/shop_team.html",
        {
            "shop": shop,
            "form": form,
            "members": shop.memberships.select_related("user").order_by("role", "user__email"),
            "invitations": invitations,
            "is_owner": shop.membership.role == ShopMembership.Role.OWNER,
        },
    )


@login_required
@require_POST
def shop_member_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    shop = shop_for_member(request, slug, owner=True)
    membership = get_object_or_404(ShopMembership, pk=pk, shop=shop)
    try:
        services.remove_member(
            shop=shop, actor=request.user, membership=membership, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    return redirect("accounts:shop-team", slug=shop.slug)


@login_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = get_object_or_404(ShopInvitation.objects.select_related("shop"), token=token)
    if request.method == "POST":
        try:
            services.accept_invitation(invitation=invitation, user=request.user, now=timezone.now())
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("You joined %(shop)s.") % {"shop": invitation.shop.display_name}
            )
            return redirect("accounts:shop-dashboard", slug=invitation.shop.slug)
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "is_open": invitation.is_open(timezone.now())},
    )
