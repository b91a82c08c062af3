"""CSV export and import of a shop's catalog, one row per variant.

Import rules, as the seller reads them on the import page:
- Rows are matched by SKU: a known SKU updates that variant (and its listing), a new SKU
  creates a variant. The ``listing`` column groups rows: the number of an existing listing,
  or any word (``new-shirt``) shared by the rows of a new listing; empty = a listing of its own.
- Every row is checked before anything is saved. Errors are reported by row (as numbered in
  a spreadsheet, the header being row 1) and column. With "all or nothing" one error means
  nothing is saved; with "valid rows only" the rows with errors are skipped.
- A column left out of the file keeps the current values; an empty cell clears the value.

The import runs in a Celery task with progress stored on the ``ImportJob`` row: rows are
checked in committed chunks (so the page can show how far it got), then everything is
applied in one transaction (so it is all or nothing).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import Shop
from marketplace.core.errors import DomainError
from marketplace.core.money import minor_units
from marketplace.listings.models import (
    Category,
    ImportJob,
    Listing,
    ListingEvent,
    ShippingProfile,
    Variant,
)

logger = logging.getLogger(__name__)

COLUMNS = [
    "listing",
    "title",
    "description",
    "category",
    "status",
    "hs_code",
    "customs_description",
    "origin_country",
    "material",
    "shipping_profile",
    "sku",
    "options",
    "price",
    "stock",
    "net_weight_kg",
]
LISTING_COLUMNS = [
    "title",
    "description",
    "category",
    "status",
    "hs_code",
    "customs_description",
    "origin_country",
    "material",
    "shipping_profile",
]
REQUIRED_COLUMNS = {"sku"}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
PROGRESS_EVERY = 250
MAX_REPORTED_ERRORS = 1000
# Spreadsheet programs run cells that start with these as formulas ("CSV injection").
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# --- Export ----------------------------------------------------------------------------------


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def format_options(options: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in options.items())


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(shop: Shop) -> Iterator[str]:
    """The shop's catalog as CSV lines (streamed: constant memory for any catalog size)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(COLUMNS)  # BOM: spreadsheet programs then read UTF-8
    variants = (
        Variant.objects.filter(listing__shop=shop)
        .select_related("listing__category", "listing__shipping_profile")
        .order_by("listing_id", "position", "pk")
    )
    for variant in variants.iterator(chunk_size=1000):
        listing = variant.listing
        yield writer.writerow(
            [
                _safe_cell(value)
                for value in (
                    listing.pk,
                    listing.title,
                    listing.description,
                    listing.category.path,
                    listing.status,
                    listing.hs_code,
                    listing.customs_description,
                    listing.origin_country.code or "",
                    listing.material,
                    listing.shipping_profile.name if listing.shipping_profile else "",
                    variant.sku,
                    format_options(variant.options),
                    variant.price,
                    variant.stock,
                    variant.net_weight_kg if variant.net_weight_kg is not None else "",
                )
            ]
        )


# --- Import: parsing and validation ------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ParsedRow:
    number: int
    group: str
    listing_id: int | None
    values: dict  # listing-level column -> cleaned value (only columns in the file)
    sku: str
    options: dict | None
    price: Decimal | None
    stock: int | None
    net_weight_kg: Decimal | str | None  # "" = column absent
    variant: Variant | None = None
    errors: list[RowError] = field(default_factory=list)


