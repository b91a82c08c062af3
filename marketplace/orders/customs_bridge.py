"""Every call from orders into the customs engine, in one place.

Customs takes plain inputs (``Consignment``, ``PartyAddress``) and never imports orders; this
module turns a shop's part of a cart or order into those inputs and the engine's answers
into what the checkout and the seller pages show. Nothing here computes duty or tax.

Amounts go to customs in the **destination's currency** (converted from the shop's currency
at the ECB rate of the day): thresholds and flat duties are set in it, so a German buyer sees
exactly EUR 3.00 duty and exactly 19 % VAT, not a round trip through dollars.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Address, Shop, User
from customs import fx
from customs.landed_cost import Consignment, ConsignmentLine, QuoteResult
from customs.models import (
    CustomsDeclaration,
    CustomsDocument,
    PaperworkJob,
    Regime,
    ScreeningHit,
)
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize
from marketplace.listings.models import Variant

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
# A consignment within this share of a threshold gets a banner ("12.40 EUR left before ...").
CLOSE_TO_THRESHOLD = Decimal("0.80")
_REGION_RE = re.compile(r"^[A-Z0-9]{1,3}$")


@dataclass
class ConsignmentQuote:
    """The customs answer for one consignment, as the checkout uses it."""

    currency: str
    duty: Decimal
    tax: Decimal
    fees: Decimal
    collected_at_checkout: bool
    incoterm: str
    form: str
    blocked: bool
    review_required: bool
    incomplete: bool
    reasons: list[str]
    warnings: list[str]
    tax_name: str = ""
    tax_rate_percent: Decimal | None = None
    quote_id: int | None = None
    banners: list[str] = field(default_factory=list)
    # Why the estimate is unknown (``incomplete``): the missing rule or rate data.
    unknowns: list[str] = field(default_factory=list)
    # The inputs and the full breakdown, frozen onto the shop order.
    snapshot: dict = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.duty + self.tax + self.fees


def destination_currency(country: str, fallback: str) -> str:
    from babel.numbers import get_territory_currencies

    found = get_territory_currencies(country, date.today(), tender=True)
    return found[0] if found else fallback


def transport_for(service_level: str) -> str:
    return "courier" if service_level == "courier" else "post"


def _region(address: Address | None, destination: str) -> str | None:
    """An ISO 3166-2 code when the address gives a short region code (e.g. "ON" -> CA-ON)."""
    if address is None or not address.region:
        return None
    code = address.region.strip().upper()
    if code.startswith(f"{destination}-"):
        code = code[len(destination) + 1 :]
    return f"{destination}-{code}" if _REGION_RE.match(code) else None


def build_consignment(
    *,
    shop: Shop,
    lines: list[tuple[Variant, int]],
    destination: str,
    address: Address | None,
    shipping: Decimal,
    service_level: str,
    on: date,
) -> Consignment:
    """One shop's goods to one destination, in the destination's currency."""
    currency = destination_currency(destination, shop.currency)
    try:
        rate = fx.rate(shop.currency, currency, on=on).value
    except fx.RateUnavailable:
        currency, rate = shop.currency, Decimal(1)
    return Consignment(
        date=on,
        ship_from=shop.country.code,
        destination=destination,
        currency=currency,
        lines=tuple(
            ConsignmentLine(
                hs_code=variant.listing.hs_code,
                origin=variant.listing.origin_country.code or shop.country.code,
                description=variant.listing.customs_description,
                quantity=quantity,
                unit_price=quantize(variant.price * rate, currency),
                net_weight_kg=variant.net_weight_kg or ZERO,
                sku=variant.sku,
            )
            for variant, quantity in lines
        ),
        shipping=quantize(shipping * rate, currency),
        destination_region=_region(address, destination),
        # Special territories (Northern Ireland's BT postcodes ...) are told apart by postcode.
        destination_postcode=(address.postcode or "")[:16] if address is not None else "",
        channel="marketplace",
        transport=transport_for(service_level),
        seller_country=shop.country.code,
        incoterm=shop.default_incoterm or None,
        origin_statement=shop.origin_statement_on_file,
    )


def quote_consignment(
    *,
    shop: Shop,
    lines: list[tuple[Variant, int]],
    destination: str,
    address: Address | None,
    shipping: Decimal,
    service_level: str,
    on: date,
    buyer: User | None = None,
    save: bool = False,
    reference: str = "",
) -> ConsignmentQuote:
    """Duty, import tax and fees of one consignment, and whether we collect them now."""
    from customs.services import quote_consignment as customs_quote

    consignment = build_consignment(
        shop=shop,
        lines=lines,
        destination=destination,
        address=address,
        shipping=shipping,
        service_level=service_level,
        on=on,
    )
    result = customs_quote(consignment=consignment, save=save, shop=shop, reference=reference)
    return _from_result(result, consignment)


def _from_result(result: QuoteResult, consignment: Consignment) -> ConsignmentQuote:
    return ConsignmentQuote(
        currency=result.currency,
        duty=result.duty,
        tax=result.tax,
        fees=result.fees,
        collected_at_checkout=result.collected_at_checkout,
        incoterm=result.incoterm,
        form=result.form,
        blocked=result.blocked,
        review_required=result.review_required,
        incomplete=result.incomplete,
        reasons=list(result.reasons),
        warnings=list(result.warnings),
        tax_name=result.tax_name,
        tax_rate_percent=result.tax_rate_percent,
        quote_id=result.quote_id,
        banners=threshold_banners(result, consignment),
        unknowns=list(result.unknowns),
        snapshot={"inputs": consignment.to_dict(), "quote": result.to_dict()},
    )


def threshold_banners(result: QuoteResult, consignment: Consignment) -> list[str]:
    """ "12.40 EUR left before ...": the consignment is within 20 % under a threshold.

    The quote does not carry threshold information, so it is read from the regime row the
    quote used (through the customs rule book, no query) and compared in its currency.
    """
    if result.regime_id is None or result.blocked:
        return []
    from customs.rulebook import get_rules

    regime = next(
        (
            r
            for r in get_rules().regimes.get(consignment.destination, ())
            if r.pk == result.regime_id
        ),
        None,
    )
    if regime is None:
        return []
    try:
        to_reg = fx.rate(
            consignment.currency, regime.currency, on=consignment.date, kind=regime.fx_kind
        ).value
    except fx.RateUnavailable:
        return []
    goods = consignment.goods * to_reg
    values = {
        Regime.ThresholdBasis.INTRINSIC: goods,
        Regime.ThresholdBasis.CUSTOMS_VALUE: result.customs_value * to_reg,
        Regime.ThresholdBasis.PER_ITEM: max(line.unit_price for line in consignment.lines) * to_reg,
    }
    tax_name = regime.tax_name or _("import tax")
    checks = [
        (
            regime.collect_max_value if regime.collect_at_sale else None,
            regime.collect_max_basis,
            _("above it, %(tax)s and duty are paid to the carrier on delivery instead")
            % {"tax": tax_name},
        ),
        (
            regime.flat_duty_max_value if regime.flat_duty_amount is not None else None,
            Regime.ThresholdBasis.INTRINSIC,
            _("above it, the full tariff duty applies instead of the flat duty"),
        ),
        (regime.duty_threshold, regime.duty_threshold_basis, _("above it, duty is due")),
        (
            regime.tax_threshold,
            regime.tax_threshold_basis,
            _("above it, %(tax)s is due") % {"tax": tax_name},
        ),
    ]
    banners: list[str] = []
    for limit, basis, consequence in checks:
        value = values.get(basis)
        if limit is None or value is None or not limit:
            continue
        if limit * CLOSE_TO_THRESHOLD <= value <= limit:
            left = quantize(limit - value, regime.currency)
            text = _("%(left)s %(cur)s left before the %(limit)s %(cur)s limit: %(then)s.") % {
                "left": left,
                "cur": regime.currency,
                "limit": quantize(limit, regime.currency),
                "then": consequence,
            }
            if text not in banners:
                banners.append(text)
    return banners


# --- Screening ---------------------------------------------------------------------------------


def screening_reference(order_number: str, shop_id: int) -> str:
    """The consignment reference screening hits are filed under (``ShopOrder.reference``)."""
    return f"{order_number}-{shop_id}"


def screen_consignments(*, order_number: str, buyer, address, consignments) -> dict[int, str]:
    """Screen seller, buyer and consignee of each international consignment; returns the
    hold reason per shop id for those that must wait for an admin.

    A possible denied-party match holds a parcel, and so does a quote asking for a manual
    sanctions review. Runs before ``place_order`` takes its stock locks (fuzzy matching
    costs milliseconds); the hits are written in the same transaction as the order.
    """
    from customs.screening import Party, screen_parties

    buyer_name = buyer.name or address.name
    consignee = " ".join(p for p in (address.name, address.company) if p)
    country = address.country.code
    holds: dict[int, str] = {}
    for consignment in consignments:
        if not consignment.international:
            continue
        shop = consignment.shop
        parties = [
            Party(ScreeningHit.Subject.SELLER, shop.legal_name, shop.country.code),
            Party(ScreeningHit.Subject.BUYER, buyer_name, country),
            Party(ScreeningHit.Subject.CONSIGNEE, consignee, country),
        ]
        result = screen_parties(
            reference=screening_reference(order_number, shop.pk), parties=parties
        )
        reasons = [
            _("Possible match of the %(subject)s “%(name)s” with %(list)s entry “%(entry)s”.")
            % {
                "subject": hit.get_subject_display(),
                "name": hit.query_name,
                "list": hit.list_name,
                "entry": hit.matched_name,
            }
            for hit in result.hits
            if hit.decision != ScreeningHit.Decision.CLEARED
        ]
        quote = consignment.customs
        if quote is not None and quote.review_required:
            reasons += [w for w in quote.warnings if w not in reasons][:3] or [
                _("The destination needs a manual sanctions review.")
            ]
        if reasons:
            holds[shop.pk] = " ".join(reasons)
    return holds


def clear_screening(*, shop_order, actor: User, note: str) -> None:
    """Clear the parcel's pending screening hits; a confirmed hit cannot be released."""
    from customs.screening import decide_screening_hit

    hits = list(ScreeningHit.objects.filter(reference=shop_order.reference).order_by("pk"))
    if any(hit.decision == ScreeningHit.Decision.CONFIRMED for hit in hits):
        raise DomainError(
            _("A screening hit on this parcel was confirmed: cancel and refund it instead.")
        )
    for hit in hits:
        if hit.decision == ScreeningHit.Decision.PENDING:
            decide_screening_hit(
                hit=hit,
                decision=ScreeningHit.Decision.CLEARED,
                actor=actor,
                note=note or _("Released from the order admin."),
            )


