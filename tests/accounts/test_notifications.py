"""Notifications: inbox rows, emails through the notifications queue, retries, sweeper."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services, tasks
from accounts.models import Notification, Shop, ShopMembership
from marketplace.celery import app as celery_app
from tests.factories import ShopFactory
from tests.workers import celery_worker, publishing_to, wait_until

CONTEXT = {"shop_name": "Maple & Thread", "reason": "Missing documents"}


@pytest.mark.django_db
def test_notify_puts_a_message_in_the_inbox_and_emails_it_once(buyer, run_on_commit):
    with run_on_commit():
        note = services.notify(user=buyer, kind="shop_rejected", context=CONTEXT, dedupe_key="k1")

    assert note.title == "Your application for Maple & Thread was not approved"
    assert "Missing documents" in note.body
    assert len(mail.outbox) == 1
    note.refresh_from_db()
    assert note.email_status == Notification.EmailStatus.SENT
    # Run the task again (a redelivery): nothing more is sent.
    tasks.deliver_notification_email(note.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_same_event_notifies_a_user_once(buyer):
    first = services.notify(user=buyer, kind="shop_rejected", context=CONTEXT, dedupe_key="e:1")
    second = services.notify(user=buyer, kind="shop_rejected", context=CONTEXT, dedupe_key="e:1")

    assert first is not None and second is None
    assert Notification.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_an_smtp_outage_is_retried_then_the_email_shows_as_failed_with_its_reason(buyer):
    note = services.notify(user=buyer, kind="shop_rejected", context=CONTEXT)
    outage = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    # Eager retries only loop when eager mode does not propagate errors.
    celery_app.conf.task_eager_propagates = False
    try:
        with mock.patch("accounts.services.send_email", side_effect=outage) as send:
            tasks.deliver_notification_email.apply(args=[note.pk])
    finally:
        celery_app.conf.task_eager_propagates = True

    assert send.call_count == tasks.MAX_EMAIL_RETRIES + 1
    note.refresh_from_db()
    assert note.email_status == Notification.EmailStatus.FAILED
    assert note.email_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert note.email_attempts == tasks.MAX_EMAIL_RETRIES + 1


@pytest.mark.django_db
def test_the_sweeper_sends_emails_whose_publish_was_lost(buyer):
    with mock.patch("accounts.tasks.deliver_notification_email.delay_on_commit"):
        note = services.notify(user=buyer, kind="shop_rejected", context=CONTEXT)
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    assert tasks.sweep_notification_emails() == 1
    assert len(mail.outbox) == 1
    assert tasks.sweep_notification_emails() == 0


@pytest.mark.django_db
def test_the_email_is_in_the_recipients_language(buyer, run_on_commit):
    buyer.preferred_language = "es"
    buyer.save()

    with run_on_commit():
        services.notify(user=buyer, kind="shop_rejected", context=CONTEXT)

    assert mail.outbox[0].subject.startswith("[Tradepost] Tu solicitud")


@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_approval_email_and_inbox_delivered_by_a_real_worker_through_redis(staff, seller, tmp_path):
    shop = ShopFactory(status=Shop.Status.PENDING)
    ShopMembership.objects.create(shop=shop, user=seller, role=ShopMembership.Role.OWNER)
    mail_dir = tmp_path / "mail"
    log = tmp_path / "worker.log"

    with (
        publishing_to(),
        celery_worker(log, queues="notifications", TEST_EMAIL_FILE_PATH=str(mail_dir)),
    ):
        services.approve_shop(shop=shop, actor=staff, now=timezone.now())
        note = Notification.objects.get(user=seller, kind="shop_approved")
        wait_until(
            lambda: Notification.objects.get(pk=note.pk).email_status == "sent",
            60,
            "the approval email",
            [log],
        )

    emails = [p.read_text() for p in mail_dir.iterdir()]
    assert len(emails) == 1
    assert f"To: {seller.email}" in emails[0]
    assert f"{shop.display_name} is approved" in emails[0]
