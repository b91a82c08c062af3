"""Settings for the Celery worker that test_worker_kill.py starts: the real settings, with
Redis restoring unacknowledged messages every second instead of every ~100 s, so a killed
worker's message comes back within the test's patience (visibility timeout from the env)."""

from marketplace.settings import *  # noqa: F403
from marketplace.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