# --- Paperwork ---------------------------------------------------------------------------------


def create_declaration(*, shop_order, now: datetime):
    """Freeze the parcel's declaration; customs queues its documents after commit.

    Built from the quote the buyer paid for (its inputs are the consignment) and the address
    snapshot on the order, never from live listings. Idempotent per consignment reference.
    """
    from customs.services import PartyAddress
    from customs.services import create_declaration as customs_declaration

    order = shop_order.order
    inputs = (shop_order.quote or {}).get("inputs")
    if not inputs:
        raise DomainError(_("This parcel has no customs quote to declare."))
    consignment = Consignment.from_dict(inputs)
    paid = (shop_order.quote or {}).get("quote") or {}
    addressee = PartyAddress(
        name=order.ship_name,
        business=order.ship_company,
        address_lines=tuple(x for x in (order.ship_line1, order.ship_line2) if x),
        city=order.ship_city,
        postcode=order.ship_postcode,
        region=order.ship_region,
        country=order.ship_country.code,
        phone=order.ship_phone,
        email=order.buyer_email,
        latin=order.ship_latin,
        reference=order.ship_tax_reference,
    )
    return customs_declaration(
        shop=shop_order.shop,
        reference=shop_order.reference,
        consignment=consignment,
        addressee=addressee,
        invoice_number=f"INV-{shop_order.reference}",
        invoice_date=now.date(),
        order_number=order.number,
        quote_id=shop_order.customs_quote_id,
        paid_tax_scheme=paid.get("tax_scheme", "") if paid.get("collected_at_checkout") else "",
    )


