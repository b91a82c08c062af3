"""Import as a background job: store the upload, check and apply it in a task, pick up
stalled jobs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import Shop
from marketplace.core.errors import DomainError
from marketplace.listings.csv_io.apply import apply_plan
from marketplace.listings.csv_io.parse import MAX_FILE_BYTES, check_rows, read_csv
from marketplace.listings.models import ImportJob

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000


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
