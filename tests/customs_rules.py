"""The bundled customs rule tables (HS codes, ECB rates, regimes, duty rates, ...) for tests.

Import both fixtures into an app's conftest.py: the rules are committed once per test package
(outside any test transaction, so no test pays for loading them) and removed when the package
is done, so other packages start from the empty tables they expect.
"""

from __future__ import annotations

import pytest

from customs.loaders import load_all, unload_all
from customs.models import Regime


@pytest.fixture(scope="package")
def _customs_rules_committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        load_all()
    yield
    with django_db_blocker.unblock():
        unload_all()


@pytest.fixture
def rules(_customs_rules_committed, db):
    """The bundled customs rule tables, in the database for this test."""
    if not Regime.objects.exists():
        load_all()  # a transactional test flushed the tables: load again, inside this test
    return True
