"""Catalog fixtures: HS codes and exchange rates loaded once, caches reset per test."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from customs import fx
from customs.hs import reset_hs_index
from marketplace.listings.buyer import clear_rate_cache
from marketplace.listings.catalog import reset_local_state
from tests import customs_rules

# The shared customs rule fixtures (tests/customs_rules.py), committed once per package.
_customs_rules_committed = customs_rules._customs_rules_committed
rules = customs_rules.rules


@pytest.fixture
def customs_tables(rules):
    """HS nomenclature and ECB rates (with the rest of the customs rules)."""
    return rules


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
