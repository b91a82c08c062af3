"""Export readiness: may this listing be offered to buyers in other countries?

A domestic sale needs no customs data. A parcel that crosses a border needs, on every line of
its CN22/CN23 and in the advance data (FACTS §1-2): a valid HS code, an English description
precise enough for EU ICS2, the country of origin, and a net weight. The material is what
makes a description precise and decides many tariff lines, so it is required too.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from marketplace.listings.models import ExportReadiness, Listing, ReadinessItem, Variant


def check_export_readiness(
    listing: Listing, *, variants: Iterable[Variant] | None = None
) -> ExportReadiness:
    """Each requirement with whether it is met and, if not, why (for the seller's checklist)."""
    from customs.hs import validate_hs_code
    from customs.ics2 import validate_description

    items: list[ReadinessItem] = []

    if not listing.hs_code:
        items.append(ReadinessItem("hs_code", _("HS code"), False, _("Not filled in.")))
    else:
        try:
            hs = validate_hs_code(listing.hs_code)
        except ValidationError as exc:
            items.append(ReadinessItem("hs_code", _("HS code"), False, " ".join(exc.messages)))
        else:
            items.append(ReadinessItem("hs_code", _("HS code"), True, hs.description))

    if not listing.customs_description.strip():
        items.append(
            ReadinessItem(
                "customs_description", _("Customs description"), False, _("Not filled in.")
            )
        )
    else:
        check = validate_description(listing.customs_description)
        items.append(
            ReadinessItem(
                "customs_description",
                _("Customs description"),
                check.ok,
                " ".join(check.errors or check.warnings),
            )
        )

    items.append(
        ReadinessItem(
            "origin_country",
            _("Country of origin"),
            bool(listing.origin_country),
            "" if listing.origin_country else _("Where the goods were made."),
        )
    )
    items.append(
        ReadinessItem(
            "material",
            _("Main material"),
            bool(listing.material.strip()),
            "" if listing.material.strip() else _("Not filled in."),
        )
    )

    if variants is None:
        variants = list(listing.variants.all()) if listing.pk else []
    else:
        variants = list(variants)
    unweighed = [v.sku for v in variants if not v.net_weight_kg]
    if not variants:
        items.append(
            ReadinessItem(
                "net_weight", _("Net weight of every variant"), False, _("Add a variant first.")
            )
        )
    else:
        items.append(
            ReadinessItem(
                "net_weight",
                _("Net weight of every variant"),
                not unweighed,
                _("Missing for %(skus)s.") % {"skus": ", ".join(unweighed)} if unweighed else "",
            )
        )
    return ExportReadiness(items=items)
