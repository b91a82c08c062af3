"""Settings of the Celery workers that tests start (tests/workers.py).

The real settings — tasks publish for real, never eagerly — with Redis giving back a killed
worker's unacknowledged messages within a second instead of ~100 s (the visibility timeout
comes from the environment), fast password hashing, and mail the test can read.
"""

import os

from marketplace.settings import *  # noqa: F403
from marketplace.settings import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if os.environ.get("TEST_EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["TEST_EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CUSTOMS_TAX_SCHEME_IDS = {"IOSS": "IM2760000001"}
