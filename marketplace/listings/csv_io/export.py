"""The shop's catalog as CSV, one row per variant (streamed)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from accounts.models import Shop
from marketplace.listings.csv_io.columns import COLUMNS, FORMULA_PREFIXES
from marketplace.listings.models import Variant


def _safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES) and not _is_number(text):
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
