"""Exchange rates: ECB reference rates, conversion, and the importers.

Every rate is stored as units of a currency per 1 EUR (the ECB convention), so any cross rate
is ``rate_to / rate_from``. A date with no publication (weekend, TARGET holiday) uses the latest
earlier one. If the newest known rate is older than the date asked for (the bundled snapshot
ends before today and nobody imported since), the latest known rate is used and the returned
``FxRate`` says so (``stale``), instead of failing a checkout.

Rates are cached in-process per (kind, date): a page that converts 50 prices makes at most one
query. ``clear_cache()`` is called after every import or manual edit in this process; other
processes see changes after ``CACHE_SECONDS``.
"""

from __future__ import annotations

import calendar
import logging
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from defusedxml import ElementTree
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.models import ExchangeRate
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize

logger = logging.getLogger(__name__)

BASE = "EUR"
ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
CACHE_SECONDS = 300
# Validity of each rate source: a rate more than this many days older than the date it should
# be for is stale (the longest ECB gap is the Easter weekend: 4 days; manual central-bank
# rates are refreshed monthly). The EU customs rate is valid for its month: it must be the ECB
# rate of the penultimate Wednesday of the month before (UCC-IA art. 146), within the same
# 5-day tolerance, or a rate published for the month itself.
STALE_AFTER_DAYS = {ExchangeRate.Kind.ECB_DAILY: 5, ExchangeRate.Kind.MANUAL: 40}
Kind = ExchangeRate.Kind
# Irrevocably fixed euro conversion rates (a manual row, never stale).
FIXED_TO_EUR = frozenset({"EUR", "BGN"})


class RateUnavailable(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="rate_unavailable")


