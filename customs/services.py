"""Customs services: quotes, declarations and their documents.

The orders app calls ``quote_consignment(consignment=..., save=True)`` at checkout for each
shop's part of an order, and ``create_declaration(...)`` after payment; both take plain
dataclasses, so customs never imports orders.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.documents import RENDERERS, kinds_for, postal_address
from customs.ics2 import validate_party_name
from customs.landed_cost import Consignment, QuoteResult, compute_quote
from customs.models import (
    CustomsDeclaration,
    CustomsDocument,
    DeclarationLine,
    PaperworkJob,
    Quote,
)
from customs.s10 import validate_s10
from customs.schemes import deemed_supplier, scheme_number
from customs.schemes import label as scheme_label
from customs.signals import announce_paperwork_finished
from marketplace.core.addresses import PostalAddress, suggested_latin
from marketplace.core.errors import DomainError
from marketplace.core.money import quantize

logger = logging.getLogger(__name__)


def quote_consignment(
    *,
    consignment: Consignment,
    save: bool = False,
    shop=None,
    reference: str = "",
) -> QuoteResult:
    """The landed cost of one consignment; with ``save`` also a ``Quote`` row (its id in the
    result's ``quote_id``) keeping the inputs, the breakdown and the rule rows used."""
    result = compute_quote(consignment)
    if save:
        with transaction.atomic():
            quote = Quote.objects.create(
                shop=shop,
                reference=reference[:80],
                quote_date=consignment.date,
                destination=consignment.destination,
                currency=result.currency,
                goods=result.goods,
                shipping=result.shipping,
                insurance=result.insurance,
                customs_value=result.customs_value,
                duty=result.duty,
                tax=result.tax,
                fees=result.fees,
                landed_cost=result.landed_cost,
                collected_at_checkout=result.collected_at_checkout,
                incoterm=result.incoterm,
                form=result.form,
                blocked=result.blocked,
                review_required=result.review_required,
                incomplete=result.incomplete,
                regime_id=result.regime_id,
                inputs=consignment.to_dict(),
                breakdown=result.to_dict(),
                rules_used=result.rules,
            )
        result.quote_id = quote.pk
    return result


# --- Declarations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyAddress:
    """Sender or addressee as printed on the declaration (a frozen snapshot, no live rows)."""

    name: str
    country: str
    address_lines: tuple[str, ...] = ()
    city: str = ""
    postcode: str = ""
    region: str = ""
    business: str = ""
    phone: str = ""
    email: str = ""
    reference: str = ""  # importer reference: tax code / VAT / EORI (optional)
    latin: str = ""  # the address in Latin letters, as the person wrote or accepted it

    @classmethod
    def from_address(cls, address, *, email: str = "", reference: str = "") -> PartyAddress:
        """From an ``accounts.Address`` (the buyer's shipping address)."""
        return cls(
            name=address.name,
            business=address.company,
            address_lines=tuple(x for x in (address.line1, address.line2) if x),
            city=address.city,
            postcode=address.postcode,
            region=address.region,
            country=address.country.code,
            phone=str(address.phone or ""),
            email=email,
            reference=reference or getattr(address, "tax_reference", ""),
            latin=getattr(address, "latin", ""),
        )

    def postal(self) -> PostalAddress:
        return postal_address(asdict(self))

    def snapshot(self) -> dict:
        from django_countries import countries

        data = asdict(self)
        data["address_lines"] = list(self.address_lines)
        data["country_name"] = str(dict(countries).get(self.country, self.country))
        # Posts read Latin letters: freeze the person's own version, or a transliteration.
        data["latin"] = self.latin or suggested_latin(self.postal())
        return data


def sender_snapshot(shop) -> dict:
    """The shop's export profile as printed in the From box (FACTS §1.3 / §3.1)."""
    party = PartyAddress(
        name=shop.legal_name,
        business=shop.display_name if shop.display_name != shop.legal_name else "",
        address_lines=tuple(x for x in (shop.address_line1, shop.address_line2) if x),
        city=shop.city,
        postcode=shop.postcode,
        region=shop.region,
        country=shop.country.code,
        phone=str(shop.phone or ""),
        email=shop.email,
        latin=getattr(shop, "latin_address", ""),
    ).snapshot()
    party.update(
        eori=shop.eori,
        vat_number=shop.vat_number,
        exporter_reference=shop.exporter_reference,
        operator="",
    )
    return party


def tax_scheme_id(scheme: str) -> str:
    """The marketplace's registration number for a tax scheme (settings, not code)."""
    return scheme_number(scheme)


def create_declaration(
    *,
    shop,
    reference: str,
    consignment: Consignment,
    addressee: PartyAddress,
    invoice_number: str,
    invoice_date: date | None = None,
    order_number: str = "",
    quote: QuoteResult | None = None,
    quote_id: int | None = None,
    item_id: str = "",
    gross_weight_kg: Decimal | None = None,
    comments: str = "",
    paid_tax_scheme: str = "",
    category: str = CustomsDeclaration.Category.SALE_OF_GOODS,
    category_explanation: str = "",
) -> CustomsDeclaration:
    """Freeze the declaration of one consignment and enqueue its documents after commit.

    Idempotent per ``reference`` (one declaration per consignment): a second call returns the
    existing declaration unchanged. Refuses a blocked consignment with the reasons, and a
    consignment whose tax the buyer paid under ``paid_tax_scheme`` when the marketplace's
    number for that scheme is no longer configured (the parcel would be taxed again).
    """
    existing = CustomsDeclaration.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    if not invoice_number.strip():
        raise DomainError(_("An invoice number is required on a commercial declaration."))
    name_check = validate_party_name(addressee.name)
    if not name_check.ok:
        raise DomainError(name_check.errors[0], code="addressee")
    result = quote or compute_quote(consignment)
    if result.blocked:
        raise DomainError(
            _("This consignment cannot be shipped: %(r)s") % {"r": " ".join(result.reasons)},
            code="blocked",
        )
    category, category_explanation = _checked_category(category, category_explanation)
    if item_id:
        item_id = _checked_item_id(item_id, consignment.transport, consignment.ship_from)
    scheme = result.tax_scheme if result.collected_at_checkout else ""
    if paid_tax_scheme and scheme != paid_tax_scheme:
        raise DomainError(
            _(
                "The buyer paid the tax at checkout under %(scheme)s, but the marketplace's "
                "%(label)s is not configured: set it in CUSTOMS_TAX_SCHEME_IDS, then retry."
            )
            % {"scheme": paid_tax_scheme, "label": scheme_label(paid_tax_scheme)},
            code="tax_scheme",
        )
    supplier = deemed_supplier(scheme) if scheme else None
    cur = consignment.currency
    net = sum((ln.net_weight_kg * ln.quantity for ln in consignment.lines), Decimal(0))
    gross = gross_weight_kg if gross_weight_kg is not None else net + PACKAGING_KG
    # Box 11 "Comments" is for customs: restrictions on the goods (quarantine, permits), not
    # the quote's own caveats about uncertain rules.
    notes = [comments] if comments else []
    notes += list(dict.fromkeys(ln.restriction for ln in result.lines if ln.restriction))
    licences = ",".join(ln.licence_number for ln in consignment.lines if ln.licence_number)
    certificates = ",".join(
        ln.certificate_number for ln in consignment.lines if ln.certificate_number
    )
    try:
        with transaction.atomic():
            declaration = CustomsDeclaration.objects.create(
                shop=shop,
                reference=reference,
                quote_id=quote_id or result.quote_id,
                form=result.form,
                category=category,
                category_explanation=category_explanation,
                sender={**sender_snapshot(shop), **_origin_declaration(shop, consignment)},
                addressee=addressee.snapshot(),
                ship_from=consignment.ship_from,
                destination=consignment.destination,
                transport=consignment.transport,
                currency=cur,
                # The sum of the rounded lines: the form's lines always add up to its total.
                total_value=sum((quantize(ln.value, cur) for ln in consignment.lines), ZERO),
                total_net_weight_kg=net.quantize(Decimal("0.001")),
                total_gross_weight_kg=Decimal(gross).quantize(Decimal("0.001")),
                postal_charges=quantize(consignment.shipping + consignment.insurance, cur),
                # Insured for the goods' value when insurance was bought; the premium is a
                # postal charge (box 9), never the insured value.
                insured_value=(
                    sum((quantize(ln.value, cur) for ln in consignment.lines), ZERO)
                    if consignment.insurance > 0
                    else ZERO
                ),
                insurance_premium=quantize(consignment.insurance, cur),
                duty=result.duty,
                tax=result.tax,
                incoterm=result.incoterm,
                incoterm_place=f"{addressee.city}, {addressee.country}".strip(", "),
                tax_collected=result.collected_at_checkout,
                tax_scheme=scheme if supplier else "",
                tax_scheme_id=supplier.number if supplier else "",
                deemed_supplier=supplier.snapshot() if supplier else {},
                non_delivery=_non_delivery(shop),
                invoice_number=invoice_number[:40],
                invoice_date=invoice_date or consignment.date,
                order_number=order_number[:40],
                item_id=item_id,
                licence_numbers=licences[:200],
                certificate_numbers=certificates[:200],
                comments="; ".join(notes)[:1000],
                signatory=shop.signatory_name,
            )
            DeclarationLine.objects.bulk_create(
                DeclarationLine(
                    declaration=declaration,
                    position=n,
                    description=ln.description,
                    quantity=ln.quantity,
                    net_weight_kg=(ln.net_weight_kg * ln.quantity).quantize(Decimal("0.001")),
                    unit_value=quantize(ln.unit_price, cur),
                    value=quantize(ln.value, cur),
                    hs_code=ln.hs_code,
                    origin=ln.origin,
                    sku=ln.sku,
                )
                for n, ln in enumerate(consignment.lines, start=1)
            )
            _enqueue_job(declaration, version=1)
    except IntegrityError:
        # A concurrent call for the same consignment won the unique reference.
        return CustomsDeclaration.objects.get(reference=reference)
    return declaration


PACKAGING_KG = Decimal("0.100")
ZERO = Decimal(0)


# EU-UK TCA Annex ORIG-4 (text of the statement on origin), the words the exporter writes on
# the invoice; the territory of origin of the exporter's goods goes in the gap.
TCA_STATEMENT = (
    "The exporter of the products covered by this document (Exporter Reference No {ref}) "
    "declares that, except where otherwise clearly indicated, these products are of "
    "{origin} preferential origin."
)


def _origin_declaration(shop, consignment: Consignment) -> dict:
    """The seller's statement on origin, on EU<->UK routes when the shop has one on file.

    Lines of another origin are named as the exceptions the text allows ("except where
    otherwise clearly indicated"). Other agreements (CUSMA) certify origin by data elements,
    not a fixed text, and are not printed here."""
    from customs.rulebook import EU_MEMBERS

    if not consignment.origin_statement:
        return {}
    start, end = consignment.ship_from, consignment.destination
    if start == "GB" and end in EU_MEMBERS:
        origin, own = "United Kingdom", {"GB"}
    elif start in EU_MEMBERS and end == "GB":
        origin, own = "European Union", set(EU_MEMBERS)
    else:
        return {}
    reference = shop.exporter_reference or shop.eori
    if not reference:
        return {}
    exceptions = [n for n, ln in enumerate(consignment.lines, start=1) if ln.origin not in own]
    return {
        "origin_declaration": TCA_STATEMENT.format(ref=reference, origin=origin),
        "origin_exceptions": exceptions,
    }


def _checked_category(category: str, explanation: str) -> tuple[str, str]:
    """CN22/CN23 box 10: one of the UPU categories; "other" needs its explanation."""
    if category not in CustomsDeclaration.Category.values:
        raise DomainError(_("Category of item: choose one from the list."), code="category")
    explanation = " ".join((explanation or "").split())[:200]
    if category == CustomsDeclaration.Category.OTHER and not explanation:
        raise DomainError(
            _("Category “Other”: explain what is sent (e.g. “repair, no change of owner”)."),
            code="category",
        )
    return category, explanation


def set_category(
    *, declaration: CustomsDeclaration, category: str, explanation: str = ""
) -> PaperworkJob | None:
    """The seller's category of item (box 10); the documents get a new version with it."""
    category, explanation = _checked_category(category, explanation)
    with transaction.atomic():
        locked = CustomsDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if (locked.category, locked.category_explanation) == (category, explanation):
            return None
        locked.category, locked.category_explanation = category, explanation
        locked.documents_version += 1
        locked.save(
            update_fields=["category", "category_explanation", "documents_version", "updated_at"]
        )
        job = _enqueue_job(locked, version=locked.documents_version)
    declaration.category, declaration.category_explanation = category, explanation
    declaration.documents_version = locked.documents_version
    return job


def _non_delivery(shop) -> str:
    value = getattr(shop, "non_delivery", "") or CustomsDeclaration.NonDelivery.RETURN_PRIORITY
    return value if value in CustomsDeclaration.NonDelivery.values else "return_priority"


def _checked_item_id(item_id: str, transport: str, origin: str) -> str:
    if transport == "post":
        try:
            return validate_s10(item_id, origin=origin)
        except ValidationError as exc:
            raise DomainError(exc.messages[0], code="item_id") from exc
    return item_id.strip()[:40]


def _enqueue_job(declaration: CustomsDeclaration, *, version: int) -> PaperworkJob:
    job = PaperworkJob.objects.create(declaration=declaration, version=version)
    from customs.tasks import render_declaration_documents

    render_declaration_documents.delay_on_commit(job.pk)
    return job


def request_documents(*, declaration: CustomsDeclaration) -> PaperworkJob:
    """Render a new version of every document (admin "regenerate")."""
    with transaction.atomic():
        locked = CustomsDeclaration.objects.select_for_update().get(pk=declaration.pk)
        locked.documents_version += 1
        locked.save(update_fields=["documents_version", "updated_at"])
        job = _enqueue_job(locked, version=locked.documents_version)
    declaration.documents_version = locked.documents_version
    return job


def set_item_id(*, declaration: CustomsDeclaration, item_id: str) -> PaperworkJob | None:
    """Record the tracking (S10) id; the documents get a new version with its barcode."""
    item_id = _checked_item_id(item_id, declaration.transport, declaration.ship_from)
    with transaction.atomic():
        locked = CustomsDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if locked.item_id == item_id:
            return None
        locked.item_id = item_id
        locked.documents_version += 1
        locked.save(update_fields=["item_id", "documents_version", "updated_at"])
        job = _enqueue_job(locked, version=locked.documents_version)
    declaration.item_id, declaration.documents_version = item_id, locked.documents_version
    return job


def retry_job(*, job: PaperworkJob) -> bool:
    """Put a failed job back in the queue (admin action). False if it was not failed."""
    with transaction.atomic():
        moved = PaperworkJob.objects.filter(pk=job.pk, status=PaperworkJob.Status.FAILED).update(
            status=PaperworkJob.Status.PENDING, last_error="", started_at=None, finished_at=None
        )
        if moved:
            from customs.tasks import render_declaration_documents

            render_declaration_documents.delay_on_commit(job.pk)
    return bool(moved)


# --- The paperwork worker ---------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=settings.CUSTOMS_JOB_LEASE_SECONDS)


def process_paperwork_job(*, job_id: int, now: datetime | None = None) -> str:
    """Render the documents of one job. Returns "done", "skipped" (already finished or
    unknown) or "busy" (another worker holds a live lease: try again later).

    Claiming is a conditional UPDATE (pending -> running, or a running job whose lease
    expired because its worker died), so two workers never render the same job at once;
    each document is unique per (declaration, kind, version), so a redelivered job only
    adds what is missing.
    """
    now = now or timezone.now()
    S = PaperworkJob.Status
    claimed = (
        PaperworkJob.objects.filter(pk=job_id)
        .filter(Q(status=S.PENDING) | Q(status=S.RUNNING, started_at__lt=now - _lease()))
        .update(status=S.RUNNING, started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        status = PaperworkJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
        return "busy" if status == S.RUNNING else "skipped"
    job = PaperworkJob.objects.select_related("declaration").get(pk=job_id)
    declaration = CustomsDeclaration.objects.prefetch_related("lines").get(pk=job.declaration_id)
    if job.version < declaration.documents_version:
        # Superseded (the item id changed or an admin regenerated meanwhile): renderers read
        # the declaration as it is now, so this version would only duplicate the newer one.
        PaperworkJob.objects.filter(pk=job_id, status=S.RUNNING).update(
            status=S.DONE,
            finished_at=timezone.now(),
            last_error=f"superseded by version {declaration.documents_version}",
        )
        return "superseded"
    for kind in kinds_for(declaration):
        _render_document(declaration, kind=kind, version=job.version)
    finished = PaperworkJob.objects.filter(pk=job_id, status=S.RUNNING).update(
        status=S.DONE, finished_at=timezone.now(), last_error=""
    )
    if finished:
        announce_paperwork_finished(
            reference=declaration.reference, version=job.version, status=S.DONE, error=""
        )
    return "done"


def _render_document(declaration: CustomsDeclaration, *, kind: str, version: int) -> None:
    if CustomsDocument.objects.filter(declaration=declaration, kind=kind, version=version).exists():
        return
    render, content_type = RENDERERS[kind]
    data = render(declaration)
    ext = "json" if kind == CustomsDocument.Kind.ADVANCE_DATA else "pdf"
    name = f"customs/{declaration.pk}/{kind}-v{version}.{ext}"
    if default_storage.exists(name):
        # Left by a worker that died between writing the file and recording it.
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(data))
    try:
        with transaction.atomic():
            CustomsDocument.objects.create(
                declaration=declaration,
                kind=kind,
                version=version,
                file=stored,
                content_type=content_type,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
            )
    except IntegrityError:
        # A concurrent run recorded it first; keep theirs.
        if stored != name:
            default_storage.delete(stored)


def release_paperwork_job(*, job_id: int) -> None:
    """Give a claimed job back (a transient error): the retry or the sweeper claims it."""
    PaperworkJob.objects.filter(pk=job_id, status=PaperworkJob.Status.RUNNING).update(
        status=PaperworkJob.Status.PENDING, started_at=None
    )


def fail_paperwork_job(*, job_id: int, reason: str) -> None:
    """The final failure: visible in admin with its reason, and to the shop's owners."""
    with transaction.atomic():
        moved = PaperworkJob.objects.filter(
            pk=job_id, status__in=[PaperworkJob.Status.PENDING, PaperworkJob.Status.RUNNING]
        ).update(
            status=PaperworkJob.Status.FAILED, last_error=reason[:2000], finished_at=timezone.now()
        )
        if moved:
            _notify_failure(job_id, reason)
            job = PaperworkJob.objects.select_related("declaration").get(pk=job_id)
            announce_paperwork_finished(
                reference=job.declaration.reference,
                version=job.version,
                status=PaperworkJob.Status.FAILED,
                error=reason[:2000],
            )


def _notify_failure(job_id: int, reason: str) -> None:
    from accounts.models import ShopMembership
    from accounts.services import notify

    job = PaperworkJob.objects.select_related("declaration__shop").get(pk=job_id)
    shop = job.declaration.shop
    if shop is None:
        return
    owners = ShopMembership.objects.filter(shop=shop, role=ShopMembership.Role.OWNER)
    for membership in owners.select_related("user"):
        notify(
            user=membership.user,
            kind="customs_paperwork_failed",
            context={
                "shop_name": shop.display_name,
                "reference": job.declaration.reference,
                "reason": reason[:300],
            },
            dedupe_key=f"customs-job-failed-{job_id}",
        )


def jobs_to_sweep(*, now: datetime | None = None) -> list[int]:
    """Jobs whose publish was lost (pending for a while) or whose worker died (lease over)."""
    now = now or timezone.now()
    S = PaperworkJob.Status
    grace = timedelta(seconds=settings.CUSTOMS_SWEEP_AFTER_SECONDS)
    return list(
        PaperworkJob.objects.filter(
            Q(status=S.PENDING, created_at__lte=now - grace)
            | Q(status=S.RUNNING, started_at__lt=now - _lease())
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


def document_for_member(*, user, pk: int) -> CustomsDocument | None:
    """A document of a shop the user belongs to, or None (the view answers 404, never 403)."""
    return (
        CustomsDocument.objects.select_related("declaration")
        .filter(pk=pk, declaration__shop__memberships__user=user)
        .first()
    )
