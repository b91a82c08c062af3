"""Order tasks: adapters that load ids and call a service (queues in settings.CELERY_TASK_ROUTES).

- ``notify_order_event`` (notifications): the messages of one audit event; idempotent
  through the notification dedupe keys. ``sweep_order_notifications`` republishes events
  a broker outage left unsent.
- ``sweep_paperwork`` (paperwork): the safety net for a lost ``paperwork_finished`` signal
  (customs tells orders when documents are done; see ``receivers``).
- ``expire_unpaid_orders`` (default, every few minutes): releases stock of unpaid orders.
- ``reconcile_payments`` (default): settles card payments whose webhook never came.
- ``deliver_test_webhook`` (default): the test provider's webhook delivery.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def sweep_after_seconds() -> int:
    """How old unsent work must be before a sweeper republishes it (its first publish may
    still be on its way)."""
    return settings.ORDERS_SWEEP_AFTER_SECONDS


@shared_task(
    bind=True,
    max_retries=5,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=False,
)
def notify_order_event(self, event_id: int) -> bool:
    from marketplace.orders import notifications
    from marketplace.orders.models import OrderEvent

    event = (
        OrderEvent.objects.select_related("order", "order__buyer", "shop_order__shop")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.notified_at is not None:
        return False
    notifications.send_for_event(event)  # a transient error is retried (autoretry_for)
    OrderEvent.objects.filter(pk=event_id, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    return True


@shared_task
def sweep_order_notifications() -> int:
    from marketplace.orders.models import OrderEvent

    cutoff = timezone.now() - timedelta(seconds=sweep_after_seconds())
    ids = list(
        OrderEvent.objects.filter(
            notified_at__isnull=True, kind__in=OrderEvent.NOTIFYING, created_at__lt=cutoff
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for event_id in ids:
        notify_order_event.delay(event_id)
    return len(ids)


@shared_task
def sweep_paperwork() -> int:
    """The safety net behind customs' ``paperwork_finished`` signal."""
    from marketplace.orders.services import paperwork

    return paperwork.catch_up_paperwork(now=timezone.now())


@shared_task
def expire_unpaid_orders() -> int:
    from marketplace.orders.services import payment_outcome

    return payment_outcome.expire_unpaid_orders(now=timezone.now())


@shared_task
def reconcile_payments() -> int:
    from marketplace.orders.payments import service

    return service.reconcile_payments(now=timezone.now())


@shared_task(
    bind=True,
    max_retries=8,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=False,
)
def deliver_test_webhook(self, payload: dict) -> str:
    """The test provider "calling" our webhook: signed, through the same handler."""
    from marketplace.orders.payments import service
    from marketplace.orders.payments.testprovider import SIGNATURE_HEADER, sign

    if settings.ORDERS_CARD_PROVIDER != "test":
        # Only the test provider "delivers" webhooks from inside our own workers.
        return "test provider disabled"
    body = json.dumps(payload, sort_keys=True).encode()
    return service.handle_webhook(
        provider_name="test",
        body=body,
        headers={SIGNATURE_HEADER: sign(body)},
        now=timezone.now(),
    )


@shared_task
def run_payouts() -> dict:
    from marketplace.orders import payouts

    return payouts.run_payouts(now=timezone.now())
