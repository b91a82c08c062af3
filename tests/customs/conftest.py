"""Customs fixtures: the real rule tables, loaded once per test session from customs/data/."""

from __future__ import annotations

import pytest

from customs import fx
from customs.hs import reset_hs_index
from tests import customs_rules

# The shared customs rule fixtures (tests/customs_rules.py), committed once per package.
_customs_rules_committed = customs_rules._customs_rules_committed
rules = customs_rules.rules


@pytest.fixture(autouse=True)
def _fresh_customs_caches():
    # In-process caches must not leak rows between tests (each test rolls its rows back).
    fx.clear_cache()
    reset_hs_index()
    yield
    fx.clear_cache()
    reset_hs_index()
