"""Catalog tasks (queue ``default``): load ids, call a service, retry storage hiccups."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from marketplace.listings import services
from marketplace.listings.csv_io import jobs

# A media store that is briefly unreachable (S3, NFS) is worth another try.
TRANSIENT_STORAGE_ERRORS = (ConnectionError, TimeoutError, OSError)


@shared_task(bind=True, max_retries=5)
def make_thumbnails(self, image_id: int, force: bool = False) -> bool:
    try:
        return services.generate_thumbnails(image_id=image_id, force=force)
    except TRANSIENT_STORAGE_ERRORS as exc:
        raise self.retry(exc=exc, countdown=min(300, 10 * 2**self.request.retries)) from exc


@shared_task
def run_import(job_id: int) -> str:
    return jobs.run_import(job_id=job_id, now=timezone.now())


@shared_task
def sweep_catalog_work() -> int:
    """Re-publish thumbnails and imports whose first publish was lost (broker down)."""
    now = timezone.now()
    image_ids = services.pending_thumbnail_images(now=now)
    for image_id in image_ids:
        make_thumbnails.delay(image_id)
    job_ids = jobs.stalled_imports(now=now)
    for job_id in job_ids:
        run_import.delay(job_id)
    return len(image_ids) + len(job_ids)


@shared_task
def refresh_sort_prices() -> int:
    """Hourly: re-sort by price once a newer ECB rate is in (a no-op otherwise)."""
    from marketplace.listings.pricing import refresh_if_rates_changed

    return refresh_if_rates_changed()
