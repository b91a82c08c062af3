"""Catalog fixtures: HS codes and exchange rates loaded once, caches reset per test."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from customs import fx
from customs.hs import reset_hs_index
from customs.loaders import load_all, unload_all
from customs.models import HSCode
from marketplace.listings.buyer import clear_rate_cache
from marketplace.listings.catalog import reset_local_state


@pytest.fixture(scope="package")
def _customs_tables_committed(django_db_setup, django_db_blocker):
    # The HS nomenclature and the bundled ECB rates, committed once for this package (the
    # customs app owns the tables and their loader); removed again afterwards.
    with django_db_blocker.unblock():
        load_all(only={"hs", "fx"})
    yield
    with django_db_blocker.unblock():
        unload_all()


@pytest.fixture
def customs_tables(_customs_tables_committed, db):
    if not HSCode.objects.exists():
        load_all(only={"hs", "fx"})  # a transactional test flushed them
    return True


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Cached catalog pages and in-process rate/HS caches must not leak between tests.
    cache.clear()
    fx.clear_cache()
    clear_rate_cache()
    reset_hs_index()
    reset_local_state()
    yield
    cache.clear()
    fx.clear_cache()
    clear_rate_cache()
    reset_hs_index()
