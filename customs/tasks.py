"""Customs tasks (queue ``paperwork``): adapters that load ids and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from marketplace.core.retry import backoff

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3)
def import_ecb_rates(self) -> int:
    """Import the ECB feed at ``settings.ECB_RATES_URL``; does nothing when it is unset."""
    from customs import fx

    url = settings.ECB_RATES_URL
    if not url:
        return 0
    try:
        data = fx.fetch_ecb_xml(url)
    except OSError as exc:  # network down, DNS, timeout: try again later
        raise self.retry(
            exc=exc, countdown=backoff(self.request.retries, base=60, cap=600)
        ) from exc
    result = fx.import_ecb_xml(data, source=url)
    logger.info("ECB rates imported from %s: %s", url, result)
    return result.created + result.updated


@shared_task(bind=True, max_retries=3)
def import_manual_rates(self) -> int:
    """Import dated manual rates (KES, NGN, RWF ...) from ``settings.MANUAL_RATES_URL`` (a CSV
    in customs/data/fx/manual_rates.csv's format); does nothing when it is unset."""
    from customs import fx

    url = settings.MANUAL_RATES_URL
    if not url:
        return 0
    try:
        data = fx.fetch_ecb_xml(url)  # any http(s)/file URL; the bytes are parsed as CSV
    except OSError as exc:
        raise self.retry(
            exc=exc, countdown=backoff(self.request.retries, base=60, cap=600)
        ) from exc
    result = fx.import_manual_csv(data, source=url)
    logger.info("manual rates imported from %s: %s", url, result)
    return result.created + result.updated


# Errors worth another try: storage or database briefly unavailable.
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError)
# 10, 20, 40, 80 s between tries: well under the broker's visibility timeout.
MAX_RENDER_RETRIES = 4


@shared_task(bind=True, max_retries=MAX_RENDER_RETRIES, acks_late=True, reject_on_worker_lost=True)
def render_declaration_documents(self, job_id: int) -> str:
    """Render one paperwork job (CN22/CN23, invoice, advance data). Safe to run twice."""
    from customs import services

    try:
        outcome = services.process_paperwork_job(job_id=job_id)
    except TRANSIENT_ERRORS as exc:
        services.release_paperwork_job(job_id=job_id)
        if self.request.retries >= self.max_retries:
            services.fail_paperwork_job(job_id=job_id, reason=f"{type(exc).__name__}: {exc}")
            return "failed"
        raise self.retry(
            exc=exc, countdown=backoff(self.request.retries, base=10, cap=600)
        ) from exc
    except Exception as exc:
        # A bug or bad data: retrying will not help. Record it where admins and sellers see it.
        logger.exception("paperwork job %s failed", job_id)
        services.fail_paperwork_job(job_id=job_id, reason=f"{type(exc).__name__}: {exc}")
        return "failed"
    if outcome == "busy" and not self.request.is_eager:
        # Another worker holds a live lease (or a dead one's lease has not run out yet).
        raise self.retry(countdown=min(600, int(services._lease().total_seconds()) + 1))
    return outcome


@shared_task
def sweep_paperwork_jobs() -> int:
    """Publish jobs whose first publish was lost (broker down) or whose worker died."""
    from customs import services

    ids = services.jobs_to_sweep()
    for job_id in ids:
        render_declaration_documents.delay(job_id)
    return len(ids)
