"""Customs services: quotes, declarations and their documents.

The orders app calls ``quote_consignment(consignment=..., save=True)`` at checkout for each
shop's part of an order, and ``create_declaration(...)`` after payment; both take plain
dataclasses, so customs never imports orders.
"""

from __future__ import annotations

import logging

from django.db import transaction

from customs.landed_cost import Consignment, QuoteResult, compute_quote
from customs.models import Quote

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
