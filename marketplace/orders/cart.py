"""Cart services: one basket across shops, for visitors (by session) and for accounts.

Every change moves the cart's ``checkout_token`` on, so a checkout page rendered before the
change can no longer place an order for contents the buyer did not review. Quantities are
checked against stock when added (a hint for the buyer); the binding check happens under
row locks in ``checkout.place_order``.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Address, Shop, User
from marketplace.core.errors import DomainError
from marketplace.listings.models import Listing, Variant
from marketplace.listings.shipping import crosses_border
from marketplace.orders.models import Cart, CartItem

MAX_QUANTITY_PER_LINE = 99
MAX_LINES = 50


# --- Finding the cart ------------------------------------------------------------------------


def open_cart_for_user(*, user: User, create: bool = True, now: datetime) -> Cart | None:
    cart = Cart.objects.filter(user=user, status=Cart.Status.OPEN).first()
    if cart is None and create:
        try:
            with transaction.atomic():
                cart = Cart.objects.create(user=user, created_at=now, updated_at=now)
        except IntegrityError:
            # Two tabs created it at once; the partial unique constraint let one win.
            cart = Cart.objects.get(user=user, status=Cart.Status.OPEN)
    return cart


def anonymous_cart(*, token: str | None) -> Cart | None:
    if not token:
        return None
    try:
        key = uuid.UUID(str(token))
    except ValueError:
        return None
    return Cart.objects.filter(token=key, user__isnull=True, status=Cart.Status.OPEN).first()


def _touch(cart: Cart, now: datetime) -> None:
    """Record a change: new checkout token, new timestamp (one UPDATE)."""
    cart.checkout_token = uuid.uuid4()
    cart.updated_at = now
    Cart.objects.filter(pk=cart.pk).update(checkout_token=cart.checkout_token, updated_at=now)


# --- Changing the cart -------------------------------------------------------------------------


def _check_buyable(variant: Variant, user: User | None) -> None:
    listing = variant.listing
    if not listing.is_public:
        raise DomainError(_("“%(title)s” is not for sale right now.") % {"title": listing.title})
    if (
        user is not None
        and user.is_authenticated
        and listing.shop.members.filter(pk=user.pk).exists()
    ):
        raise DomainError(_("You cannot buy from your own shop."))


def _check_quantity(variant: Variant, quantity: int) -> None:
    if quantity < 1:
        raise DomainError(_("Quantity: enter 1 or more."), code="quantity")
    if quantity > MAX_QUANTITY_PER_LINE:
        raise DomainError(
            _("Quantity: at most %(n)d per item.") % {"n": MAX_QUANTITY_PER_LINE}, code="quantity"
        )
    if quantity > variant.stock:
        if variant.stock == 0:
            raise DomainError(_("Sorry, this item is sold out."), code="stock")
        raise DomainError(
            ngettext("Only %(n)d left in stock.", "Only %(n)d left in stock.", variant.stock)
            % {"n": variant.stock},
            code="stock",
        )


@transaction.atomic
def add_to_cart(*, cart: Cart, variant: Variant, quantity: int, now: datetime) -> CartItem:
    """Add ``quantity`` of ``variant``; an item already in the cart gets the sum."""
    variant = Variant.objects.select_related("listing", "listing__shop").get(pk=variant.pk)
    _check_buyable(variant, cart.user)
    item = CartItem.objects.filter(cart=cart, variant=variant).first()
    wanted = quantity + (item.quantity if item else 0)
    _check_quantity(variant, wanted)
    if item is None:
        if cart.items.count() >= MAX_LINES:
            raise DomainError(_("A cart holds at most %(n)d items.") % {"n": MAX_LINES})
        item = CartItem.objects.create(cart=cart, variant=variant, quantity=wanted, added_at=now)
    else:
        item.quantity = wanted
        item.save(update_fields=["quantity"])
    _touch(cart, now)
    return item


@transaction.atomic
def set_quantity(*, cart: Cart, item: CartItem, quantity: int, now: datetime) -> CartItem | None:
    """Change a line's quantity; 0 removes it."""
    if item.cart_id != cart.pk:
        raise DomainError(_("That item is not in your cart."))
    if quantity == 0:
        remove_item(cart=cart, item=item, now=now)
        return None
    variant = Variant.objects.select_related("listing", "listing__shop").get(pk=item.variant_id)
    _check_quantity(variant, quantity)
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    _touch(cart, now)
    return item


@transaction.atomic
def remove_item(*, cart: Cart, item: CartItem, now: datetime) -> None:
    CartItem.objects.filter(pk=item.pk, cart=cart).delete()
    _touch(cart, now)


@transaction.atomic
def set_destination(*, cart: Cart, country: str, now: datetime) -> None:
    cart.destination_country = (country or "").upper()
    cart.save(update_fields=["destination_country"])
    _touch(cart, now)


@transaction.atomic
def set_shipping_address(*, cart: Cart, address: Address, now: datetime) -> None:
    if cart.user_id is None or address.user_id != cart.user_id:
        raise DomainError(_("Choose one of your own addresses."))
    cart.shipping_address = address
    cart.destination_country = address.country.code
    cart.save(update_fields=["shipping_address", "destination_country"])
    _touch(cart, now)


@transaction.atomic
def choose_shipping(*, cart: Cart, shop: Shop, service_level: str, now: datetime) -> None:
    choices = dict(cart.shipping_choices or {})
    choices[str(shop.pk)] = service_level
    cart.shipping_choices = choices
    cart.save(update_fields=["shipping_choices"])
    _touch(cart, now)


