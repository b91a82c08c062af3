"""The Celery application.

Queues: ``default`` (catalog and housekeeping), ``notifications`` (email and inbox),
``paperwork`` (customs declarations and documents). Tasks are adapters: they take ids, load
rows and call a service; the services make them idempotent.
"""

from __future__ import annotations

import functools
import logging
import os
import time

from celery import Celery, Task
from django.db import transaction
from kombu import Queue
from kombu.exceptions import OperationalError as KombuOperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

logger = logging.getLogger(__name__)


class TradepostTask(Task):
    def delay_on_commit(self, *args, **kwargs) -> None:
        """Publish after the surrounding transaction commits, never failing the request.

        Celery's own ``delay_on_commit`` lets a broker outage raise out of the commit hook,
        which turns a committed order into a 500. Here the error is logged and the work stays
        pending in the database, where a periodic sweeper finds it once the broker is back.
        """
        transaction.on_commit(functools.partial(self._delay_or_log, args, kwargs))

    def _delay_or_log(self, args, kwargs) -> None:
        global _broker_down_until
        if time.monotonic() < _broker_down_until:
            # The broker just failed: don't spend the publish retries again for every task of
            # this request. The work is pending in the database; the sweepers publish it.
            logger.info("broker down: left %s%r to the sweeper", self.name, args)
            return
        try:
            self.apply_async(args, kwargs)
        except (KombuOperationalError, OSError) as exc:
            if not self.app.conf.task_always_eager:  # eagerly, the task itself raised
                _broker_down_until = time.monotonic() + BROKER_DOWN_SECONDS
            logger.warning(
                "could not publish %s%r (%s); a sweeper will retry", self.name, args, exc
            )
        except Exception:
            logger.exception("%s%r failed after commit; a sweeper will retry", self.name, args)


# After a failed publish, skip publishing from this process for a few seconds (a circuit
# breaker), so a request that enqueues several tasks during a broker outage pays for one
# failed publish (~0.4 s), not one per task.
BROKER_DOWN_SECONDS = 3.0
_broker_down_until = 0.0


app = Celery("marketplace", task_cls=TradepostTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "notifications", "paperwork")]
app.autodiscover_tasks()
