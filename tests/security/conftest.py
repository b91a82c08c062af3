"""Security regression tests: the order fixtures (customs rules, a US shop and its T-shirt)."""

from tests.orders.conftest import (  # noqa: F401  (fixtures, used by name)
    _customs_rules_committed,
    _fresh_state,
    rules,
    tshirt,
    us_shop,
)
