"""Checkout: price a cart per consignment, and place the order.

Pricing (``price_checkout``) is read-only and used by the checkout page and, again, by
``place_order``: per shop a shipping option from the shop's rates, per shop a customs quote,
every amount converted into the buyer's presentment currency and rounded there **once per
shop order** (lines, shipping, duty, tax, fees), the order total being their exact sum.

``place_order`` is the one write: under the cart's row lock (a double submit waits, then
finds the order the first one made) and the variants' row locks taken in pk order in one
query, it re-checks stock and prices, decrements stock with a guarded UPDATE (the database
check ``stock >= 0`` is the last backstop), and creates the order, one shop order per shop
and the line snapshots, with an audit event.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Address, Shop, User
from customs.fx import FxRate, RateUnavailable
from customs.fx import rate as fx_rate
from customs.rulebook import crosses_customs_border
from marketplace.core.errors import DomainError
from marketplace.core.money import ZERO, quantize
from marketplace.listings.models import Variant
from marketplace.listings.shipping import shipping_options
from marketplace.orders import customs_bridge, events
from marketplace.orders.cart import CartContents, ShopGroup, cart_items, read_cart
from marketplace.orders.locks import HOOKS, cap_lock_wait, lock_one, lock_variants
from marketplace.orders.models import (
    Cart,
    Order,
    OrderEvent,
    OrderLine,
    ShopOrder,
    new_order_number,
)
from marketplace.orders.services.paperwork import hold_shop_order

logger = logging.getLogger(__name__)

PAYMENT_METHODS = ("card", "bank_transfer")


class OutOfStock(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="out_of_stock")


class CheckoutChanged(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="changed")


def payment_window(method: str) -> timedelta:
    """How long an unpaid order holds its stock, by payment method."""
    minutes = settings.ORDERS_PAYMENT_WINDOW_MINUTES.get(method)
    if minutes is None:
        minutes = {"card": 30, "bank_transfer": 48 * 60}.get(method, 30)
    return timedelta(minutes=minutes)


# --- Pricing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShippingOption:
    service_level: str
    label: str
    price: Decimal  # shop currency
    min_days: int
    max_days: int


@dataclass
class ConsignmentAmounts:
    """A shop order's amounts in the presentment currency, each rounded once."""

    lines: list[Decimal]
    goods: Decimal
    shipping: Decimal
    duty: Decimal
    tax: Decimal
    fees: Decimal
    due_on_delivery: Decimal

    @property
    def total(self) -> Decimal:
        return self.goods + self.shipping + self.duty + self.tax + self.fees


def consignment_amounts(
    *,
    currency: str,
    lines: list[tuple[Decimal, int]],
    shipping: Decimal,
    rate: Decimal,
    duty: Decimal = ZERO,
    tax: Decimal = ZERO,
    fees: Decimal = ZERO,
    customs_rate: Decimal = Decimal(1),
    collected: bool = False,
) -> ConsignmentAmounts:
    """Convert one consignment into ``currency`` and round each amount to its minor unit.

    ``lines`` are (unit price, quantity) and ``shipping`` is in the shop's currency
    (``rate`` converts them); ``duty``, ``tax`` and ``fees`` are in the customs currency
    (``customs_rate``). A unit price is converted and rounded once, then multiplied: the
    same figure customs is given as the declared value, so the goods the buyer pays and the
    goods customs taxes are the same amount. Collected charges are part of the total; the
    others are an estimate due on delivery. Rounding per amount (half-up) and then summing
    makes every total an exact sum of what is shown.
    """
    line_amounts = [quantize(unit * rate, currency) * quantity for unit, quantity in lines]
    goods = sum(line_amounts, start=quantize(0, currency))
    converted = [quantize(amount * customs_rate, currency) for amount in (duty, tax, fees)]
    nothing = quantize(0, currency)
    if collected:
        duty_p, tax_p, fees_p = converted
        due = nothing
    else:
        duty_p = tax_p = fees_p = nothing
        due = quantize((duty + tax + fees) * customs_rate, currency)
    return ConsignmentAmounts(
        lines=line_amounts,
        goods=goods,
        shipping=quantize(shipping * rate, currency),
        duty=duty_p,
        tax=tax_p,
        fees=fees_p,
        due_on_delivery=due,
    )


