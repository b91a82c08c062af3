"""The sellers' ledger: sales, commission, refunds and payouts, per shop, in its currency.

Entries are only ever added. Each carries a unique ``key`` naming the business fact it books
("sale:<shop order>", "refund:<refund>", "payout:<payout>"), so a service or task that runs
twice books nothing twice. A shop's balance is the sum of its entries.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Shop, User
from marketplace.core.errors import DomainError
from marketplace.core.money import minor_units, quantize
from marketplace.orders.models import LedgerEntry, Payout, Refund, ShopOrder


def _book(**values) -> LedgerEntry:
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(**values)
    except IntegrityError:
        # Already booked (a retried task, a replayed webhook): the first booking stands.
        return LedgerEntry.objects.get(key=values["key"])


def commission_for(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    return quantize(amount * rate, currency)


def book_sale(*, shop_order: ShopOrder, now: datetime) -> None:
    """The parcel is paid: the seller earns goods + shipping, less the platform commission.

    Duty, import tax and customs fees collected at checkout are the platform's to remit to
    the destination's customs; they never touch the seller's balance.
    """
    currency = shop_order.shop_currency
    gross = shop_order.goods_shop + shop_order.shipping_shop
    reference = shop_order.order.number
    _book(
        shop_id=shop_order.shop_id,
        kind=LedgerEntry.Kind.SALE,
        amount=quantize(gross, currency),
        currency=currency,
        shop_order=shop_order,
        description=_("Sale %(order)s") % {"order": reference},
        key=f"sale:{shop_order.pk}",
        created_at=now,
    )
    _book(
        shop_id=shop_order.shop_id,
        kind=LedgerEntry.Kind.COMMISSION,
        amount=-commission_for(gross, shop_order.commission_rate, currency),
        currency=currency,
        shop_order=shop_order,
        description=_("Commission %(rate)s %% on %(order)s")
        % {"rate": format((shop_order.commission_rate * 100).normalize(), "f"), "order": reference},
        key=f"commission:{shop_order.pk}",
        created_at=now,
    )


def book_refund(*, refund: Refund, shop_order: ShopOrder, final: bool, now: datetime) -> None:
    """Reverse the refunded share of a sale and the commission taken on it.

    The last refund of a parcel returns exactly the commission not yet returned, so a
    fully refunded parcel nets to zero on the seller's balance, whatever the rounding.
    """
    currency = shop_order.shop_currency
    taken = -(
        LedgerEntry.objects.filter(key=f"commission:{shop_order.pk}").aggregate(
            total=Sum("amount")
        )["total"]
        or Decimal(0)
    )
    returned_before = LedgerEntry.objects.filter(
        shop_order=shop_order, kind=LedgerEntry.Kind.COMMISSION, amount__gt=0
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if final:
        commission_back = taken - returned_before
    else:
        commission_back = min(
            commission_for(refund.amount_shop, shop_order.commission_rate, currency),
            taken - returned_before,
        )
    Refund.objects.filter(pk=refund.pk).update(commission_returned=commission_back)
    reference = shop_order.order.number
    _book(
        shop_id=shop_order.shop_id,
        kind=LedgerEntry.Kind.REFUND,
        amount=-refund.amount_shop,
        currency=currency,
        shop_order=shop_order,
        refund=refund,
        description=_("Refund on %(order)s") % {"order": reference},
        key=f"refund:{refund.pk}",
        created_at=now,
    )
    if commission_back:
        _book(
            shop_id=shop_order.shop_id,
            kind=LedgerEntry.Kind.COMMISSION,
            amount=commission_back,
            currency=currency,
            shop_order=shop_order,
            refund=refund,
            description=_("Commission returned on %(order)s") % {"order": reference},
            key=f"commission-return:{refund.pk}",
            created_at=now,
        )


@dataclass(frozen=True)
class Balance:
    currency: str
    total: Decimal
    # Earned on parcels not yet delivered (nor shipped PAYOUT_HOLD_DAYS ago): they may
    # still be cancelled or refunded, so the money is held.
    pending: Decimal
    paid_out: Decimal

    @property
    def available(self) -> Decimal:
        """What may be paid out now; negative when refunds after a payout exceed new sales
        (carried over and netted against the next sales)."""
        return self.total - self.pending


def hold_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=settings.PAYOUT_HOLD_DAYS)


def balance(shop: Shop, now: datetime | None = None) -> Balance:
    now = now or timezone.now()
    S = ShopOrder.Status
    entries = LedgerEntry.objects.filter(shop=shop)
    held = Q(shop_order__status__in=ShopOrder.BEFORE_SHIPMENT) | Q(
        shop_order__status=S.SHIPPED, shop_order__shipped_at__gt=hold_cutoff(now)
    )
    sums = entries.aggregate(
        total=Sum("amount"),
        pending=Sum("amount", filter=held),
        paid_out=Sum("amount", filter=Q(kind=LedgerEntry.Kind.PAYOUT)),
    )
    zero = quantize(0, shop.currency)
    return Balance(
        currency=shop.currency,
        total=quantize(sums["total"] or zero, shop.currency),
        pending=quantize(sums["pending"] or zero, shop.currency),
        paid_out=quantize(-(sums["paid_out"] or zero), shop.currency),
    )


def payout_problems(*, shop: Shop, amount: Decimal, reference: str) -> dict[str, str]:
    """What stops a payout, by form field (empty: it can be recorded)."""
    problems: dict[str, str] = {}
    amount = Decimal(amount)
    if amount <= 0:
        problems["amount"] = _("Amount: enter more than zero.")
    elif quantize(amount, shop.currency) != amount:
        problems["amount"] = _("Amount: %(currency)s has at most %(n)d decimal places.") % {
            "currency": shop.currency,
            "n": minor_units(shop.currency),
        }
    else:
        available = balance(shop).available
        if amount > available:
            problems["amount"] = _(
                "Amount: only %(available)s %(currency)s is available to pay out."
            ) % {"available": available, "currency": shop.currency}
    if not reference.strip():
        problems["reference"] = _("Bank reference: enter the transfer's reference.")
    elif Payout.objects.filter(shop=shop, reference=reference.strip()).exists():
        problems["reference"] = _(
            "Bank reference: a payout with this reference is already recorded."
        )
    return problems


@transaction.atomic
def record_payout(
    *,
    shop: Shop,
    amount: Decimal,
    reference: str,
    paid_on: date,
    actor: User | None,
    now: datetime,
    note: str = "",
) -> Payout:
    """An admin sent money to the shop: book it and tell the owners."""
    from accounts.services import notify
    from marketplace.orders.notifications import shop_recipients

    # One payout at a time per shop: the available balance is read under this lock.
    Shop.objects.select_for_update().filter(pk=shop.pk).first()
    problems = payout_problems(shop=shop, amount=amount, reference=reference)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, code=field)
    amount = Decimal(amount)
    payout = Payout.objects.create(
        shop=shop,
        amount=amount,
        currency=shop.currency,
        reference=reference.strip(),
        note=note,
        paid_on=paid_on,
        recorded_by=actor,
        created_at=now,
    )
    _book(
        shop=shop,
        kind=LedgerEntry.Kind.PAYOUT,
        amount=-amount,
        currency=shop.currency,
        payout=payout,
        description=_("Payout %(reference)s") % {"reference": payout.reference},
        key=f"payout:{payout.pk}",
        created_at=now,
    )
    url = reverse("orders:seller-balance", args=[shop.slug])
    for user in shop_recipients(shop, owners_only=True):
        notify(
            user=user,
            kind="payout_recorded",
            context={
                "shop_name": shop.display_name,
                "amount": str(amount),
                "currency": shop.currency,
                "reference": payout.reference,
                "paid_on": paid_on.isoformat(),
                "balance_url": url,
            },
            url=url,
            dedupe_key=f"payout:{payout.pk}",
        )
    return payout


def month_bounds(shop: Shop, year: int, month: int) -> tuple[datetime, datetime]:
    """The month in the shop's own time zone: a statement is a business document."""
    zone = ZoneInfo(shop.time_zone or "UTC")
    start = datetime.combine(date(year, month, 1), time.min, tzinfo=zone)
    end_year, end_month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = datetime.combine(date(end_year, end_month, 1), time.min, tzinfo=zone)
    return start, end