@dataclass(frozen=True)
class PaperworkState:
    status: str  # "pending", "running", "done", "failed", or "missing"
    error: str = ""
    version: int = 0


def paperwork_state(*, declaration_id: int | None) -> PaperworkState:
    """Where the newest documents job of a declaration stands."""
    if declaration_id is None:
        return PaperworkState("missing")
    job = (
        PaperworkJob.objects.filter(declaration_id=declaration_id)
        .order_by("-version", "-pk")
        .values("status", "last_error", "version")
        .first()
    )
    if job is None:
        return PaperworkState("missing")
    return PaperworkState(job["status"], job["last_error"], job["version"])


def retry_documents(*, declaration_id: int) -> None:
    """Put the declaration's failed job back in the queue, or queue a new version."""
    from customs.services import request_documents, retry_job

    job = PaperworkJob.objects.filter(declaration_id=declaration_id).order_by("-version").first()
    if job is not None and job.status == PaperworkJob.Status.FAILED:
        retry_job(job=job)
    elif job is None or job.status == PaperworkJob.Status.DONE:
        from customs.models import CustomsDeclaration

        request_documents(declaration=CustomsDeclaration.objects.get(pk=declaration_id))


def set_tracking_number(*, declaration_id: int, tracking_number: str) -> None:
    """Print the S10 id as the item barcode: customs renders a new version of the documents."""
    from customs.models import CustomsDeclaration
    from customs.services import set_item_id

    set_item_id(
        declaration=CustomsDeclaration.objects.get(pk=declaration_id), item_id=tracking_number
    )


