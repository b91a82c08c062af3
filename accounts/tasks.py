"""Notification tasks (queue ``notifications``): load ids, call a service, retry on SMTP errors."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.utils import timezone

from accounts import services
from marketplace.core.retry import backoff

# Errors worth another try: the mail server is down, slow or refused us for now.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)
MAX_EMAIL_RETRIES = 5


@shared_task(bind=True, max_retries=MAX_EMAIL_RETRIES)
def deliver_notification_email(self, notification_id: int) -> None:
    try:
        services.send_notification_email(notification_id=notification_id)
    except TRANSIENT_EMAIL_ERRORS as exc:
        if self.request.retries >= self.max_retries:
            services.mark_notification_email_failed(
                notification_id=notification_id, reason=f"{type(exc).__name__}: {exc}"
            )
            return
        raise self.retry(
            exc=exc, countdown=backoff(self.request.retries, base=30, cap=600)
        ) from exc


# Tasks that only retry: Celery waits 30, 60, 120 ... 600 s, as above.
EMAIL_RETRY = {
    "autoretry_for": TRANSIENT_EMAIL_ERRORS,
    "max_retries": MAX_EMAIL_RETRIES,
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": False,
}


@shared_task(**EMAIL_RETRY)
def send_invitation_email(invitation_id: int) -> None:
    services.deliver_invitation_email(invitation_id=invitation_id)


@shared_task
def sweep_notification_emails() -> int:
    """Publish emails whose first publish was lost (broker down) or whose worker died."""
    ids = services.pending_notification_emails(now=timezone.now())
    for notification_id in ids:
        deliver_notification_email.delay(notification_id)
    return len(ids)


@shared_task(**EMAIL_RETRY)
def send_staff_mfa_enrolment_link(user_id: int) -> None:
    from accounts.staff_mfa import send_enrolment_link

    send_enrolment_link(user_id=user_id)
