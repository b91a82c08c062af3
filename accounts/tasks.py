"""Notification tasks (queue ``notifications``): load ids, call a service, retry on SMTP errors."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.utils import timezone

from accounts import services

# Errors worth another try: the mail server is down, slow or refused us for now.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)
MAX_EMAIL_RETRIES = 5


def _backoff(retries: int) -> int:
    return min(600, 30 * 2**retries)


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
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_invitation_email(self, invitation_id: int) -> None:
    try:
        services.deliver_invitation_email(invitation_id=invitation_id)
    except TRANSIENT_EMAIL_ERRORS as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def sweep_notification_emails() -> int:
    """Publish emails whose first publish was lost (broker down) or whose worker died."""
    ids = services.pending_notification_emails(now=timezone.now())
    for notification_id in ids:
        deliver_notification_email.delay(notification_id)
    return len(ids)


@shared_task(bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_staff_mfa_enrolment_link(self, user_id: int) -> None:
    from accounts.staff_mfa import send_enrolment_link

    try:
        send_enrolment_link(user_id=user_id)
    except TRANSIENT_EMAIL_ERRORS as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
