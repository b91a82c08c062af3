"""What orders does when another app tells it something (connected in ``OrdersConfig.ready``)."""

from __future__ import annotations

from django.utils import timezone

from marketplace.orders.services import paperwork


def on_paperwork_finished(
    sender, *, reference: str, version: int, status: str, error: str, **kwargs
) -> None:
    """Customs finished a consignment's documents: the parcel is ready to ship, or its
    paperwork failed. ``paperwork.catch_up_paperwork`` (the sweeper) covers a lost signal."""
    paperwork.record_paperwork_outcome(
        reference=reference, version=version, status=status, error=error, now=timezone.now()
    )
