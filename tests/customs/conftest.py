"""Customs fixtures: the real rule tables, loaded once per test session from customs/data/."""

from __future__ import annotations

import pytest

from customs import fx
from customs.hs import reset_hs_index
from customs.loaders import load_all, unload_all
from customs.models import HSCode


@pytest.fixture(scope="package")
def _customs_rules_committed(django_db_setup, django_db_blocker):
    # Committed outside any test transaction, once for this package: every customs test sees
    # the rules and none pays for loading them. Removed again when the package is done, so
    # other apps' tests start from the empty tables they expect.
    with django_db_blocker.unblock():
        load_all()
    yield
    with django_db_blocker.unblock():
        unload_all()


@pytest.fixture
def rules(_customs_rules_committed, db):
    """The bundled rule tables (HS codes, exchange rates, regimes, ...)."""
    if not HSCode.objects.exists():
        # A transactional test flushed the tables: load again, inside this test.
        load_all()
    return True


@pytest.fixture(autouse=True)
def _fresh_customs_caches():
    # In-process caches must not leak rows between tests (each test rolls its rows back).
    fx.clear_cache()
    reset_hs_index()
    yield
    fx.clear_cache()
    reset_hs_index()