CATEGORY_CHOICES = CustomsDeclaration.Category.choices


def declaration_category(*, declaration_id: int | None) -> tuple[str, str] | None:
    """The declaration's category of item and its explanation (box 10), if declared."""
    if declaration_id is None:
        return None
    return (
        CustomsDeclaration.objects.filter(pk=declaration_id)
        .values_list("category", "category_explanation")
        .first()
    )


def set_category(*, declaration_id: int, category: str, explanation: str) -> bool:
    """The seller's category of item; customs renders a new version of the documents.
    False when nothing changed."""
    from customs.services import set_category as customs_set_category

    declaration = CustomsDeclaration.objects.get(pk=declaration_id)
    return (
        customs_set_category(declaration=declaration, category=category, explanation=explanation)
        is not None
    )


def s10_problem(number: str, origin: str = "") -> str:
    """What is wrong with a UPU S10 item id (issued by the ``origin`` country's post), or ""."""
    from customs.s10 import validate_s10

    try:
        validate_s10(number, origin=origin)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return ""


def documents(*, declaration_id: int | None, kinds: tuple[str, ...] | None = None) -> list:
    """The newest finished version of each document of a declaration (one query)."""
    if declaration_id is None:
        return []
    done_versions = set(
        PaperworkJob.objects.filter(
            declaration_id=declaration_id, status=PaperworkJob.Status.DONE
        ).values_list("version", flat=True)
    )
    rows = CustomsDocument.objects.filter(declaration_id=declaration_id).select_related(
        "declaration"
    )
    if kinds:
        rows = rows.filter(kind__in=kinds)
    newest: dict[str, CustomsDocument] = {}
    for document in rows.order_by("kind", "-version"):
        if document.version in done_versions and document.kind not in newest:
            newest[document.kind] = document
    order = [k.value for k in CustomsDocument.Kind]
    return sorted(newest.values(), key=lambda d: order.index(d.kind))


def document(*, declaration_id: int | None, pk: int, kinds: tuple[str, ...] | None = None):
    if declaration_id is None:
        return None
    rows = CustomsDocument.objects.filter(pk=pk, declaration_id=declaration_id).select_related(
        "declaration"
    )
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return rows.first()


BUYER_DOCUMENT_KINDS = (CustomsDocument.Kind.INVOICE,)


def in_transaction_safely(func, *args, **kwargs):
    """Run a customs call in a savepoint: its refusal must not undo the caller's work."""
    try:
        with transaction.atomic():
            return func(*args, **kwargs), ""
    except DomainError as exc:
        return None, exc.message
