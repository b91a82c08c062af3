"""Import, step one: read the uploaded file and check every row (nothing is saved)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_countries import countries

from accounts.models import Shop
from marketplace.core.errors import DomainError
from marketplace.core.money import minor_units
from marketplace.listings.csv_io.columns import (
    COLUMNS,
    FORMULA_PREFIXES,
    LISTING_COLUMNS,
    REQUIRED_COLUMNS,
)
from marketplace.listings.models import (
    Category,
    Listing,
    ShippingProfile,
    Variant,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
PROGRESS_EVERY = 250


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
    if cell.startswith("'") and cell[1:2] in FORMULA_PREFIXES:
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
        key = group_key(row)
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


def group_key(row: ParsedRow) -> str:
    if row.variant is not None:
        return f"id:{row.variant.listing_id}"
    if row.listing_id:
        return f"id:{row.listing_id}"
    if row.group:
        return f"new:{row.group}"
    return f"row:{row.number}"