@dataclass
class ConsignmentPrice:
    """One shop's part of the checkout: shipping, customs, amounts, and what blocks it."""

    group: ShopGroup
    destination: str
    international: bool
    options: list[ShippingOption] = field(default_factory=list)
    shipping: ShippingOption | None = None
    fx: FxRate | None = None
    customs: customs_bridge.ConsignmentQuote | None = None
    amounts: ConsignmentAmounts | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def shop(self) -> Shop:
        return self.group.shop

    @property
    def goods_shop(self) -> Decimal:
        return quantize(
            sum((line.line_total for line in self.group.lines), start=ZERO), self.shop.currency
        )

    @property
    def shipping_shop(self) -> Decimal:
        return self.shipping.price if self.shipping else ZERO

    @property
    def ok(self) -> bool:
        return not self.problems and self.group.ok and self.amounts is not None

    def lines_with_amounts(self):
        amounts = self.amounts.lines if self.amounts else [None] * len(self.group.lines)
        return list(zip(self.group.lines, amounts, strict=True))


@dataclass
class CheckoutPrice:
    currency: str
    destination: str
    on: date
    consignments: list[ConsignmentPrice]
    problems: list[str] = field(default_factory=list)

    def _sum(self, name: str) -> Decimal:
        total = quantize(0, self.currency)
        for consignment in self.consignments:
            if consignment.amounts is not None:
                total += getattr(consignment.amounts, name)
        return total

    @property
    def goods(self) -> Decimal:
        return self._sum("goods")

    @property
    def shipping(self) -> Decimal:
        return self._sum("shipping")

    @property
    def duty(self) -> Decimal:
        return self._sum("duty")

    @property
    def tax(self) -> Decimal:
        return self._sum("tax")

    @property
    def fees(self) -> Decimal:
        return self._sum("fees")

    @property
    def due_on_delivery(self) -> Decimal:
        return self._sum("due_on_delivery")

    @property
    def total(self) -> Decimal:
        return self._sum("total")

    @property
    def ok(self) -> bool:
        return (
            bool(self.consignments)
            and not self.problems
            and all(consignment.ok for consignment in self.consignments)
        )

    def all_problems(self) -> list[str]:
        found = list(self.problems)
        for consignment in self.consignments:
            found += [f"{consignment.shop.display_name}: {p}" for p in consignment.problems]
            for line in consignment.group.lines:
                found += [f"{line.variant.listing.title}: {p}" for p in line.problems]
        return found

    def fx_rates(self) -> list[FxRate]:
        seen: dict[str, FxRate] = {}
        for consignment in self.consignments:
            fx = consignment.fx
            if fx is not None and fx.from_currency != fx.to_currency:
                seen.setdefault(fx.from_currency, fx)
        return list(seen.values())


def shop_shipping_options(group: ShopGroup, destination: str) -> list[ShippingOption]:
    """The services that can carry all of a shop's items to ``destination``.

    Items sharing a shipping profile ship as one parcel priced first item + additional
    items; several profiles add up. Only service levels every profile offers are options.
    """
    by_profile: OrderedDict[int, list] = OrderedDict()
    for line in group.lines:
        profile = line.variant.listing.shipping_profile
        if profile is None:
            return []
        by_profile.setdefault(profile.pk, [profile, 0])[1] += line.quantity
    levels: set[str] | None = None
    quotes: dict[str, list] = {}
    for profile, quantity in by_profile.values():
        offered = {q.service_level: q for q in shipping_options(profile, destination, quantity)}
        levels = set(offered) if levels is None else levels & set(offered)
        for level, quote in offered.items():
            quotes.setdefault(level, []).append(quote)
    options = [
        ShippingOption(
            service_level=level,
            label=quotes[level][0].service_label,
            price=quantize(sum((q.price for q in quotes[level]), start=ZERO), group.currency),
            min_days=max(q.delivery_min_days for q in quotes[level]),
            max_days=max(q.delivery_max_days for q in quotes[level]),
        )
        for level in levels or ()
    ]
    options.sort(key=lambda o: (o.price, o.max_days, o.service_level))
    return options


def _rate(src: str, dst: str, on: date) -> FxRate:
    return fx_rate(src, dst, on=on)


