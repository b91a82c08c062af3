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

# CUSTOMS_RENDER_DELAY_SECONDS (tests only, never a product setting): every customs renderer
# sleeps after rendering, widening the window in which a test kills a worker mid-job.
_RENDER_DELAY = float(os.environ.get("CUSTOMS_RENDER_DELAY_SECONDS") or 0)
if _RENDER_DELAY:
    from celery.signals import task_prerun

    def _slow_renderers(**kwargs) -> None:
        import time

        from customs import documents

        for kind, (render, content_type) in list(documents.RENDERERS.items()):
            if getattr(render, "slowed", False):
                continue

            def slow(declaration, _render=render):
                data = _render(declaration)
                time.sleep(_RENDER_DELAY)
                return data

            slow.slowed = True
            documents.RENDERERS[kind] = (slow, content_type)

    task_prerun.connect(_slow_renderers, weak=False)