def monthly_statement_csv(*, shop: Shop, year: int, month: int) -> str:
    """The month's entries with an opening and closing balance, as CSV."""
    start, end = month_bounds(shop, year, month)
    zone = ZoneInfo(shop.time_zone or "UTC")
    opening = LedgerEntry.objects.filter(shop=shop, created_at__lt=start).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
    rows = (
        LedgerEntry.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end)
        .select_related("shop_order__order")
        .order_by("created_at", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "kind", "order", "description", "amount", "currency", "balance"])
    running = quantize(opening, shop.currency)
    writer.writerow(
        [start.date().isoformat(), "opening", "", _("Opening balance"), "", shop.currency, running]
    )
    for entry in rows:
        running += entry.amount
        writer.writerow(
            [
                entry.created_at.astimezone(zone).date().isoformat(),
                entry.kind,
                entry.shop_order.order.number if entry.shop_order_id else "",
                entry.description,
                quantize(entry.amount, shop.currency),
                entry.currency,
                quantize(running, shop.currency),
            ]
        )
    last_day = end.date() - timedelta(days=1)
    writer.writerow(
        [
            last_day.isoformat(),
            "closing",
            "",
            _("Closing balance"),
            "",
            shop.currency,
            quantize(running, shop.currency),
        ]
    )
    return out.getvalue()