def price_checkout(
    contents: CartContents,
    *,
    currency: str,
    address: Address | None,
    choices: dict[str, str],
    on: date,
    buyer: User | None = None,
) -> CheckoutPrice:
    """Price every consignment of the cart for ``address`` in ``currency``."""
    destination = address.country.code if address is not None else contents.destination
    price = CheckoutPrice(currency=currency, destination=destination, on=on, consignments=[])
    if contents.is_empty:
        price.problems.append(_("Your cart is empty."))
        return price
    if not destination:
        price.problems.append(_("Choose where the order goes."))
    for group in contents.groups:
        shop = group.shop
        consignment = ConsignmentPrice(
            group=group,
            destination=destination,
            international=bool(destination)
            and crosses_customs_border(
                shop.country.code,
                destination,
                postcode=address.postcode if address is not None else "",
            ),
        )
        price.consignments.append(consignment)
        if not destination:
            continue
        consignment.options = shop_shipping_options(group, destination)
        if not consignment.options:
            consignment.problems.append(
                _("This shop cannot ship these items to %(country)s together.")
                % {"country": address.country.name if address else destination}
            )
            continue
        wanted = choices.get(str(shop.pk))
        consignment.shipping = next(
            (o for o in consignment.options if o.service_level == wanted), consignment.options[0]
        )
        try:
            consignment.fx = _rate(shop.currency, currency, on)
        except RateUnavailable as exc:
            consignment.problems.append(exc.message)
            continue
        duty = tax = fees = ZERO
        customs_rate = Decimal(1)
        collected = False
        if consignment.international:
            quote = customs_bridge.quote_consignment(
                shop=shop,
                lines=[(line.variant, line.quantity) for line in group.lines],
                destination=destination,
                address=address,
                shipping=consignment.shipping_shop,
                service_level=consignment.shipping.service_level,
                on=on,
                buyer=buyer,
            )
            consignment.customs = quote
            if quote.blocked:
                consignment.problems += quote.reasons or [_("This parcel cannot be sent.")]
                continue
            try:
                customs_rate = _rate(quote.currency, currency, on).value
            except RateUnavailable as exc:
                consignment.problems.append(exc.message)
                continue
            duty, tax, fees = quote.duty, quote.tax, quote.fees
            collected = quote.collected_at_checkout
        consignment.amounts = consignment_amounts(
            currency=currency,
            lines=[(line.variant.price, line.quantity) for line in group.lines],
            shipping=consignment.shipping_shop,
            rate=consignment.fx.value,
            duty=duty,
            tax=tax,
            fees=fees,
            customs_rate=customs_rate,
            collected=collected,
        )
    return price


def price_cart(
    cart: Cart, *, currency: str, address: Address | None, on: date, buyer: User | None = None
) -> CheckoutPrice:
    destination = address.country.code if address else cart.destination_country
    contents = read_cart(cart, destination=destination)
    return price_checkout(
        contents,
        currency=currency,
        address=address,
        choices=cart.shipping_choices or {},
        on=on,
        buyer=buyer,
    )


# --- Placing the order -------------------------------------------------------------------------


def place_order(
    *,
    buyer: User,
    cart: Cart,
    checkout_token: str | uuid.UUID,
    address: Address,
    currency: str,
    payment_method: str,
    now: datetime,
    expected_total: Decimal | None = None,
) -> tuple[Order, bool]:
    """Turn the cart into an order awaiting payment. Returns ``(order, created)``.

    The same ``checkout_token`` submitted again (a double click, a retried request, ten at
    once) returns the order the first submit made, with ``created`` False.
    """
    try:
        token = uuid.UUID(str(checkout_token))
    except ValueError:
        raise CheckoutChanged(_("This checkout page is out of date. Review it again.")) from None
    if payment_method not in PAYMENT_METHODS:
        raise DomainError(_("Payment method: choose card or bank transfer."), code="payment")
    if address.user_id != buyer.pk:
        raise DomainError(_("Choose one of your own addresses."), code="address")
    try:
        return _place_order(
            buyer=buyer,
            cart_id=cart.pk,
            token=token,
            address=address,
            currency=currency,
            payment_method=payment_method,
            now=now,
            expected_total=expected_total,
        )
    except IntegrityError:
        # The unique checkout token: a concurrent submit of the same checkout got there
        # first (only reachable when the cart lock was bypassed). Its order is the answer.
        existing = Order.objects.filter(checkout_token=token).first()
        if existing is None or existing.buyer_id != buyer.pk:
            raise
        HOOKS.count("duplicate_submit_rejected_by_constraint")
        return existing, False
    except OperationalError as exc:
        if "lock timeout" in str(exc).lower() or "canceling statement" in str(exc).lower():
            HOOKS.count("lock_timeout")
            raise DomainError(
                _("Many people are checking out these items right now. Please try again."),
                code="busy",
            ) from exc
        raise