@dataclass(frozen=True)
class FxRate:
    """``value`` units of ``to_currency`` for 1 ``from_currency``."""

    from_currency: str
    to_currency: str
    value: Decimal
    rate_date: date | None
    kind: str
    stale: bool = False

    @property
    def note(self) -> str:
        if not self.stale:
            return ""
        return _("Exchange rate of %(date)s used: no newer %(kind)s rate is known yet.") % {
            "date": self.rate_date,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class _Quote:
    per_eur: Decimal
    rate_date: date
    kind: str
    # The date the rate should be for (the penultimate Wednesday for the EU monthly rate).
    wanted: date | None = None
    # The source whose validity applies (an EU monthly rate may rest on a manual one).
    source_kind: str = ""


# --- Lookup ----------------------------------------------------------------------------------

_cache: dict[tuple[str, date], tuple[float, dict[str, _Quote]]] = {}
_warned: set[tuple[str, str, date]] = set()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _table(kind: str, on: date) -> dict[str, _Quote]:
    """The latest rate on or before ``on`` of every currency of ``kind``: one query."""
    key = (kind, on)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    latest = (
        ExchangeRate.objects.filter(rate_kind=kind, currency=OuterRef("currency"), date__lte=on)
        .order_by("-date")
        .values("date")[:1]
    )
    rows = ExchangeRate.objects.filter(rate_kind=kind, date__lte=on, date=Subquery(latest))
    table = {
        currency: _Quote(rate, rate_date, kind)
        for currency, rate, rate_date in rows.values_list("currency", "rate", "date")
    }
    with _cache_lock:
        if len(_cache) > 2048:
            _cache.clear()
        _cache[key] = (now, table)
    return table


def penultimate_wednesday_of_previous_month(on: date) -> date:
    """The ECB date whose rate EU customs apply for the whole month of ``on`` (UCC-IA art. 146)."""
    first = on.replace(day=1)
    prev_last = first - timedelta(days=1)
    days = calendar.monthrange(prev_last.year, prev_last.month)[1]
    wednesdays = [
        date(prev_last.year, prev_last.month, d)
        for d in range(1, days + 1)
        if date(prev_last.year, prev_last.month, d).weekday() == calendar.WEDNESDAY
    ]
    return wednesdays[-2]


def _per_eur(currency: str, kind: str, on: date) -> _Quote:
    if currency == BASE:
        return _Quote(Decimal(1), on, kind)
    if kind == Kind.EU_CUSTOMS_MONTHLY:
        # Rows published for the month win; otherwise the ECB rate of the penultimate
        # Wednesday of the previous month is the customs rate for the whole month.
        quote = _table(Kind.EU_CUSTOMS_MONTHLY, on).get(currency)
        if quote is not None and quote.rate_date.replace(day=1) == on.replace(day=1):
            return _Quote(quote.per_eur, quote.rate_date, quote.kind, quote.rate_date)
        wednesday = penultimate_wednesday_of_previous_month(on)
        base = _per_eur(currency, Kind.ECB_DAILY, wednesday)
        return _Quote(
            base.per_eur, base.rate_date, Kind.EU_CUSTOMS_MONTHLY, wednesday, base.source_kind
        )
    quote = _table(kind, on).get(currency)
    if quote is None and kind == Kind.ECB_DAILY:
        # Currencies the ECB does not publish (NGN, KES, RWF ...) come from the manual table.
        quote = _table(Kind.MANUAL, on).get(currency)
    if quote is None:
        raise RateUnavailable(
            _("No exchange rate for %(currency)s on or before %(date)s is known.")
            % {"currency": currency, "date": on}
        )
    return _Quote(quote.per_eur, quote.rate_date, quote.kind, on, quote.kind)


def _is_stale(quote: _Quote, on: date) -> bool:
    """Past the validity of its source (see ``STALE_AFTER_DAYS``)."""
    limit = STALE_AFTER_DAYS.get(quote.source_kind or quote.kind, 5)
    return ((quote.wanted or on) - quote.rate_date).days > limit


def rate(
    from_currency: str,
    to_currency: str,
    *,
    on: date | None = None,
    kind: str = Kind.ECB_DAILY,
) -> FxRate:
    """The cross rate via EUR: units of ``to_currency`` per 1 ``from_currency``."""
    on = on or timezone.localdate()
    src, dst = from_currency.upper(), to_currency.upper()
    if src == dst:
        return FxRate(src, dst, Decimal(1), None, kind)
    a, b = _per_eur(src, kind, on), _per_eur(dst, kind, on)
    # The older of the two dates is the one that matters for staleness and for the record.
    older = min((q for cur, q in ((src, a), (dst, b)) if cur != BASE), key=lambda q: q.rate_date)
    stale = any(_is_stale(q, on) for cur, q in ((src, a), (dst, b)) if cur not in FIXED_TO_EUR)
    if stale and (src, dst, older.rate_date) not in _warned:
        # Once per pair and rate date per process: a catalog page asks for dozens of rates.
        _warned.add((src, dst, older.rate_date))
        logger.warning("stale FX: %s->%s on %s uses %s", src, dst, on, older.rate_date)
    return FxRate(src, dst, b.per_eur / a.per_eur, older.rate_date, older.kind, stale)


@dataclass(frozen=True)
class StaleSource:
    kind: str
    currency: str  # "" for the whole ECB feed
    newest: date | None
    valid_days: int


def stale_sources(on: date | None = None) -> list[StaleSource]:
    """Rate sources past their validity on ``on`` (the admin's warning): the ECB feed as a
    whole and each manual currency. One query."""
    from django.db.models import Max

    on = on or timezone.localdate()
    newest = (
        ExchangeRate.objects.filter(rate_kind__in=(Kind.ECB_DAILY, Kind.MANUAL))
        .values("rate_kind", "currency")
        .annotate(d=Max("date"))
        .order_by("rate_kind", "currency")
    )
    ecb: date | None = None
    found = []
    for row in newest:
        if row["rate_kind"] == Kind.ECB_DAILY:
            ecb = max(ecb, row["d"]) if ecb else row["d"]
        elif row["currency"] not in FIXED_TO_EUR:
            limit = STALE_AFTER_DAYS[Kind.MANUAL]
            if (on - row["d"]).days > limit:
                found.append(StaleSource(Kind.MANUAL, row["currency"], row["d"], limit))
    limit = STALE_AFTER_DAYS[Kind.ECB_DAILY]
    if ecb is None or (on - ecb).days > limit:
        found.insert(0, StaleSource(Kind.ECB_DAILY, "", ecb, limit))
    return found


def convert(
    amount: Decimal,
    from_currency: str,
    to_currency: str,
    *,
    on: date | None = None,
    kind: str = Kind.ECB_DAILY,
) -> Decimal:
    """``amount`` in ``to_currency``, rounded half-up to its minor unit, once, at the end."""
    amount = Decimal(amount)
    src, dst = from_currency.upper(), to_currency.upper()
    if src == dst:
        return quantize(amount, dst)
    on = on or timezone.localdate()
    a, b = _per_eur(src, kind, on), _per_eur(dst, kind, on)
    # amount_B = amount_A * rate_B / rate_A, unrounded until the end (FACTS §7).
    return quantize(amount * b.per_eur / a.per_eur, dst)


# --- Importers -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    days: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    first: date | None = None
    last: date | None = None


def parse_ecb_xml(data: bytes) -> dict[date, dict[str, Decimal]]:
    """``{date: {currency: units per EUR}}`` from an ECB eurofxref XML (daily, 90d or hist)."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise DomainError(_("The ECB file is not valid XML: %(e)s") % {"e": exc}) from exc
    days: dict[date, dict[str, Decimal]] = {}
    for day in root.iter(f"{ECB_NS}Cube"):
        when = day.get("time")
        if when is None:
            continue
        try:
            key = date.fromisoformat(when)
        except ValueError as exc:
            raise DomainError(_("Bad date %(d)r in the ECB file.") % {"d": when}) from exc
        rates: dict[str, Decimal] = {}
        for cube in day.findall(f"{ECB_NS}Cube"):
            currency, value = cube.get("currency"), cube.get("rate")
            try:
                parsed = Decimal(value)
            except (InvalidOperation, TypeError) as exc:
                raise DomainError(
                    _("Bad rate %(v)r for %(c)s on %(d)s in the ECB file.")
                    % {"v": value, "c": currency, "d": when}
                ) from exc
            if currency and parsed > 0:
                rates[currency.upper()] = parsed
        days[key] = rates
    if not days:
        raise DomainError(_("The ECB file holds no rates."))
    return days


def store_rates(
    days: dict[date, dict[str, Decimal]], *, kind: str = Kind.ECB_DAILY, source: str
) -> ImportResult:
    """Insert or correct rates; rows already equal are left alone (idempotent)."""
    result = ImportResult(days=len(days))
    if not days:
        return result
    result.first, result.last = min(days), max(days)
    existing = {
        (r.date, r.currency): r
        for r in ExchangeRate.objects.filter(
            rate_kind=kind, date__gte=result.first, date__lte=result.last
        )
    }
    new, changed = [], []
    for when, rates in days.items():
        for currency, value in rates.items():
            row = existing.get((when, currency))
            if row is None:
                new.append(
                    ExchangeRate(
                        date=when, currency=currency, rate=value, rate_kind=kind, source=source
                    )
                )
            elif row.rate != value:
                row.rate, row.source = value, source
                changed.append(row)
            else:
                result.unchanged += 1
    with transaction.atomic():
        ExchangeRate.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        ExchangeRate.objects.bulk_update(changed, ["rate", "source"], batch_size=2000)
    result.created, result.updated = len(new), len(changed)
    clear_cache()
    return result


def import_ecb_xml(data: bytes, *, source: str) -> ImportResult:
    return store_rates(parse_ecb_xml(data), kind=Kind.ECB_DAILY, source=source)


MANUAL_COLUMNS = ("currency", "date", "rate_per_eur", "source")


def import_manual_csv(data: bytes, *, source: str) -> ImportResult:
    """Import dated manual rates (``currency,date,rate_per_eur,source``: customs/data/fx/
    manual_rates.csv's format, e.g. a central bank's euro quotation for KES or NGN). Every row
    must name its own source; ``source`` is only used when a row leaves it blank."""
    import csv
    import io

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(_("The manual rates file is not UTF-8 text.")) from exc
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ())[: len(MANUAL_COLUMNS)] != MANUAL_COLUMNS:
        raise DomainError(
            _("The manual rates file needs the columns %(c)s.") % {"c": ",".join(MANUAL_COLUMNS)}
        )
    by_source: dict[str, dict[date, dict[str, Decimal]]] = {}
    for n, row in enumerate(reader, start=2):
        currency = (row["currency"] or "").strip().upper()
        try:
            when = date.fromisoformat((row["date"] or "").strip())
            value = Decimal((row["rate_per_eur"] or "").strip())
        except (ValueError, InvalidOperation) as exc:
            raise DomainError(_("Line %(n)d: bad date or rate.") % {"n": n}) from exc
        if len(currency) != 3 or not currency.isalpha() or not value.is_finite() or value <= 0:
            raise DomainError(_("Line %(n)d: bad currency or rate.") % {"n": n})
        row_source = (row["source"] or "").strip() or source
        by_source.setdefault(row_source, {}).setdefault(when, {})[currency] = value
    total = ImportResult()
    for row_source, days in by_source.items():
        result = store_rates(days, kind=Kind.MANUAL, source=row_source[:255])
        total.days += result.days
        total.created += result.created
        total.updated += result.updated
        total.unchanged += result.unchanged
    return total


def fetch_ecb_xml(url: str, *, timeout: float = 20) -> bytes:
    """Download an ECB feed. Only called by the periodic task, never by requests or tests."""
    if not url.startswith(("https://", "http://", "file://")):
        raise DomainError(_("ECB_RATES_URL must be an http(s) or file URL."))
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked above
        return response.read()


def set_manual_rate(*, currency: str, on: date, per_eur: Decimal, source: str) -> ExchangeRate:
    """Record a rate for a currency the ECB does not publish (from its central bank)."""
    currency = currency.upper()
    if len(currency) != 3 or not currency.isalpha():
        raise DomainError(_("A currency is a three-letter ISO 4217 code."))
    if Decimal(per_eur) <= 0:
        raise DomainError(_("A rate must be greater than zero."))
    if not source.strip():
        raise DomainError(_("Say where the rate comes from (source)."))
    row, _created = ExchangeRate.objects.update_or_create(
        rate_kind=Kind.MANUAL,
        currency=currency,
        date=on,
        defaults={"rate": Decimal(per_eur), "source": source},
    )
    clear_cache()
    return row
