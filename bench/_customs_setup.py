"""Shared set-up for the customs benchmarks: a throw-away SQLite database with the rules."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django() -> Path:
    """Configure Django on a fresh database in a temporary VAR_DIR; migrate; load the rules."""
    var = Path(tempfile.mkdtemp(prefix="tp-bench-customs-"))
    os.environ["VAR_DIR"] = str(var)
    # A fresh SQLite file by default; BENCH_DATABASE_URL points the run at PostgreSQL instead.
    os.environ.pop("DATABASE_URL", None)
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    # Jobs are published to the local filesystem broker and run by the benchmark itself.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    os.environ.pop("REDIS_URL", None)
    os.environ["LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customs.loaders import load_all

    load_all()
    return var
