"""Money: every shop order rounded once in the presentment currency; the order is their sum."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.core.money import minor_units, quantize
from marketplace.orders.checkout import consignment_amounts

D = Decimal
# Presentment currencies with 0, 2 and 3 decimal places.
CURRENCIES = ["JPY", "EUR", "USD", "GBP", "CNY", "KWD", "BHD"]

prices = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
rates = st.decimals(min_value=D("0.0001"), max_value=D("250"), places=8).filter(lambda r: r > 0)
charges = st.decimals(min_value=D("0"), max_value=D("900"), places=3)

consignment = st.fixed_dictionaries(
    {
        "lines": st.lists(
            st.tuples(prices, st.integers(min_value=1, max_value=20)), min_size=1, max_size=6
        ),
        "shipping": st.decimals(min_value=D("0"), max_value=D("300"), places=2),
        "rate": rates,
        "duty": charges,
        "tax": charges,
        "fees": charges,
        "customs_rate": rates,
        "collected": st.booleans(),
    }
)


def _places(amount: Decimal) -> int:
    return -amount.as_tuple().exponent if amount.as_tuple().exponent < 0 else 0


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    currency=st.sampled_from(CURRENCIES),
    consignments=st.lists(consignment, min_size=1, max_size=5),
)
def test_the_sum_of_shop_orders_is_the_order_total_exactly(currency, consignments):
    parts = [consignment_amounts(currency=currency, **c) for c in consignments]
    order_total = sum((p.total for p in parts), start=quantize(0, currency))
    # What an order stores: each total the exact sum of its shown, rounded components ...
    for part in parts:
        for amount in (part.goods, part.shipping, part.duty, part.tax, part.fees, part.total):
            assert _places(amount) <= minor_units(currency)
            assert quantize(amount, currency) == amount
        assert part.goods == sum(part.lines, start=D(0))
        assert part.total == part.goods + part.shipping + part.duty + part.tax + part.fees
    # ... and the order total the exact sum of the shop orders, in every currency.
    assert order_total == sum(p.goods + p.shipping + p.duty + p.tax + p.fees for p in parts)
    # Rounding once per amount keeps the total within half a minor unit per rounded amount
    # of the unrounded figure.
    exact = D(0)
    rounded = 0
    for c in consignments:
        exact += sum(unit * c["rate"] * quantity for unit, quantity in c["lines"])
        exact += c["shipping"] * c["rate"]
        rounded += len(c["lines"]) * max(q for _, q in c["lines"]) + 1
        if c["collected"]:
            exact += (c["duty"] + c["tax"] + c["fees"]) * c["customs_rate"]
            rounded += 3
    half_unit = D(1).scaleb(-minor_units(currency)) / 2
    assert abs(order_total - exact) <= rounded * half_unit


@pytest.mark.parametrize(
    ("currency", "amount", "rate", "expected"),
    [
        ("EUR", "1.005", "1", "1.01"),  # half-up, never banker's rounding
        ("EUR", "2.675", "1", "2.68"),
        ("EUR", "0.125", "1", "0.13"),
        ("JPY", "1234.5", "1", "1235"),
        ("KWD", "1.0005", "1", "1.001"),
        ("EUR", "20.00", "0.85470", "17.09"),
    ],
)
def test_conversion_rounds_half_up_to_the_currencys_minor_unit(currency, amount, rate, expected):
    result = consignment_amounts(
        currency=currency, lines=[(D(amount), 1)], shipping=D(0), rate=D(rate)
    )
    assert result.goods == D(expected)
    assert str(result.goods) == expected


def test_a_worked_example_in_euros():
    # 2 x 20.00 USD at 0.85470 EUR, shipping 8.00 USD, VAT 8.16 EUR and duty 3.00 EUR collected.
    amounts = consignment_amounts(
        currency="EUR",
        lines=[(D("20.00"), 2)],
        shipping=D("8.00"),
        rate=D("0.85470"),
        duty=D("3.00"),
        tax=D("8.16"),
        collected=True,
    )
    assert amounts.lines == [D("34.18")]
    assert amounts.shipping == D("6.84")
    assert amounts.total == D("52.18")


def test_uncollected_charges_are_an_estimate_not_part_of_the_total():
    amounts = consignment_amounts(
        currency="GBP",
        lines=[(D("100.00"), 1)],
        shipping=D("10.00"),
        rate=D("0.8"),
        duty=D("12.345"),
        tax=D("20.00"),
        customs_rate=D("0.5"),
        collected=False,
    )
    assert (amounts.duty, amounts.tax, amounts.fees) == (D("0.00"), D("0.00"), D("0.00"))
    assert amounts.due_on_delivery == D("16.17")  # (12.345 + 20.00) x 0.5 = 16.1725
    assert amounts.total == D("88.00")
