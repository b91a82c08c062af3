"""Consignment builders for customs tests (plain dataclasses, as the orders app will build)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from customs.landed_cost import Consignment, ConsignmentLine


def line(
    hs_code: str = "610910",
    unit_price: str = "20.00",
    quantity: int = 1,
    *,
    origin: str = "US",
    description: str = "Men's cotton T-shirt, knitted",
    net_weight_kg: str = "0.20",
    **extra,
) -> ConsignmentLine:
    return ConsignmentLine(
        hs_code=hs_code,
        origin=origin,
        description=description,
        quantity=quantity,
        unit_price=Decimal(unit_price),
        net_weight_kg=Decimal(net_weight_kg),
        **extra,
    )


def consignment(
    destination: str,
    currency: str,
    lines: list[ConsignmentLine],
    *,
    ship_from: str = "US",
    shipping: str = "0.00",
    insurance: str = "0.00",
    on: date = date(2026, 10, 15),
    **extra,
) -> Consignment:
    return Consignment(
        date=on,
        ship_from=ship_from,
        destination=destination,
        currency=currency,
        lines=tuple(lines),
        shipping=Decimal(shipping),
        insurance=Decimal(insurance),
        **extra,
    )


def as_json(c: Consignment) -> dict:
    return c.to_dict()