class ImportFileError(DomainError):
    pass


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows of an uploaded file, or ImportFileError saying what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from None
    if "\x00" in text:
        raise ImportFileError(_("This is not a CSV file."))
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file cannot be read: %(e)s") % {"e": exc}) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFileError(_("The file is empty."))
    header = [cell.strip().lower() for cell in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportFileError(
            _("Unknown columns: %(cols)s. The columns are: %(all)s.")
            % {"cols": ", ".join(unknown), "all": ", ".join(COLUMNS)}
        )
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ImportFileError(
            _("The file needs a %(cols)s column.") % {"cols": ", ".join(sorted(missing))}
        )
    if len(set(header)) != len(header):
        raise ImportFileError(_("A column appears twice in the header."))
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ImportFileError(
            _("The file has %(n)d rows; the limit is %(max)d per import.")
            % {"n": len(body), "max": MAX_ROWS}
        )
    if not body:
        raise ImportFileError(_("The file has a header but no rows."))
    return header, body


def _unquote(cell: str) -> str:
    # Our export prefixes formula-like cells with an apostrophe; take it off again.
    cell = cell.strip()
    if cell.startswith("'") and cell[1:2] in _FORMULA_PREFIXES:
        return cell[1:]
    return cell


def parse_options(text: str) -> dict:
    options = {}
    for part in filter(None, (p.strip() for p in text.replace("|", ";").split(";"))):
        if "=" not in part:
            raise ValueError(
                _("write options as name=value; name=value (e.g. size=M; colour=Blue)")
            )
        key, value = (s.strip() for s in part.split("=", 1))
        if not key or not value:
            raise ValueError(_("each option needs a name and a value"))
        if len(key) > 40 or len(value) > 80:
            raise ValueError(_("option names are at most 40 and values 80 characters"))
        options[key] = value
    return options


class Validator:
    """Checks every row of one file against the shop's catalog, memoising lookups."""

    def __init__(self, shop: Shop, header: list[str]) -> None:
        self.shop = shop
        self.header = header
        self.present = set(header)
        self.categories = {c.path: c for c in Category.objects.all()}
        self.profiles = {p.name.casefold(): p for p in ShippingProfile.objects.filter(shop=shop)}
        self._hs: dict[str, str | None] = {}
        self._descriptions: dict[str, list[str]] = {}
        self.decimals = minor_units(shop.currency)

    # cached customs checks -----------------------------------------------------------
    def hs_error(self, code: str) -> str | None:
        from customs.hs import normalize_hs_code, validate_hs_code

        code = normalize_hs_code(code)
        if code not in self._hs:
            try:
                validate_hs_code(code)
                self._hs[code] = None
            except ValidationError as exc:
                self._hs[code] = " ".join(exc.messages)
        return self._hs[code]

    def description_errors(self, text: str) -> list[str]:
        from customs.ics2 import validate_description

        if text not in self._descriptions:
            self._descriptions[text] = validate_description(text).errors
        return self._descriptions[text]

    # one row -------------------------------------------------------------------------
    def parse(self, number: int, cells: list[str]) -> ParsedRow:
        raw = {
            col: _unquote(cells[i]) if i < len(cells) else "" for i, col in enumerate(self.header)
        }
        errors: list[RowError] = []

        def err(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        group = raw.get("listing", "")
        listing_id = int(group) if group.isdigit() else None
        values: dict = {}
        if "title" in self.present:
            title = raw["title"]
            if not title:
                err("title", _("A title is required."))
            elif len(title) > 140:
                err("title", _("At most 140 characters."))
            values["title"] = title
        if "description" in self.present:
            values["description"] = raw["description"]
        if "category" in self.present:
            path = raw["category"].strip("/").lower()
            category = self.categories.get(path)
            if category is None:
                err(
                    "category",
                    _("No category %(path)r; use a path such as clothing/t-shirts.")
                    % {"path": raw["category"]},
                )
            values["category"] = category
        if "status" in self.present:
            # Empty: leave the status as it is (new listings start as drafts).
            status = raw["status"].lower()
            if status and status not in Listing.Status.values:
                err("status", _("Use draft, active or paused."))
            values["status"] = status
        if "hs_code" in self.present:
            from customs.hs import normalize_hs_code

            code = normalize_hs_code(raw["hs_code"])
            if code and (message := self.hs_error(code)):
                err("hs_code", message)
            values["hs_code"] = code
        if "customs_description" in self.present:
            text = raw["customs_description"]
            if len(text) > 200:
                err("customs_description", _("At most 200 characters."))
            elif text:
                for message in self.description_errors(text):
                    err("customs_description", message)
            values["customs_description"] = text
        if "origin_country" in self.present:
            code = raw["origin_country"].upper()
            if code and code not in dict(countries):
                err("origin_country", _("Use a two-letter country code such as CN or DE."))
            values["origin_country"] = code
        if "material" in self.present:
            if len(raw["material"]) > 100:
                err("material", _("At most 100 characters."))
            values["material"] = raw["material"]
        if "shipping_profile" in self.present:
            name = raw["shipping_profile"]
            profile = self.profiles.get(name.casefold()) if name else None
            if name and profile is None:
                err(
                    "shipping_profile",
                    _("Your shop has no shipping profile called %(name)r.") % {"name": name},
                )
            values["shipping_profile"] = profile

        sku = raw.get("sku", "")
        if not sku:
            err("sku", _("A SKU is required."))
        else:
            try:
                Variant._meta.get_field("sku").run_validators(sku)
                if len(sku) > 64:
                    raise ValidationError(_("At most 64 characters."))
            except ValidationError as exc:
                err("sku", " ".join(exc.messages))

        options = None
        if "options" in self.present:
            try:
                options = parse_options(raw["options"])
            except ValueError as exc:
                err("options", str(exc))
        price = None
        if "price" in self.present:
            price = self._decimal(raw["price"], "price", err, places=self.decimals)
            if price is not None and price < 0:
                err("price", _("A price cannot be negative."))
        stock = None
        if "stock" in self.present:
            text = raw["stock"] or "0"
            if not text.isdigit():
                err("stock", _("Stock is a whole number, 0 or more."))
            else:
                stock = int(text)
                if stock > 1_000_000:
                    err("stock", _("Stock above 1,000,000 is not accepted."))
        weight: Decimal | str | None = ""
        if "net_weight_kg" in self.present:
            weight = (
                self._decimal(raw["net_weight_kg"], "net_weight_kg", err, places=3)
                if raw["net_weight_kg"]
                else None
            )
            if weight is not None and weight <= 0:
                err("net_weight_kg", _("The net weight must be above 0 kg."))
        return ParsedRow(
            number=number,
            group=group,
            listing_id=listing_id,
            values=values,
            sku=sku,
            options=options,
            price=price,
            stock=stock,
            net_weight_kg=weight,
            errors=errors,
        )

    @staticmethod
    def _decimal(text: str, column: str, err, *, places: int) -> Decimal | None:
        if not text:
            err(column, _("A number is required."))
            return None
        try:
            value = Decimal(text.replace(" ", ""))
        except InvalidOperation:
            err(column, _("%(value)r is not a number (use a dot for decimals).") % {"value": text})
            return None
        if not value.is_finite():
            err(column, _("%(value)r is not a number.") % {"value": text})
            return None
        if -value.as_tuple().exponent > places:
            err(column, _("At most %(n)d decimal places.") % {"n": places})
            return None
        if value >= Decimal("1e9"):
            err(column, _("The number is too large."))
            return None
        return value


@dataclass
class Plan:
    """What applying the file would do, after every row was checked."""

    rows: list[ParsedRow]
    errors: list[RowError]

    @property
    def valid_rows(self) -> list[ParsedRow]:
        return [row for row in self.rows if not row.errors]


def check_rows(shop: Shop, header: list[str], body: list[list[str]], *, progress=None) -> Plan:
    """Parse and check every row, then the rules that span rows. ``progress(n)`` is called
    every ``PROGRESS_EVERY`` rows."""
    validator = Validator(shop, header)
    rows: list[ParsedRow] = []
    for index, cells in enumerate(body):
        rows.append(validator.parse(index + 2, cells))
        if progress and (index + 1) % PROGRESS_EVERY == 0:
            progress(index + 1)
    _check_across_rows(shop, rows, header)
    errors = [error for row in rows for error in row.errors]
    if progress:
        progress(len(body))
    return Plan(rows=rows, errors=errors)


def _check_across_rows(shop: Shop, rows: list[ParsedRow], header: list[str]) -> None:
    present = set(header)
    skus = [row.sku for row in rows if row.sku]
    existing: dict[str, Variant] = {}
    for start in range(0, len(skus), 1000):
        chunk = skus[start : start + 1000]
        for variant in Variant.objects.filter(shop=shop, sku__in=chunk).select_related("listing"):
            existing[variant.sku] = variant
    listing_ids = {row.listing_id for row in rows if row.listing_id}
    listings = {
        listing.pk: listing for listing in Listing.objects.filter(shop=shop, pk__in=listing_ids)
    }

    seen_sku: dict[str, int] = {}
    first_of_group: dict[str, ParsedRow] = {}
    for row in rows:
        if row.sku:
            if row.sku in seen_sku:
                row.errors.append(
                    RowError(
                        row.number,
                        "sku",
                        _("SKU %(sku)s is also on row %(other)d.")
                        % {"sku": row.sku, "other": seen_sku[row.sku]},
                    )
                )
            seen_sku.setdefault(row.sku, row.number)
        variant = existing.get(row.sku)
        row.variant = variant
        if row.listing_id and row.listing_id not in listings:
            row.errors.append(
                RowError(
                    row.number,
                    "listing",
                    _("Your shop has no listing number %(n)d.") % {"n": row.listing_id},
                )
            )
        if variant is not None:
            if row.listing_id and variant.listing_id != row.listing_id:
                row.errors.append(
                    RowError(
                        row.number,
                        "listing",
                        _("SKU %(sku)s belongs to listing %(n)d.")
                        % {"sku": row.sku, "n": variant.listing_id},
                    )
                )
            elif row.group and not row.listing_id:
                row.errors.append(
                    RowError(
                        row.number,
                        "listing",
                        _("SKU %(sku)s already exists (listing %(n)d); put %(n)d in this column.")
                        % {"sku": row.sku, "n": variant.listing_id},
                    )
                )
        else:
            # A new variant: fill what a new row must have.
            needs_listing_data = not row.listing_id
            if needs_listing_data:
                for column in ("title", "category"):
                    if column not in present:
                        row.errors.append(
                            RowError(
                                row.number,
                                column,
                                _("New listings need a %(col)s column.") % {"col": column},
                            )
                        )
            if "price" not in present:
                row.errors.append(RowError(row.number, "price", _("New SKUs need a price column.")))
        key = _group_key(row)
        first = first_of_group.get(key)
        if first is None:
            first_of_group[key] = row
        else:
            for column in LISTING_COLUMNS:
                if column in row.values and row.values[column] != first.values.get(column):
                    row.errors.append(
                        RowError(
                            row.number,
                            column,
                            _("Differs from row %(other)d of the same listing.")
                            % {"other": first.number},
                        )
                    )
        status = row.values.get("status")
        current = listings.get(row.listing_id) or (variant.listing if variant else None)
        if status and current is None and status == Listing.Status.PAUSED:
            row.errors.append(
                RowError(row.number, "status", _("A new listing is a draft or active."))
            )
        elif (
            status
            and current is not None
            and status in Listing.Status.values  # an unknown value has its own error
            and status != current.status
            and status not in current.TRANSITIONS.get(current.status, set())
        ):
            row.errors.append(
                RowError(
                    row.number,
                    "status",
                    _("A listing that is “%(old)s” cannot become “%(new)s”.")
                    % {"old": current.get_status_display(), "new": Listing.Status(status).label},
                )
            )


def _group_key(row: ParsedRow) -> str:
    if row.variant is not None:
        return f"id:{row.variant.listing_id}"
    if row.listing_id:
        return f"id:{row.listing_id}"
    if row.group:
        return f"new:{row.group}"
    return f"row:{row.number}"


# --- Import: applying ----------------------------------------------------------------------


@dataclass
class ApplyResult:
    created_listings: int = 0
    updated_listings: int = 0
    created_variants: int = 0
    updated_variants: int = 0


def apply_plan(*, shop: Shop, rows: list[ParsedRow], actor, now: datetime) -> ApplyResult:
    """Write the checked rows in one transaction; listings grouped as in ``_group_key``."""
    from marketplace.listings.services import _publish_problems, refresh_listing_summaries

    result = ApplyResult()
    groups: dict[str, list[ParsedRow]] = {}
    for row in rows:
        groups.setdefault(_group_key(row), []).append(row)
    touched: list[int] = []
    publish: list[tuple[Listing, str]] = []
    with transaction.atomic():
        ids = sorted(int(key[3:]) for key in groups if key.startswith("id:"))
        # Lock the listings we update, in pk order (as every writer of listings does).
        locked = {
            listing.pk: listing
            for listing in Listing.objects.select_for_update()
            .filter(shop=shop, pk__in=ids)
            .order_by("pk")
        }
        for key, group in groups.items():
            first = group[0]
            if key.startswith("id:"):
                listing = locked[int(key[3:])]
                result.updated_listings += 1
                new = False
            else:
                listing = Listing(shop=shop, currency=shop.currency, created_at=now)
                result.created_listings += 1
                new = True
            target_status = None
            for column, value in first.values.items():
                if column == "status":
                    target_status = value
                    continue
                setattr(listing, column, value if value is not None else _blank(column))
            if new:
                listing.status = Listing.Status.DRAFT
            from marketplace.listings.services import _listing_slug

            listing.slug = _listing_slug(listing.title)
            listing.updated_at = now
            listing.save()
            touched.append(listing.pk)
            ListingEvent.objects.create(
                listing=listing, kind=ListingEvent.Kind.IMPORTED, created_at=now, actor=actor
            )
            position = listing.variants.count() if not new else 0
            for row in group:
                variant = row.variant
                if variant is None:
                    variant = Variant(
                        listing=listing,
                        shop=shop,
                        sku=row.sku,
                        created_at=now,
                        position=position,
                    )
                    position += 1
                    result.created_variants += 1
                else:
                    result.updated_variants += 1
                if row.options is not None:
                    variant.options = row.options
                if row.price is not None:
                    variant.price = row.price
                if row.stock is not None:
                    variant.stock = row.stock
                if row.net_weight_kg != "":
                    variant.net_weight_kg = row.net_weight_kg
                variant.updated_at = now
                variant.save()
            if target_status and target_status != listing.status:
                publish.append((listing, target_status))
        refresh_listing_summaries(listing_ids=touched)
        for listing, status in publish:
            if status == Listing.Status.ACTIVE:
                problems = _publish_problems(listing)
                if problems:
                    # Saved as draft; the seller sees why on the listing page.
                    continue
                if listing.published_at is None:
                    listing.published_at = now
            listing.status = status
            listing.save(update_fields=["status", "published_at"])
    return result


def _blank(column: str):
    return "" if column not in ("category", "shipping_profile") else None


# --- Import: the job ---------------------------------------------------------------------


def start_import(*, shop: Shop, actor, upload, mode: str, now: datetime) -> ImportJob:
    """Store the uploaded file as a job and run it in the background after commit."""
    from marketplace.listings.tasks import run_import

    data = upload.read(MAX_FILE_BYTES + 1)
    _header, body = read_csv(data)  # refuse unreadable files at once, before queueing
    job = ImportJob(
        shop=shop,
        created_by=actor,
        original_name=(getattr(upload, "name", "") or "import.csv")[-200:],
        mode=mode,
        total_rows=len(body),
        created_at=now,
    )
    from django.core.files.base import ContentFile

    job.file.save("catalog.csv", ContentFile(data), save=False)
    job.save()
    run_import.delay_on_commit(job.pk)
    return job


def run_import(*, job_id: int, now: datetime) -> str:
    """Check and apply one import. Idempotent: only a pending job is claimed and run."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING).update(
        status=ImportJob.Status.VALIDATING, started_at=now, processed_rows=0
    )
    if not claimed:
        return "skipped"
    job = ImportJob.objects.select_related("shop", "created_by").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            header, body = read_csv(handle.read())

        def progress(done: int) -> None:
            ImportJob.objects.filter(pk=job_id).update(processed_rows=done)

        plan = check_rows(job.shop, header, body, progress=progress)
        errors = [e.as_dict() for e in plan.errors[:MAX_REPORTED_ERRORS]]
        rows = plan.valid_rows
        if plan.errors and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
            ImportJob.objects.filter(pk=job_id).update(
                status=ImportJob.Status.REJECTED,
                errors=errors,
                skipped_rows=len(body),
                finished_at=now,
            )
            return "rejected"
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.APPLYING)
        result = apply_plan(shop=job.shop, rows=rows, actor=job.created_by, now=now)
    except DomainError as exc:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, failure=exc.message, finished_at=now
        )
        return "failed"
    except Exception as exc:
        logger.exception("import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            failure=_("An unexpected error stopped the import; nothing was saved. (%(e)s)")
            % {"e": type(exc).__name__},
            finished_at=now,
        )
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE,
        errors=errors,
        skipped_rows=len(body) - len(rows),
        created_listings=result.created_listings,
        updated_listings=result.updated_listings,
        created_variants=result.created_variants,
        updated_variants=result.updated_variants,
        processed_rows=len(body),
        finished_at=now,
    )
    return "done"


def stalled_imports(*, now: datetime) -> list[int]:
    """Jobs never published (broker down) or whose worker died: set back to pending.

    Applying happens in one transaction, so a job that died mid-way saved nothing and can
    simply run again.
    """
    ImportJob.objects.filter(
        status__in=[ImportJob.Status.VALIDATING, ImportJob.Status.APPLYING],
        started_at__lt=now - timedelta(minutes=30),
    ).update(status=ImportJob.Status.PENDING)
    return list(
        ImportJob.objects.filter(
            Q(status=ImportJob.Status.PENDING), created_at__lt=now - timedelta(minutes=2)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:100]
    )
