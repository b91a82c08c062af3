"""The marketplace's own tax-scheme registrations (IOSS, UK VAT, VOEC, AU ARN ...).

A regime that makes the marketplace the deemed supplier names a scheme (``Regime.tax_scheme``);
tax is collected at checkout under it only when the marketplace's number for that scheme is
configured (``CUSTOMS_TAX_SCHEME_IDS``). The number then travels with the parcel: on the
CN22/CN23 importer's reference box, the invoice and the advance data, so the destination
post releases the parcel without charging the tax a second time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings

# What each scheme is called on paper (FACTS §2.1), and the shape of a well-formed number.
LABELS = {
    "IOSS": "IOSS number",
    "UK_VAT": "UK VAT number",
    "VOEC": "VOEC number",
    "AU_ARN": "Australian ARN",
    "NZ_GST": "NZ GST number",
    "SG_OVR": "Singapore GST (OVR) number",
    "MY_LRN": "Malaysia LVG registration number",
    "CH_VAT": "Swiss VAT number",
    "BR_RC": "Remessa Conforme certification",
    "CN_CBEC": "CBEC registration",
}
_FORMATS = {
    "IOSS": re.compile(r"^IM\d{10}$"),  # IM + 3-digit member state + 6 digits + check digit
    "UK_VAT": re.compile(r"^GB\d{9}(\d{3})?$"),
    "VOEC": re.compile(r"^VOEC\d{7}$"),
    "AU_ARN": re.compile(r"^\d{12}$"),
    "NZ_GST": re.compile(r"^\d{8,9}$"),
    "SG_OVR": re.compile(r"^M\d{8}[A-Z]$"),
    "CH_VAT": re.compile(r"^CHE-?\d{3}\.?\d{3}\.?\d{3}( ?MWST| ?TVA| ?IVA)?$"),
}
_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9 .-]{3,38}[A-Z0-9]$")


_REGIMES_FILE = Path(__file__).parent / "data" / "rules" / "regimes.json"


def scheme_number(scheme: str) -> str:
    """The marketplace's number for ``scheme``, or "" when none is configured."""
    if not scheme:
        return ""
    return (settings.CUSTOMS_TAX_SCHEME_IDS.get(scheme) or "").strip()


def label(scheme: str) -> str:
    return LABELS.get(scheme, scheme.replace("_", " "))


def is_well_formed(scheme: str, number: str) -> bool:
    pattern = _FORMATS.get(scheme, _GENERIC)
    return bool(pattern.match(number.strip().upper()))


@dataclass(frozen=True)
class DeemedSupplier:
    """The marketplace as the supplier of record for a collected consignment."""

    name: str
    scheme: str
    number: str

    @property
    def label(self) -> str:
        return label(self.scheme)

    def snapshot(self) -> dict:
        return {
            "name": self.name,
            "scheme": self.scheme,
            "label": self.label,
            "number": self.number,
        }


def deemed_supplier(scheme: str) -> DeemedSupplier | None:
    """The marketplace and its number for ``scheme``; None when it has no number."""
    number = scheme_number(scheme)
    if not number:
        return None
    name = settings.CUSTOMS_MARKETPLACE_NAME or "Tradepost"
    return DeemedSupplier(name=name, scheme=scheme, number=number)


def schemes_in_use(*, on: date | None = None) -> set[str]:
    """Schemes that the bundled regimes (today or later) collect tax under."""
    on = on or date.today()
    data = json.loads(_REGIMES_FILE.read_text(encoding="utf-8"))
    used = set()
    for row in data.get("regimes", []):
        if not (row.get("collect_at_sale") and row.get("tax_scheme")):
            continue
        ends = row.get("effective_to")
        if ends and date.fromisoformat(ends) <= on:
            continue
        used.add(row["tax_scheme"])
    return used
