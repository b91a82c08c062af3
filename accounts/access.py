"""One way to fetch what a request may touch. Someone else's object is a 404, never a 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from accounts.models import Address, Shop, ShopMembership


def shop_for_member(request: HttpRequest, slug: str, *, owner: bool = False) -> Shop:
    """The shop ``slug`` if the signed-in user is a member (an owner, with ``owner=True``).

    A stranger gets 404, so shop slugs cannot be probed; a staff member asking for an
    owner's action gets 403, because they know the shop exists.
    """
    membership = (
        ShopMembership.objects.select_related("shop")
        .filter(shop__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404("No such shop.")
    if owner and membership.role != ShopMembership.Role.OWNER:
        raise PermissionDenied("Only the shop's owners can do this.")
    shop = membership.shop
    shop.membership = membership
    return shop


def address_for_user(request: HttpRequest, pk: int) -> Address:
    return get_object_or_404(Address, pk=pk, user=request.user)
