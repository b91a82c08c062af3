"""Customs tasks (queue ``paperwork``): adapters that load ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3)
def import_ecb_rates(self) -> int:
    """Import the ECB feed at ``settings.ECB_RATES_URL``; does nothing when it is unset."""
    from customs import fx

    url = getattr(settings, "ECB_RATES_URL", None)
    if not url:
        return 0
    try:
        data = fx.fetch_ecb_xml(url)
    except OSError as exc:  # network down, DNS, timeout: try again later
        raise self.retry(exc=exc, countdown=min(600, 60 * 2**self.request.retries)) from exc
    result = fx.import_ecb_xml(data, source=url)
    logger.info("ECB rates imported from %s: %s", url, result)
    return result.created + result.updated
