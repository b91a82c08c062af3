"""Settings for the catalog benchmark server: the product settings plus a reference view.

Used only by ``bench/catalog_throughput.py`` (gunicorn runs with ``--pythonpath bench``); the
product URLconf is unchanged, the reference view exists only here.
"""

from pathlib import Path

from marketplace.settings import *  # noqa: F403
from marketplace.settings import LOGGING, TEMPLATES

ROOT_URLCONF = "catalog_urls"
HERE = Path(__file__).resolve().parent
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], HERE / "catalog_templates"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Stale-rate warnings from the bundled ECB snapshot would only add log I/O to every worker.
LOGGING["root"]["level"] = "ERROR"
LOGGING.setdefault("loggers", {})["customs.fx"] = {"level": "ERROR"}
