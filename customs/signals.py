"""What customs tells other apps. Customs imports no other app: they listen here.

``paperwork_finished`` is sent **after commit** when the documents job of a declaration
ends, with keyword arguments:

- ``reference``: the declaration's consignment reference (orders: ``ShopOrder.reference``);
- ``version``: the documents version the job rendered;
- ``status``: ``"done"`` or ``"failed"``;
- ``error``: why it failed (``""`` when done).

Sent with ``send_robust``: a receiver's error is logged and never undoes or fails the
customs job; the listening app keeps a sweeper as its safety net.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

paperwork_finished = Signal()


def announce_paperwork_finished(*, reference: str, version: int, status: str, error: str) -> None:
    """Send ``paperwork_finished`` once the current transaction commits (at once outside one)."""

    def send() -> None:
        for receiver, result in paperwork_finished.send_robust(
            sender="customs",
            reference=reference,
            version=version,
            status=status,
            error=error,
        ):
            if isinstance(result, Exception):
                logger.error(
                    "paperwork_finished receiver %r failed for %s v%s",
                    receiver,
                    reference,
                    version,
                    exc_info=result,
                )

    transaction.on_commit(send)