def _place_order(
    *,
    buyer: User,
    cart_id: int,
    token: uuid.UUID,
    address: Address,
    currency: str,
    payment_method: str,
    now: datetime,
    expected_total: Decimal | None,
) -> tuple[Order, bool]:
    with transaction.atomic():
        cap_lock_wait()
        # The cart lock serialises submits of one checkout: the second waits for the first
        # to commit and then finds its order below.
        cart = lock_one(Cart.objects.all(), cart_id)
        if cart.user_id != buyer.pk:
            raise DomainError(_("That is not your cart."))
        if not HOOKS.skip_locks:
            existing = Order.objects.filter(checkout_token=token).first()
            if existing is not None:
                if existing.buyer_id != buyer.pk:
                    raise CheckoutChanged(_("This checkout page is out of date."))
                return existing, False
        if cart.checkout_token != token:
            raise CheckoutChanged(
                _("Your cart changed since you reviewed it. Check the new total and try again.")
            )
        # Unpaid orders hold stock: a buyer may only have a few at once. Read under the
        # cart lock, which every checkout of this buyer takes first.
        limit = settings.ORDERS_MAX_UNPAID_PER_BUYER
        unpaid = Order.objects.filter(buyer=buyer, status=Order.Status.PENDING_PAYMENT).count()
        if unpaid >= limit:
            raise DomainError(
                ngettext(
                    "You already have %(n)d order awaiting payment. Pay or cancel it "
                    "before placing another.",
                    "You already have %(n)d orders awaiting payment. Pay or cancel one "
                    "before placing another.",
                    unpaid,
                )
                % {"n": unpaid},
                code="unpaid_limit",
            )
        items = list(cart_items(cart))
        contents = read_cart(cart, destination=address.country.code, items=items)
        price = price_checkout(
            contents,
            currency=currency,
            address=address,
            choices=cart.shipping_choices or {},
            on=now.date(),
            buyer=buyer,
        )
        if not price.ok:
            problems = price.all_problems() or [_("This order cannot be placed.")]
            if any(line.variant.stock < line.quantity for line in contents.lines()):
                raise OutOfStock(problems[0])
            raise DomainError(problems[0])
        if expected_total is not None and price.total != expected_total:
            raise CheckoutChanged(
                _("The total changed to %(total)s %(currency)s since you reviewed it.")
                % {"total": price.total, "currency": currency}
            )

        # Denied-party screening before the stock locks: it takes milliseconds.
        number = new_order_number()
        holds = customs_bridge.screen_consignments(
            order_number=number, buyer=buyer, address=address, consignments=price.consignments
        )

        # Binding stock check: all the cart's variants, locked in pk order in one query.
        variants = lock_variants([item.variant_id for item in items])
        if HOOKS.pause_after_check:
            import time

            time.sleep(HOOKS.pause_after_check)
        for line in contents.lines():
            locked = variants[line.variant.pk]
            if locked.stock < line.quantity:
                raise OutOfStock(
                    _("Sorry, “%(title)s” sold out while you were checking out (%(n)d left).")
                    % {"title": locked.listing.title, "n": locked.stock}
                )
            if locked.price != line.variant.price:
                raise CheckoutChanged(
                    _("The price of “%(title)s” changed. Review your order again.")
                    % {"title": locked.listing.title}
                )
        for line in contents.lines():
            _take_stock(variants[line.variant.pk], line.quantity)

        order = _create_order(
            number=number,
            holds=holds,
            buyer=buyer,
            cart=cart,
            token=token,
            address=address,
            price=price,
            payment_method=payment_method,
            now=now,
        )
        return order, True


def _take_stock(variant: Variant, quantity: int) -> None:
    if HOOKS.unguarded_stock_write:
        # Control only: the read-modify-write that loses updates without a lock.
        Variant.objects.filter(pk=variant.pk).update(stock=variant.stock - quantity)
        return
    taken = Variant.objects.filter(pk=variant.pk, stock__gte=quantity).update(
        stock=F("stock") - quantity
    )
    if taken != 1:
        # Only reachable when the lock above was bypassed: the guarded UPDATE is the backstop.
        HOOKS.count("stock_backstop")
        raise OutOfStock(
            _("Sorry, “%(title)s” sold out while you were checking out.")
            % {"title": variant.listing.title}
        )


