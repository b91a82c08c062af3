"""Test overlay: the real settings, made fast and hermetic.

``DATABASE_URL`` and ``REDIS_URL`` still come from the environment, so the same suite runs on
SQLite locally and on PostgreSQL + Redis in CI.
"""

import os
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))

from marketplace.settings import *  # noqa: F403
from marketplace.settings import REDIS_URL, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that start a real Celery worker read its mail from files (TEST_EMAIL_BACKEND=file).
EMAIL_BACKEND = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[os.environ.get("TEST_EMAIL_BACKEND", "locmem")]
EMAIL_FILE_PATH = os.environ.get("TEST_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = VAR_DIR / f"media-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ADMIN_REQUIRE_MFA = False
# A test beneficiary account (the checksum-valid IBAN from the IBAN standard's examples).
ORDERS_BANK_ACCOUNT = {
    "account_name": "Tradepost Test Payments Ltd",
    "iban": "DE89 3704 0044 0532 0130 00",
    "bic": "COBADEFFXXX",
    "bank": "Test Bank",
}
ORDERS_BANK_TRANSFER = True
# SQLite test databases live in a file, not in memory, so that a Celery worker started by a
# test (a separate process) sees the rows the test committed.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

if REDIS_URL:
    # Parallel test processes share one Redis server: give each its own database number so
    # a worker started by one test never takes another process's tasks or cache keys.
    # The database number in REDIS_URL is the base; xdist worker gwN adds N.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    _parts = urlsplit(REDIS_URL)
    _base = int(_parts.path.strip("/") or 0)
    _db = (_base + int(_worker.removeprefix("gw") or 0)) % 16
    REDIS_URL = urlunsplit(_parts._replace(path=f"/{_db}"))
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CELERY_BROKER_URL = REDIS_URL
