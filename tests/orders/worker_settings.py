"""Settings of the Celery workers the orders worker tests start: the real settings (tasks
publish for real, never eagerly), with Redis giving back a killed worker's unacknowledged
messages within a second instead of ~100 s; the visibility timeout comes from the env."""

from marketplace.settings import *  # noqa: F403
from marketplace.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