def _create_order(
    *,
    number: str,
    holds: dict[int, str],
    buyer: User,
    cart: Cart,
    token: uuid.UUID,
    address: Address,
    price: CheckoutPrice,
    payment_method: str,
    now: datetime,
) -> Order:
    fx_dates = [fx.rate_date for fx in price.fx_rates() if fx.rate_date]
    order = Order(
        number=number,
        buyer=buyer,
        checkout_token=token,
        currency=price.currency,
        goods_total=price.goods,
        shipping_total=price.shipping,
        duty_total=price.duty,
        tax_total=price.tax,
        fees_total=price.fees,
        total=price.total,
        due_on_delivery=price.due_on_delivery,
        fx_date=min(fx_dates) if fx_dates else None,
        fx_source=price.fx_rates()[0].kind if price.fx_rates() else "",
        buyer_email=buyer.email,
        buyer_language=buyer.preferred_language,
        ship_name=address.name,
        ship_company=address.company,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postcode=address.postcode,
        ship_country=address.country.code,
        ship_phone=str(address.phone or ""),
        ship_latin=address.latin,
        ship_tax_reference=address.tax_reference,
        payment_method=payment_method,
        created_at=now,
        expires_at=now + payment_window(payment_method),
    )
    order.cart = cart
    order.save()
    shop_orders = []
    for consignment in price.consignments:
        shop_orders.append(_shop_order(order, consignment, now))
    ShopOrder.objects.bulk_create(shop_orders)
    lines = []
    for shop_order, consignment in zip(shop_orders, price.consignments, strict=True):
        for line, presentment in consignment.lines_with_amounts():
            variant, listing = line.variant, line.variant.listing
            lines.append(
                OrderLine(
                    shop_order=shop_order,
                    variant=variant,
                    title=listing.title,
                    options_label=variant.options_label[:200],
                    sku=variant.sku,
                    hs_code=listing.hs_code,
                    customs_description=listing.customs_description,
                    origin_country=listing.origin_country,
                    material=listing.material,
                    net_weight_kg=variant.net_weight_kg,
                    quantity=line.quantity,
                    unit_price=variant.price,
                    line_total=quantize(variant.price * line.quantity, listing.currency),
                    line_total_presentment=presentment,
                )
            )
    OrderLine.objects.bulk_create(lines)
    events.record(
        order=order,
        kind=OrderEvent.Kind.PLACED,
        actor=buyer,
        to_status=order.status,
        now=now,
        data={"total": str(order.total), "currency": order.currency},
    )
    for shop_order in shop_orders:
        if shop_order.shop_id in holds:
            hold_shop_order(shop_order=shop_order, reason=holds[shop_order.shop_id], now=now)
    return order


def _shop_order(order: Order, consignment: ConsignmentPrice, now: datetime) -> ShopOrder:
    shop = consignment.shop
    amounts = consignment.amounts
    quote = consignment.customs
    shipping = consignment.shipping
    shop_order = ShopOrder(
        order=order,
        shop=shop,
        shop_currency=shop.currency,
        goods_shop=consignment.goods_shop,
        shipping_shop=consignment.shipping_shop,
        commission_rate=shop.effective_commission_rate,
        fx_rate=consignment.fx.value,
        goods=amounts.goods,
        shipping=amounts.shipping,
        duty=amounts.duty,
        tax=amounts.tax,
        fees=amounts.fees,
        total=amounts.total,
        due_on_delivery=amounts.due_on_delivery,
        service_level=shipping.service_level,
        service_label=shipping.label,
        delivery_min_days=shipping.min_days,
        delivery_max_days=shipping.max_days,
        international=consignment.international,
        paperwork_status=ShopOrder.Paperwork.WAITING
        if consignment.international
        else ShopOrder.Paperwork.NOT_NEEDED,
        created_at=now,
    )
    if quote is not None:
        shop_order.customs_quote_id = quote.quote_id
        shop_order.incoterm = quote.incoterm
        shop_order.customs_form = quote.form
        shop_order.customs_currency = quote.currency
        shop_order.duty_customs = quote.duty
        shop_order.tax_customs = quote.tax
        shop_order.fees_customs = quote.fees
        shop_order.collected_at_checkout = quote.collected_at_checkout
        shop_order.quote = quote.snapshot
    return shop_order