@transaction.atomic
def merge_carts(*, source: Cart, user: User, now: datetime) -> Cart:
    """Move an anonymous cart into ``user``'s open cart (called at login).

    Quantities of the same variant add up, capped at what is in stock; items the user may
    not buy (their own shop's) are dropped. The anonymous cart is closed as MERGED, so a
    replayed login signal merges nothing twice.
    """
    target = open_cart_for_user(user=user, now=now)
    claimed = Cart.objects.filter(pk=source.pk, status=Cart.Status.OPEN, user__isnull=True).update(
        status=Cart.Status.MERGED, updated_at=now
    )
    if not claimed:
        return target
    existing = {item.variant_id: item for item in target.items.all()}
    own_shops = set(user.memberships.values_list("shop_id", flat=True))
    for item in source.items.select_related("variant", "variant__listing").order_by("pk"):
        variant = item.variant
        if variant.shop_id in own_shops or variant.listing.status != Listing.Status.ACTIVE:
            continue
        current = existing.get(variant.pk)
        quantity = min(item.quantity + (current.quantity if current else 0), variant.stock)
        quantity = min(quantity, MAX_QUANTITY_PER_LINE)
        if quantity < 1:
            continue
        if current is None:
            existing[variant.pk] = CartItem.objects.create(
                cart=target, variant=variant, quantity=quantity, added_at=item.added_at
            )
        else:
            CartItem.objects.filter(pk=current.pk).update(quantity=quantity)
    if not target.destination_country and source.destination_country:
        target.destination_country = source.destination_country
        target.save(update_fields=["destination_country"])
    _touch(target, now)
    return target


def clear_ordered_items(*, cart_id: int, quantities: dict[int, int], now: datetime) -> None:
    """Take what was ordered out of the cart (once the order is paid or awaiting transfer).

    ``quantities`` is {variant id: quantity ordered}. Items added since keep their extra.
    """
    for variant_id, quantity in sorted(quantities.items()):
        CartItem.objects.filter(
            cart_id=cart_id, variant_id=variant_id, quantity__gt=quantity
        ).update(quantity=F("quantity") - quantity)
        CartItem.objects.filter(
            cart_id=cart_id, variant_id=variant_id, quantity__lte=quantity
        ).delete()
    Cart.objects.filter(pk=cart_id).update(checkout_token=uuid.uuid4(), updated_at=now)


# --- Reading the cart ------------------------------------------------------------------------


@dataclass
class CartLine:
    item: CartItem
    variant: Variant
    quantity: int
    problems: list[str] = field(default_factory=list)
    ships: bool = True

    @property
    def line_total(self):
        return self.variant.price * self.quantity

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ShopGroup:
    shop: Shop
    lines: list[CartLine] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.shop.currency

    @property
    def subtotal(self):
        return sum((line.line_total for line in self.lines), start=0)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)


@dataclass
class CartContents:
    cart: Cart
    destination: str
    groups: list[ShopGroup]

    @property
    def count(self) -> int:
        return sum(group.quantity for group in self.groups)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def ok(self) -> bool:
        return bool(self.groups) and all(group.ok for group in self.groups)

    def lines(self) -> list[CartLine]:
        return [line for group in self.groups for line in group.lines]


def cart_items(cart: Cart):
    """The cart's items with everything the cart and checkout pages show: one query."""
    from marketplace.listings.shipping import SHIPPING_PREFETCH

    return (
        cart.items.select_related(
            "variant",
            "variant__listing",
            "variant__listing__shop",
            "variant__listing__cover_image",
            "variant__listing__shipping_profile",
            "variant__listing__shipping_profile__shop",
        )
        .prefetch_related(
            _profile_prefetch(SHIPPING_PREFETCH),
        )
        .order_by("added_at", "pk")
    )


def _profile_prefetch(prefetch):
    from django.db.models import Prefetch

    return Prefetch(
        "variant__listing__shipping_profile__zones",
        queryset=prefetch.queryset,
    )


def read_cart(cart: Cart, *, destination: str = "", items=None) -> CartContents:
    """The cart grouped by shop, each line flagged with what stops it from being ordered."""
    from marketplace.listings.shipping import listing_shipping_options

    destination = (destination or cart.destination_country or "").upper()
    groups: OrderedDict[int, ShopGroup] = OrderedDict()
    for item in items if items is not None else cart_items(cart):
        variant = item.variant
        listing = variant.listing
        shop = listing.shop
        line = CartLine(item=item, variant=variant, quantity=item.quantity)
        if not listing.is_public:
            line.problems.append(_("No longer for sale: remove it to continue."))
        elif variant.stock == 0:
            line.problems.append(_("Sold out: remove it to continue."))
        elif item.quantity > variant.stock:
            line.problems.append(
                ngettext(
                    "Only %(n)d left: lower the quantity.",
                    "Only %(n)d left: lower the quantity.",
                    variant.stock,
                )
                % {"n": variant.stock}
            )
        if destination and not listing_shipping_options(listing, destination, item.quantity):
            line.ships = False
            if crosses_border(listing, destination) and not listing.export_ready:
                reason = _("The seller cannot ship this item abroad yet.")
            else:
                reason = _("Does not ship to %(country)s.") % {
                    "country": _country_name(destination)
                }
            line.problems.append(reason)
        groups.setdefault(shop.pk, ShopGroup(shop=shop)).lines.append(line)
    return CartContents(cart=cart, destination=destination, groups=list(groups.values()))


def _country_name(code: str) -> str:
    from django_countries import countries

    return str(countries.name(code) or code)


def cart_count(cart: Cart | None) -> int:
    if cart is None:
        return 0
    from django.db.models import Sum

    return cart.items.aggregate(n=Sum("quantity"))["n"] or 0
