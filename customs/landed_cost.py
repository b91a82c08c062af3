"""Landed cost of one consignment: one shop's part of an order, to one destination, on one date.

``compute_quote(consignment)`` is a pure function of its input and the rule book (no writes,
no query once the rules and the day's exchange rates are cached). Formulas follow
shared/customs/FACTS.md §6: customs value on the regime's CIF/FOB basis, freight apportioned to
lines by value, duty by de minimis / flat per-line duty / formula / tariff, tax on the
regime's base (collected at sale or at the border), each component computed on its whole base
and rounded once, half-up, to the currency's minor unit (or the regime's cash increment).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from customs import fx
from customs.hs import HS_INPUT_RE, normalize_hs_code
from customs.ics2 import validate_description
from customs.models import Regime, Restriction, SanctionedDestination
from customs.rulebook import (
    RuleBook,
    crosses_customs_border,
    get_rules,
    territory_of,
)
from customs.schemes import label as scheme_label
from customs.schemes import scheme_number
from marketplace.core.money import quantize, round_to_increment

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
CHANNELS = ("marketplace", "direct")
# What the parcel is (CN22/CN23 "category of item"): reliefs depend on it.
CATEGORIES = ("sale", "gift", "returned_goods", "sample")
TRANSPORTS = ("post", "courier")
POSTAL_SERVICES = ("small_packet", "parcel")


class ConsignmentError(ValueError):
    """Bad input. ``field`` names it as the JSON path, e.g. ``lines[0].unit_price``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ConsignmentLine:
    hs_code: str
    origin: str
    description: str
    quantity: int
    unit_price: Decimal
    net_weight_kg: Decimal = ZERO
    sku: str = ""
    licence_number: str = ""
    certificate_number: str = ""

    @property
    def value(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Consignment:
    """The input of a quote. Amounts are in ``currency``; countries are ISO alpha-2."""

    date: date
    ship_from: str
    destination: str
    currency: str
    lines: tuple[ConsignmentLine, ...]
    shipping: Decimal = ZERO
    insurance: Decimal = ZERO
    destination_region: str | None = None
    channel: str = "marketplace"
    transport: str = "post"
    postal_service: str = "small_packet"
    seller_country: str | None = None
    incoterm: str | None = None
    # Nigeria-style de minimis counted per buyer per year: uses before this consignment.
    buyer_deminimis_uses: int = 0
    category: str = "sale"
    # Gift reliefs of most countries are for gifts between private individuals only.
    sender_private: bool = False
    # Special territories are told apart by postcode (BT: Northern Ireland, 27498 Heligoland).
    destination_postcode: str = ""
    # The seller's statement on preferential origin is on file (EU-UK TCA, CUSMA ...).
    origin_statement: bool = False

    @property
    def goods(self) -> Decimal:
        return sum((line.value for line in self.lines), ZERO)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["date"] = self.date.isoformat()
        for key in ("shipping", "insurance"):
            data[key] = str(data[key])
        data["lines"] = [
            {
                **line,
                "unit_price": str(line["unit_price"]),
                "net_weight_kg": str(line["net_weight_kg"]),
            }
            for line in data["lines"]
        ]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Consignment:
        """Parse and validate JSON-like input; raises ConsignmentError naming the field."""
        if not isinstance(data, dict):
            raise ConsignmentError("$", _("expected a JSON object"))
        when = _date(data, "date")
        ship_from = _country(data, "ship_from")
        destination = _country(data, "destination")
        currency = _currency(data, "currency")
        region = data.get("destination_region")
        if region is not None:
            if not isinstance(region, str) or not _is_region(region, destination):
                raise ConsignmentError(
                    "destination_region",
                    _("expected an ISO 3166-2 code of the destination, e.g. CA-ON"),
                )
            region = region.upper()
        channel = _choice(data, "channel", CHANNELS, "marketplace")
        transport = _choice(data, "transport", TRANSPORTS, "post")
        postal_service = _choice(data, "postal_service", POSTAL_SERVICES, "small_packet")
        incoterm = data.get("incoterm")
        if incoterm is not None and incoterm not in ("DAP", "DDP"):
            raise ConsignmentError("incoterm", _("expected DAP or DDP"))
        seller_country = _country(data, "seller_country") if data.get("seller_country") else None
        uses = data.get("buyer_deminimis_uses", 0)
        if not isinstance(uses, int) or isinstance(uses, bool) or uses < 0:
            raise ConsignmentError("buyer_deminimis_uses", _("expected a whole number ≥ 0"))
        category = _choice(data, "category", CATEGORIES, "sale")
        sender_private = data.get("sender_private", False)
        if not isinstance(sender_private, bool):
            raise ConsignmentError("sender_private", _("expected true or false"))
        origin_statement = data.get("origin_statement", False)
        if not isinstance(origin_statement, bool):
            raise ConsignmentError("origin_statement", _("expected true or false"))
        postcode = data.get("destination_postcode") or ""
        if not isinstance(postcode, str) or len(postcode) > 16 or "\x00" in postcode:
            raise ConsignmentError(
                "destination_postcode", _("expected a postcode (16 characters at most)")
            )
        raw_lines = data.get("lines")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise ConsignmentError("lines", _("expected a non-empty list of lines"))
        if len(raw_lines) > 200:
            raise ConsignmentError("lines", _("at most 200 lines per consignment"))
        lines = tuple(_line(raw, f"lines[{i}]") for i, raw in enumerate(raw_lines))
        return cls(
            date=when,
            ship_from=ship_from,
            destination=destination,
            currency=currency,
            lines=lines,
            shipping=_amount(data, "shipping", default="0"),
            insurance=_amount(data, "insurance", default="0"),
            destination_region=region,
            channel=channel,
            transport=transport,
            postal_service=postal_service,
            seller_country=seller_country,
            incoterm=incoterm,
            buyer_deminimis_uses=uses,
            category=category,
            sender_private=sender_private,
            destination_postcode=postcode.strip().upper(),
            origin_statement=origin_statement,
        )


# --- input parsing helpers ------------------------------------------------------------------


def _date(data: dict, key: str) -> date:
    value = data.get(key)
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConsignmentError(key, _("expected a date as YYYY-MM-DD")) from None


def _country(data: dict, key: str, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise ConsignmentError(prefix + key, _("expected an ISO 3166-1 alpha-2 country code"))
    from django_countries import countries

    code = value.upper()
    if code not in dict(countries):
        raise ConsignmentError(prefix + key, _("unknown country code %(c)s") % {"c": value})
    return code


def _is_region(region: str, destination: str) -> bool:
    parts = region.upper().split("-")
    return len(parts) == 2 and parts[0] == destination and 1 <= len(parts[1]) <= 3


def _currency(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise ConsignmentError(key, _("expected an ISO 4217 currency code"))
    from babel.numbers import get_currency_name

    code = value.upper()
    if get_currency_name(code) == code:
        raise ConsignmentError(key, _("unknown currency %(c)s") % {"c": value})
    return code


def _choice(data: dict, key: str, choices: tuple[str, ...], default: str) -> str:
    value = data.get(key, default)
    if value is None:
        value = default
    if value not in choices:
        raise ConsignmentError(key, _("expected one of %(c)s") % {"c": ", ".join(choices)})
    return value


def _amount(data: dict, key: str, *, default: str | None = None, prefix: str = "") -> Decimal:
    value = data.get(key, default)
    if isinstance(value, float):
        # Floats have already lost the cents; money must arrive as a decimal string.
        raise ConsignmentError(prefix + key, _('expected a decimal string such as "6.00"'))
    try:
        amount = Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ConsignmentError(prefix + key, _('expected a decimal string such as "6.00"'))
    if amount < 0:
        raise ConsignmentError(prefix + key, _("must not be negative"))
    if amount > Decimal("10000000"):
        raise ConsignmentError(prefix + key, _("is too large"))
    return amount


def _line(raw: Any, prefix: str) -> ConsignmentLine:
    if not isinstance(raw, dict):
        raise ConsignmentError(prefix, _("expected an object"))
    p = prefix + "."
    hs = raw.get("hs_code")
    normalized = normalize_hs_code(hs) if isinstance(hs, str) else ""
    if not HS_INPUT_RE.match(normalized):
        raise ConsignmentError(p + "hs_code", _("expected 6, 8 or 10 digits"))
    from customs.hs import is_known_subheading

    if normalized[:2] in ("98", "99") or not is_known_subheading(normalized[:6]):
        raise ConsignmentError(
            p + "hs_code", _("%(c)s is not an HS 2022 subheading") % {"c": normalized[:6]}
        )
    origin = _country(raw, "origin", prefix=p)
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ConsignmentError(p + "description", _("a goods description is required"))
    quantity = raw.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ConsignmentError(p + "quantity", _("expected a whole number ≥ 1"))
    unit_price = _amount(raw, "unit_price", prefix=p)
    weight = _amount(raw, "net_weight_kg", default="0", prefix=p)
    return ConsignmentLine(
        hs_code=normalized,
        origin=origin,
        description=description.strip()[:512],
        quantity=quantity,
        unit_price=unit_price,
        net_weight_kg=weight,
        sku=str(raw.get("sku") or "")[:64],
        licence_number=str(raw.get("licence_number") or "")[:60],
        certificate_number=str(raw.get("certificate_number") or "")[:60],
    )


# --- the result ---------------------------------------------------------------------------------


@dataclass
class LineResult:
    hs_code: str
    origin: str
    value: Decimal
    customs_value: Decimal
    duty_rate_percent: Decimal | None
    duty: Decimal
    restriction: str = ""
    # Taxed at checkout under the regime's scheme (a per-item limit decides it item by item).
    collected: bool = False


@dataclass
class QuoteResult:
    currency: str
    goods: Decimal
    shipping: Decimal
    insurance: Decimal
    customs_value: Decimal
    duty: Decimal
    tax: Decimal
    fees: Decimal
    landed_cost: Decimal
    collected_at_checkout: bool
    incoterm: str
    form: str
    blocked: bool
    review_required: bool
    incomplete: bool
    reasons: list[str]
    warnings: list[str]
    rules: list[str]
    # Why ``incomplete``: the data that is missing (also among ``warnings``).
    unknowns: list[str] = field(default_factory=list)
    tax_name: str = ""
    tax_rate_percent: Decimal | None = None
    tax_scheme: str = ""
    marketplace_costs: Decimal = ZERO
    value_in_sdr: Decimal | None = None
    lines: list[LineResult] = field(default_factory=list)
    fee_lines: list[dict] = field(default_factory=list)
    regime_id: int | None = None
    quote_id: int | None = None
    category: str = "sale"
    # False for a route with no customs border (US->US, DE->FR, GB->NI): no duty, no form.
    customs_border: bool = True
    # Per-item limits: the part collected at checkout and the part taxed at the border.
    split: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``quote_landed_cost``: amounts as decimal strings."""
        money = lambda v: str(quantize(v, self.currency))  # noqa: E731
        return {
            "currency": self.currency,
            "goods": money(self.goods),
            "shipping": money(self.shipping),
            "insurance": money(self.insurance),
            "customs_value": money(self.customs_value),
            "duty": money(self.duty),
            "tax": money(self.tax),
            "fees": money(self.fees),
            "landed_cost": money(self.landed_cost),
            "collected_at_checkout": self.collected_at_checkout,
            "incoterm": self.incoterm,
            "form": self.form,
            "blocked": self.blocked,
            "review_required": self.review_required,
            "incomplete": self.incomplete,
            "unknowns": list(self.unknowns),
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "rules": list(self.rules),
            "tax_name": self.tax_name,
            "tax_rate_percent": None
            if self.tax_rate_percent is None
            else _percent(self.tax_rate_percent),
            "tax_scheme": self.tax_scheme,
            "marketplace_costs": money(self.marketplace_costs),
            "value_in_sdr": None if self.value_in_sdr is None else str(self.value_in_sdr),
            "fee_lines": [{**f, "amount": money(f["amount"])} for f in self.fee_lines],
            "category": self.category,
            "customs_border": self.customs_border,
            "split": [
                {
                    **part,
                    **{k: money(part[k]) for k in ("goods", "shipping", "duty", "tax")},
                }
                for part in self.split
            ],
            "lines": [
                {
                    "hs_code": ln.hs_code,
                    "value": money(ln.value),
                    "customs_value": money(ln.customs_value),
                    "duty_rate_percent": None
                    if ln.duty_rate_percent is None
                    else _percent(ln.duty_rate_percent),
                    "duty": money(ln.duty),
                    "restriction": ln.restriction,
                    "collected": ln.collected,
                }
                for ln in self.lines
            ],
            "quote_id": self.quote_id,
        }


def _percent(value: Decimal) -> str:
    """``19.0000`` -> ``"19"``, ``14.9750`` -> ``"14.975"`` (never exponent notation)."""
    return f"{value.normalize():f}"


# --- the computation ----------------------------------------------------------------------------


class _Calc:
    """One quote being computed; collects warnings and the rule rows it used."""

    def __init__(self, c: Consignment, book: RuleBook) -> None:
        self.c = c
        self.book = book
        self.warnings: list[str] = []
        self.reasons: list[str] = []
        self.rules: list[str] = []
        self.incomplete = False
        # The reasons behind ``incomplete``, shown where the estimate would be.
        self.unknowns: list[str] = []
        self.review = False
        self.blocked = False
        # Line index -> the restriction reason (goods that need a permit, a warning, a block).
        self.line_restrictions: dict[int, str] = {}
        self._fx: dict[tuple[str, str], Decimal] = {}

    def unknown(self, reason: str) -> None:
        """Data the quote needs is missing: it is ``incomplete``, and ``reason`` says why."""
        self.incomplete = True
        self.warnings.append(reason)
        if reason not in self.unknowns:
            self.unknowns.append(reason)

    def use(self, kind: str, row) -> None:
        tag = f"{kind}:{row.pk}"
        key = getattr(row, "data_key", "")
        if key:
            tag += f":{key}"
        if tag not in self.rules:
            self.rules.append(tag)

    def factor(self, src: str, dst: str, kind: str) -> Decimal:
        """Units of ``dst`` per unit of ``src`` on the consignment date (unrounded)."""
        if src == dst:
            return ONE
        key = (src, dst, kind)
        if key not in self._fx:
            quoted = fx.rate(src, dst, on=self.c.date, kind=kind)
            self._fx[key] = quoted.value
            tag = f"fx:{src}->{dst}:{quoted.kind}:{quoted.rate_date}"
            if tag not in self.rules:
                self.rules.append(tag)
            if quoted.stale and settings.CUSTOMS_STALE_RATES_INCOMPLETE:
                # Past its source's validity: in production the estimate is unknown; in the
                # local profile the admin says once that rates are stale (not every buyer page).
                self.unknown(quoted.note)
        return self._fx[key]

    def round(self, amount: Decimal, regime: Regime | None) -> Decimal:
        if regime is not None and regime.rounding_increment and self.c.currency == regime.currency:
            return round_to_increment(amount, regime.rounding_increment)
        return quantize(amount, self.c.currency)


def compute_quote(consignment: Consignment, *, rules: RuleBook | None = None) -> QuoteResult:
    """The landed cost of ``consignment``; pure (no writes). See the module docstring."""
    c = consignment
    book = rules or get_rules()
    calc = _Calc(c, book)
    territory = territory_of(
        c.destination, postcode=c.destination_postcode, region=c.destination_region
    )
    if not crosses_customs_border(
        c.ship_from, c.destination, postcode=c.destination_postcode, region=c.destination_region
    ):
        return _no_border(calc, territory)
    if territory is not None and territory.treat_as:
        # A place inside another country's customs and VAT area is priced with its rules.
        c = replace(
            c, destination=territory.treat_as, destination_postcode="", destination_region=None
        )
        calc = _Calc(c, book)
        calc.rules.append(f"territory:{territory.key}->{territory.treat_as}")
        territory = None
    region = c.destination_region
    if territory is not None and (territory.region or territory.postcode is not None):
        region = territory.region_key
    regime = book.regime_for(
        destination=c.destination,
        region=region,
        channel=c.channel,
        transport=c.transport,
        ship_from=c.ship_from,
        on=c.date,
    )
    if (
        regime is not None
        and region != c.destination_region
        and regime.destination_region != region
    ):
        # The country's own rules never apply to a territory outside its customs or VAT area.
        regime = None
    _check_lines(calc)
    _check_sanctions(calc)
    form, sdr_value = _form(calc)

    if regime is None:
        where = (
            territory.name
            if territory is not None and region != c.destination_region
            else c.destination
        )
        calc.unknown(
            _("No import rules are known for %(dest)s on %(date)s: duty and tax are not estimated.")
            % {"dest": where, "date": c.date}
        )
        customs_value = c.goods + c.shipping + c.insurance
        return _result(
            calc, regime, customs_value, ZERO, ZERO, ZERO, ZERO, [], [], False, form, sdr_value
        )

    calc.use("regime", regime)
    if regime.uncertain:
        calc.warnings.append(
            _(
                "The %(dest)s import rules rest on sources marked uncertain: "
                "treat this as an estimate."
            )
            % {"dest": c.destination}
        )
    if regime.destination_region == "" and _region_matters(book, regime, c):
        calc.warnings.append(
            _("Give the province or state (destination_region): the tax rate depends on it.")
        )
    split = _per_item_split(calc, regime)
    if split is not None:
        return _split_quote(calc, regime, split, form, sdr_value)
    return _price(calc, regime, form, sdr_value)


def _qualifies(regime: Regime, value: Decimal, limit: Decimal) -> bool:
    """At or under ``limit`` (inclusive regimes) or strictly below it (Norway VOEC)."""
    return value <= limit if regime.limits_inclusive else value < limit


def _per_item_split(calc: _Calc, regime: Regime) -> tuple[list[int], list[int]] | None:
    """(items collected at checkout, items taxed at the border) when a per-item collection
    limit splits the consignment; None when every item falls on the same side."""
    c = calc.c
    if not (
        c.channel == "marketplace"
        and c.category == "sale"
        and regime.collect_at_sale
        and regime.collect_max_value is not None
        and regime.collect_max_basis == Regime.ThresholdBasis.PER_ITEM
        and len(c.lines) > 1
    ):
        return None
    if regime.tax_scheme and not scheme_number(regime.tax_scheme):
        return None  # nothing is collected: the whole consignment is priced at the border
    factor = _regime_rate(calc, regime)()
    if factor is None:
        return None
    low = [
        i
        for i, line in enumerate(c.lines)
        if _qualifies(regime, line.unit_price * factor, regime.collect_max_value)
    ]
    if not low or len(low) == len(c.lines):
        return None
    return low, [i for i in range(len(c.lines)) if i not in low]


def _split_quote(
    calc: _Calc,
    regime: Regime,
    split: tuple[list[int], list[int]],
    form: str,
    sdr_value: Decimal | None,
) -> QuoteResult:
    """Price the items under the per-item limit as collected at checkout and the others at
    the border (freight and insurance apportioned by value), then add the two up."""
    c = calc.c
    low, high = split
    low_goods = sum((c.lines[i].value for i in low), ZERO)
    share = (low_goods / c.goods) if c.goods else ZERO
    ship_low = quantize(c.shipping * share, c.currency)
    ins_low = quantize(c.insurance * share, c.currency)
    parts = (
        (low, True, ship_low, ins_low),
        (high, False, c.shipping - ship_low, c.insurance - ins_low),
    )
    lines: list[LineResult | None] = [None] * len(c.lines)
    results = []
    for indexes, collect, shipping, insurance in parts:
        sub = replace(
            c,
            lines=tuple(c.lines[i] for i in indexes),
            shipping=shipping,
            insurance=insurance,
        )
        sub_calc = _Calc(sub, calc.book)
        sub_calc.warnings, sub_calc.rules, sub_calc._fx = calc.warnings, calc.rules, calc._fx
        sub_calc.unknowns = calc.unknowns
        sub_calc.line_restrictions = {
            j: calc.line_restrictions[i]
            for j, i in enumerate(indexes)
            if i in calc.line_restrictions
        }
        result = _price(sub_calc, regime, form, sdr_value, collect=collect)
        calc.incomplete = calc.incomplete or sub_calc.incomplete
        for j, i in enumerate(indexes):
            lines[i] = result.lines[j]
        results.append((indexes, result))
    at_sale, at_border = results[0][1], results[1][1]
    calc.warnings.append(
        _(
            "%(n)d of %(m)d items are under the %(limit)s %(cur)s per-item limit: their "
            "%(tax)s is collected at checkout; duty and %(tax)s on the others are paid on "
            "delivery."
        )
        % {
            "n": len(low),
            "m": len(c.lines),
            "limit": regime.collect_max_value,
            "cur": regime.currency,
            "tax": regime.tax_name or _("tax"),
        }
    )
    merged = _result(
        calc,
        regime,
        at_sale.customs_value + at_border.customs_value,
        at_sale.duty + at_border.duty,
        at_sale.tax + at_border.tax,
        at_sale.tax_rate_percent,
        ZERO,
        [ln for ln in lines if ln is not None],
        at_sale.fee_lines + at_border.fee_lines,
        False,
        form,
        sdr_value,
    )
    merged.tax_scheme = at_sale.tax_scheme
    for indexes, part in results:
        for i in indexes:
            merged.lines[i].collected = part.collected_at_checkout
    merged.split = [
        {
            "collected_at_checkout": part.collected_at_checkout,
            "lines": list(indexes),
            "goods": part.goods,
            "shipping": part.shipping,
            "duty": part.duty,
            "tax": part.tax,
        }
        for indexes, part in results
    ]
    return merged


def _no_border(calc: _Calc, territory) -> QuoteResult:
    c = calc.c
    calc.rules.append("border:none")
    if territory is not None:
        calc.rules.append(f"territory:{territory.key}")
    calc.warnings.append(
        _("No customs border between %(a)s and %(b)s: no duty, no import tax and no customs form.")
        % {"a": c.ship_from, "b": territory.name if territory is not None else c.destination}
    )
    result = _result(
        calc, None, c.goods + c.shipping + c.insurance, ZERO, ZERO, None, ZERO, [], [], False,
        "", None,
    )  # fmt: skip
    result.customs_border = False
    return result


def _price(
    calc: _Calc,
    regime: Regime,
    form: str,
    sdr_value: Decimal | None,
    *,
    collect: bool | None = None,
) -> QuoteResult:
    """Duty, tax and fees of the consignment under ``regime`` (``collect`` forces the
    collect-at-checkout decision for one part of a per-item split)."""
    c, book = calc.c, calc.book
    cur = c.currency
    goods = c.goods
    freight, insurance = c.shipping, c.insurance
    cif = regime.customs_value_basis == Regime.Basis.CIF
    params = regime.params or {}
    goods_value = goods
    if params.get("personal_use_factor"):
        # Japan: goods for the buyer's own use are valued at 60 % of the overseas retail price.
        goods_value = goods * Decimal(params["personal_use_factor"])
        tag = f"valuation:personal_use:{params['personal_use_factor']}"
        if tag not in calc.rules:
            calc.rules.append(tag)
    customs_value = goods_value + freight + insurance if cif else goods_value
    to_reg = _regime_rate(calc, regime)

    def under(kind: str, limit: Decimal) -> bool:
        """Whether the value on ``kind`` is at or under ``limit`` (in the regime's currency).

        Without an exchange rate the answer is no: duty and tax are then shown as due,
        and the quote is flagged incomplete, rather than silently waived.
        """
        factor = to_reg()
        if factor is None:
            return False
        if kind == Regime.ThresholdBasis.INTRINSIC:
            value = goods
        elif kind == Regime.ThresholdBasis.PER_ITEM:
            value = max(line.unit_price for line in c.lines)
        else:
            value = customs_value
        return _qualifies(regime, value * factor, limit)

    deminimis_allowed = (
        regime.deminimis_max_uses_per_year is None
        or c.buyer_deminimis_uses < regime.deminimis_max_uses_per_year
    )
    if not deminimis_allowed:
        calc.warnings.append(
            _(
                "This buyer has used the de minimis relief %(n)d times this year: "
                "it no longer applies."
            )
            % {"n": c.buyer_deminimis_uses}
        )
    collected = (
        c.channel == "marketplace"
        and regime.collect_at_sale
        and (
            regime.collect_max_value is None
            or under(regime.collect_max_basis, regime.collect_max_value)
        )
    )
    if collect is not None:
        collected = collect and c.channel == "marketplace" and regime.collect_at_sale
    relief_duty, relief_tax = _relief(calc, regime, to_reg)
    if collected and c.category != "sale":
        # IOSS, VOEC, the UK and AU schemes cover distance sales only.
        collected = False
        calc.warnings.append(
            _(
                "A %(category)s is not a sale: %(tax)s is not collected at checkout under the "
                "marketplace's scheme."
            )
            % {"category": _category_label(c.category), "tax": regime.tax_name or _("tax")}
        )

    if collected and regime.tax_scheme and not scheme_number(regime.tax_scheme):
        # Never promise "nothing more to pay on delivery" without the number that lets the
        # destination post release the parcel untaxed: the tax is then paid at the border.
        collected = False
        calc.warnings.insert(
            0,
            _(
                "The marketplace has no %(scheme)s configured, so %(tax)s is not collected at "
                "checkout: the buyer pays duty and %(tax)s to the carrier on delivery (DAP)."
            )
            % {"scheme": scheme_label(regime.tax_scheme), "tax": regime.tax_name or _("tax")},
        )

    # --- duty -----------------------------------------------------------------------------
    line_results = [
        LineResult(
            hs_code=line.hs_code,
            origin=line.origin,
            value=line.value,
            customs_value=(customs_value * line.value / goods) if goods else ZERO,
            duty_rate_percent=None,
            duty=ZERO,
        )
        for line in c.lines
    ]
    for index, reason in calc.line_restrictions.items():
        line_results[index].restriction = reason
    exempt = tuple(p for p in regime.duty_exempt_hs_prefixes.split(",") if p)
    dutiable = [lr for lr in line_results if not (exempt and lr.hs_code.startswith(exempt))]
    duty = ZERO
    if len(dutiable) < len(line_results):
        calc.warnings.append(
            _("Some goods are exempt from duty at the destination (e.g. informational materials).")
        )
    if (
        relief_duty
        or (collected and regime.no_duty_when_collected)
        or (
            regime.duty_threshold is not None
            and deminimis_allowed
            and under(regime.duty_threshold_basis, regime.duty_threshold)
        )
    ):
        pass
    elif (
        regime.flat_duty_amount is not None
        and regime.flat_duty_max_value is not None
        and under(Regime.ThresholdBasis.INTRINSIC, regime.flat_duty_max_value)
    ):
        # "Item" = each distinct tariff classification declared (FACTS §10a: HS-6 on H7).
        tariff_lines = sorted({lr.hs_code[:6] for lr in dutiable})
        per_line = regime.flat_duty_amount / to_reg()
        for lr in dutiable:
            lr.duty = ZERO
        duty = per_line * len(tariff_lines)
    else:
        duty = _formula_duty(calc, regime, dutiable, customs_value, to_reg)
    duty = calc.round(duty, regime)

    # --- tax ------------------------------------------------------------------------------
    tax = ZERO
    rate = None
    if regime.tax_rate is not None:
        rate = regime.tax_rate * (regime.tax_rate_factor if collected else ONE)
        r = rate / HUNDRED
        if relief_tax:
            tax = ZERO
        elif collected:
            tax = r * _tax_base(regime, regime.tax_base_at_sale, c, customs_value, duty, r)
        elif (
            regime.tax_threshold is not None
            and deminimis_allowed
            and under(regime.tax_threshold_basis, regime.tax_threshold)
        ):
            tax = ZERO
        else:
            tax = r * _tax_base(regime, regime.tax_base_at_border, c, customs_value, duty, r)
        tax = calc.round(tax, regime)
        if (
            not collected
            and regime.tax_minimum is not None
            and tax > 0
            and to_reg() is not None
            and tax * to_reg() <= regime.tax_minimum
        ):
            calc.warnings.append(
                _(
                    "Import tax of %(t)s is at or under the %(m)s %(cur)s minimum "
                    "and is not collected."
                )
                % {"t": tax, "m": regime.tax_minimum, "cur": regime.currency}
            )
            tax = ZERO
    if params.get("truncation") == "jp_faq_1111" and not collected:
        duty, tax = _jp_truncation(calc, params, customs_value, duty, tax, line_results)

    # --- fees -----------------------------------------------------------------------------
    fee_lines = []
    for fee in book.fees_for(destination=c.destination, transport=c.transport, on=c.date):
        fee_cur = fee.currency or cur
        try:
            to_fee = calc.factor(cur, fee_cur, regime.fx_kind)
        except fx.RateUnavailable:
            calc.unknown(
                _("%(fee)s is left out: no exchange rate for %(cur)s is known.")
                % {"fee": fee.name, "cur": fee_cur}
            )
            continue
        if fee.max_intrinsic_value is not None and goods * to_fee > fee.max_intrinsic_value:
            continue
        if fee.only_when_charges_due and (collected or (duty + tax) == 0):
            continue
        if fee.unit == fee.Unit.PERCENT_CV:
            amount = fee.amount / HUNDRED * customs_value
        else:
            count = len(c.lines) if fee.unit == fee.Unit.ARTICLE else 1
            amount = fee.amount * count / to_fee
        amount = calc.round(amount, regime)
        calc.use("fee", fee)
        fee_lines.append({"name": fee.name, "payer": fee.payer, "amount": amount})

    return _result(
        calc, regime, customs_value, duty, tax, rate, ZERO, line_results, fee_lines, collected,
        form, sdr_value,
    )  # fmt: skip


def _floor(amount: Decimal, step: int) -> Decimal:
    return (amount / step).to_integral_value(rounding=ROUND_FLOOR) * step


def _jp_truncation(
    calc: _Calc,
    params: dict,
    customs_value: Decimal,
    duty: Decimal,
    tax: Decimal,
    lines: list[LineResult],
) -> tuple[Decimal, Decimal]:
    """Japan Customs' method (FAQ 1111): the taxable value is truncated to JPY 1,000 and the
    duty to JPY 100; the consumption-tax base (value + duty) to JPY 1,000; the national
    consumption tax (7.8 %) and the local one (22/78 of it) each to JPY 100."""
    if calc.c.currency != "JPY":
        calc.warnings.append(
            _("Japanese truncation applies to yen amounts only: quote in JPY for exact figures.")
        )
        return duty, tax
    taxable = _floor(customs_value, 1000)
    if duty > 0:
        duty = _floor(duty * taxable / customs_value, 100) if customs_value else ZERO
        if len(lines) == 1:
            lines[0].duty = duty
    if tax > 0:
        base = _floor(taxable + duty, 1000)
        national = _floor(base * Decimal(params.get("national_rate", "7.8")) / HUNDRED, 100)
        num, den = (Decimal(x) for x in params.get("local_share", "22/78").split("/"))
        tax = national + _floor(national * num / den, 100)
    if "rounding:jp_faq_1111" not in calc.rules:
        calc.rules.append("rounding:jp_faq_1111")
    return duty, tax


def _category_label(category: str) -> str:
    return {
        "gift": _("gift"),
        "returned_goods": _("return of goods"),
        "sample": _("commercial sample"),
    }.get(category, _("sale"))


def _relief(calc: _Calc, regime: Regime, to_reg) -> tuple[bool, bool]:
    """(no duty, no import tax) for a gift, returned goods or a sample, from the regime's
    ``params.reliefs[category]`` (values in the regime's currency, limits inclusive)."""
    c = calc.c
    if c.category == "sale":
        return False, False
    label = _category_label(c.category)
    relief = ((regime.params or {}).get("reliefs") or {}).get(c.category)
    if not relief:
        calc.warnings.append(
            _("No relief for a %(category)s is known for %(dest)s: it is taxed like a sale.")
            % {"category": label, "dest": c.destination}
        )
        return False, False
    if relief.get("private_sender_only") and not c.sender_private:
        calc.warnings.append(
            _(
                "%(dest)s relieves gifts between private individuals only: a gift sent by a "
                "business is taxed like a sale."
            )
            % {"dest": c.destination}
        )
        return False, False
    if relief.get("max_value") is not None:
        factor = to_reg()
        if factor is None:
            return False, False
        limit = Decimal(relief["max_value"])
        if c.goods * factor > limit:
            calc.warnings.append(
                _("Above the %(limit)s %(cur)s allowance for a %(category)s: taxed like a sale.")
                % {"limit": limit, "cur": regime.currency, "category": label}
            )
            return False, False
    tag = f"relief:{c.category}:{regime.data_key or regime.pk}"
    if tag not in calc.rules:
        calc.rules.append(tag)
    if c.category == "returned_goods" and relief.get("within_years"):
        calc.warnings.append(
            _(
                "Returned-goods relief needs proof that the goods left %(dest)s within "
                "%(years)s years and come back unaltered (export declaration or proof of posting)."
            )
            % {"dest": c.destination, "years": relief["within_years"]}
        )
    elif c.category == "returned_goods":
        calc.warnings.append(
            _(
                "Returned-goods relief needs proof that the goods were exported from %(dest)s "
                "and come back unaltered (export declaration or proof of posting)."
            )
            % {"dest": c.destination}
        )
    return bool(relief.get("duty")), bool(relief.get("tax"))


def _region_matters(book: RuleBook, regime: Regime, c: Consignment) -> bool:
    return any(r.destination_region for r in book.regimes.get(c.destination, ()))


def _regime_rate(calc: _Calc, regime: Regime):
    """A memoised ``() -> factor | None``: quote currency -> regime currency, asked lazily so a
    regime without thresholds never needs a rate (KES, RWF are not in the ECB feed)."""
    memo: list = []

    def get() -> Decimal | None:
        if not memo:
            try:
                memo.append(calc.factor(calc.c.currency, regime.currency, regime.fx_kind))
            except fx.RateUnavailable:
                memo.append(None)
                calc.unknown(
                    _(
                        "No exchange rate from %(a)s to %(b)s is known: the %(b)s thresholds "
                        "cannot be checked and the estimate is incomplete."
                    )
                    % {"a": calc.c.currency, "b": regime.currency}
                )
        return memo[0]

    return get


def _formula_duty(
    calc: _Calc, regime: Regime, lines: list[LineResult], customs_value: Decimal, to_reg
) -> Decimal:
    c = calc.c
    params = regime.params or {}
    formula = regime.duty_formula
    if formula == Regime.DutyFormula.NONE:
        return ZERO
    if formula == Regime.DutyFormula.TARIFF:
        return _tariff_duty(calc, regime, lines)
    factor = to_reg()
    if factor is None:
        return ZERO  # flagged incomplete by to_reg()
    cv_reg = customs_value * factor
    if formula == Regime.DutyFormula.BR_REMESSA:
        split = Decimal(params["split"])
        if params.get("max_value") and cv_reg > Decimal(params["max_value"]):
            calc.warnings.append(
                _(
                    "Above %(m)s %(cur)s the simplified regime does not apply: "
                    "expect a formal import."
                )
                % {"m": params["max_value"], "cur": regime.currency}
            )
        if cv_reg <= split:
            return Decimal(params["low_rate"]) * customs_value
        deduction = Decimal(params["deduction"]) / factor
        return max(ZERO, Decimal(params["high_rate"]) * customs_value - deduction)
    if formula == Regime.DutyFormula.FLAT_RATE:
        limit = params.get("max_value")
        if limit is None or cv_reg <= Decimal(limit):
            return Decimal(params["rate"]) * customs_value
        return _tariff_duty(calc, regime, lines)
    if formula == Regime.DutyFormula.GLOBAL_RATE:
        for group in params.get("groups", []):
            if group["ship_from"] and c.ship_from not in group["ship_from"]:
                continue
            for limit, rate in group["brackets"]:
                if cv_reg <= Decimal(limit):
                    return Decimal(rate) * customs_value
            break
        calc.unknown(
            _("The value is above the simplified courier regime: duty and tax are not estimated.")
        )
        return ZERO
    return _tariff_duty(calc, regime, lines)


def _tariff_duty(calc: _Calc, regime: Regime, lines: list[LineResult]) -> Decimal:
    c, book = calc.c, calc.book
    total = ZERO
    missing: list[str] = []
    for lr in lines:
        rate_pct = ZERO
        pref = None
        if regime.apply_mfn:
            pref = book.duty_rate(
                destination=c.destination,
                hs_code=lr.hs_code,
                origin=lr.origin,
                on=c.date,
                layer="preference",
            )
            if pref is not None and pref.rate_percent is None:
                pref = None
        if pref is not None and c.origin_statement:
            # The seller's statement on origin is on file: the agreement's rate applies.
            calc.use("duty_rate", pref)
            rate_pct = pref.rate_percent
        elif regime.apply_mfn:
            row = book.duty_rate(
                destination=c.destination, hs_code=lr.hs_code, origin=lr.origin, on=c.date
            )
            if row is None or row.rate_percent is None:
                missing.append(lr.hs_code[:6])
                if row is not None:
                    calc.use("duty_rate", row)
                    if row.specific_note:
                        calc.warnings.append(
                            _("HS %(hs)s: %(note)s")
                            % {"hs": lr.hs_code[:6], "note": row.specific_note}
                        )
            else:
                calc.use("duty_rate", row)
                rate_pct = row.rate_percent
                if row.specific_note:
                    calc.warnings.append(
                        _("HS %(hs)s: rate of line %(code)s used; %(note)s")
                        % {
                            "hs": lr.hs_code[:6],
                            "code": row.national_code,
                            "note": row.specific_note,
                        }
                    )
            if pref is not None and (
                row is None or row.rate_percent is None or rate_pct > pref.rate_percent
            ):
                calc.warnings.append(
                    _(
                        "HS %(hs)s of %(origin)s origin: %(agreement)s gives %(rate)s %% duty "
                        "with the seller's statement on origin; none is on file, so the MFN "
                        "rate applies."
                    )
                    % {
                        "hs": lr.hs_code[:6],
                        "origin": lr.origin,
                        "agreement": pref.description,
                        "rate": _percent(pref.rate_percent),
                    }
                )
        for sur in book.surcharges(
            destination=c.destination, hs_code=lr.hs_code, on=c.date, origin=lr.origin
        ):
            if sur.origin and not regime.apply_mfn:
                # Origin-specific layers (s.301) ride on a normal entry; a regime that
                # replaced the whole duty (US postal s.122 only) has none.
                continue
            calc.use("duty_rate", sur)
            rate_pct += sur.rate_percent or ZERO
        lr.duty_rate_percent = rate_pct
        lr.duty = rate_pct / HUNDRED * lr.customs_value
        if regime.round_per_line:
            lr.duty = calc.round(lr.duty, regime)
        total += lr.duty
    if missing:
        calc.unknown(
            _(
                "No ad valorem duty rate is known for HS %(codes)s in %(dest)s: the duty "
                "shown leaves it out and the estimate is incomplete."
            )
            % {"codes": ", ".join(sorted(set(missing))), "dest": c.destination}
        )
    return total


def _tax_base(
    regime: Regime, base: str, c: Consignment, customs_value: Decimal, duty: Decimal, rate: Decimal
) -> Decimal:
    if base == Regime.TaxBase.SUPPLY:
        include_delivery = (regime.params or {}).get("delivery_in_supply_base", True)
        return c.goods + (c.shipping if include_delivery else ZERO) + c.insurance
    if base == Regime.TaxBase.GOODS:
        return c.goods
    if base == Regime.TaxBase.CIF_DUTY:
        return c.goods + c.shipping + c.insurance + duty
    if base == Regime.TaxBase.ATV:
        uplift = Decimal((regime.params or {}).get("atv_uplift", "0.10"))
        return customs_value * (ONE + uplift) + duty
    if base == Regime.TaxBase.POR_DENTRO:
        # ICMS is part of its own base: base = (CV + II) / (1 - rate).
        return (customs_value + duty) / (ONE - rate)
    return customs_value + duty


def _check_lines(calc: _Calc) -> None:
    c, book = calc.c, calc.book
    for n, line in enumerate(c.lines, start=1):
        check = validate_description(line.description)
        for message in check.errors + check.warnings:
            calc.warnings.append(_("Line %(n)d description: %(m)s") % {"n": n, "m": message})
        rule = book.restriction_for(
            hs_code=line.hs_code, destination=c.destination, transport=c.transport, on=c.date
        )
        if rule is None or rule.action == Restriction.Action.ALLOW:
            continue
        calc.use("restriction", rule)
        calc.line_restrictions[n - 1] = rule.reason
        text = _("Line %(n)d (HS %(hs)s): %(reason)s") % {
            "n": n,
            "hs": line.hs_code[:6],
            "reason": rule.reason,
        }
        if rule.action == Restriction.Action.BLOCK:
            calc.blocked = True
            calc.reasons.append(text)
        elif rule.action == Restriction.Action.REQUIRE_DOC:
            if line.licence_number or line.certificate_number:
                calc.warnings.append(text)
            else:
                calc.blocked = True
                calc.reasons.append(
                    text + " " + _("Give the %(doc)s number to ship it.") % {"doc": rule.document}
                )
        else:
            calc.warnings.append(text)


def _check_sanctions(calc: _Calc) -> None:
    c, book = calc.c, calc.book
    seller = c.seller_country or c.ship_from
    base, per_item = book.sanctions_for(
        destination=c.destination, region=c.destination_region, seller_country=seller, on=c.date
    )
    if not c.destination_region and book.has_region_sanctions(c.destination, c.date):
        calc.review = True
        calc.warnings.append(
            _(
                "Parts of %(dest)s are under sanctions: "
                "give the region so the address can be checked."
            )
            % {"dest": c.destination}
        )
    for rule in base:
        calc.use("sanction", rule)
        if rule.action == SanctionedDestination.Action.BLOCK:
            calc.blocked = True
            calc.reasons.append(rule.reason)
        elif rule.action == SanctionedDestination.Action.REVIEW:
            calc.review = True
            calc.warnings.append(rule.reason)
        else:
            calc.warnings.append(rule.reason)
    for rule in per_item:
        try:
            to_eur = calc.factor(c.currency, "EUR", "ECB_DAILY")
        except fx.RateUnavailable:
            # Cannot tell whether an item is over the limit: a person decides.
            calc.review = True
            calc.warnings.append(rule.reason)
            continue
        if any(line.unit_price * to_eur > rule.min_item_value_eur for line in c.lines):
            calc.use("sanction", rule)
            calc.blocked = True
            calc.reasons.append(rule.reason)


def _form(calc: _Calc) -> tuple[str, Decimal | None]:
    """CN23 for parcels, courier items and contents over the SDR limit; otherwise CN22."""
    c, book = calc.c, calc.book
    if c.transport == "courier" or c.postal_service == "parcel":
        return "CN23", None
    sdr = book.sdr_rate(currency=c.currency, on=c.date)
    factor = ONE
    if sdr is None:
        sdr = book.sdr_rate(currency="USD", on=c.date)
        if sdr is None:
            calc.warnings.append(_("No SDR rate is configured: CN23 is used."))
            return "CN23", None
        try:
            factor = calc.factor(c.currency, "USD", "ECB_DAILY")
        except fx.RateUnavailable:
            calc.warnings.append(_("No exchange rate to compare with the SDR limit: CN23 is used."))
            return "CN23", None
    calc.use("sdr", sdr)
    value_sdr = (c.goods * factor / sdr.units_per_sdr).quantize(Decimal("0.01"))
    return ("CN23" if value_sdr > sdr.cn22_max_sdr else "CN22"), value_sdr


def _result(
    calc: _Calc,
    regime: Regime | None,
    customs_value: Decimal,
    duty: Decimal,
    tax: Decimal,
    rate: Decimal | None,
    _unused: Decimal,
    lines: list[LineResult],
    fee_lines: list[dict],
    collected: bool,
    form: str,
    sdr_value: Decimal | None,
) -> QuoteResult:
    c = calc.c
    cur = c.currency
    buyer_fees = sum((f["amount"] for f in fee_lines if f["payer"] == "buyer"), ZERO)
    platform = sum((f["amount"] for f in fee_lines if f["payer"] != "buyer"), ZERO)
    goods = quantize(c.goods, cur)
    shipping = quantize(c.shipping, cur)
    insurance = quantize(c.insurance, cur)
    ddp = collected or c.incoterm == "DDP"
    for line in lines:
        line.collected = collected
    return QuoteResult(
        currency=cur,
        goods=goods,
        shipping=shipping,
        insurance=insurance,
        customs_value=quantize(customs_value, cur),
        duty=duty,
        tax=tax,
        fees=buyer_fees,
        landed_cost=goods + shipping + insurance + duty + tax + buyer_fees,
        collected_at_checkout=ddp,
        incoterm="DDP" if ddp else "DAP",
        form=form,
        blocked=calc.blocked,
        review_required=calc.review,
        incomplete=calc.incomplete,
        reasons=list(dict.fromkeys(calc.reasons)),
        warnings=list(dict.fromkeys(calc.warnings)),
        rules=calc.rules,
        unknowns=list(calc.unknowns),
        tax_name=regime.tax_name if regime else "",
        tax_rate_percent=rate,
        tax_scheme=regime.tax_scheme if (regime and collected) else "",
        marketplace_costs=platform,
        value_in_sdr=sdr_value,
        lines=lines,
        fee_lines=fee_lines,
        regime_id=regime.pk if regime else None,
        category=c.category,
    )
