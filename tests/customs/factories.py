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


def addressee(**overrides):
    from customs.services import PartyAddress

    values = {
        "name": "Bea Buyer",
        "country": "DE",
        "address_lines": ("Torstraße 1",),
        "city": "Berlin",
        "postcode": "10119",
        "phone": "+49 30 1234567",
        "email": "buyer@example.test",
    }
    values.update(overrides)
    return PartyAddress(**values)


def five_lines() -> list[ConsignmentLine]:
    return [
        line("610910", "15.00", 2),
        line("621410", "25.00", description="Women's silk scarf, printed", net_weight_kg="0.05"),
        line("420292", "30.00", description="Canvas backpack for laptops", net_weight_kg="0.60"),
        line("711311", "40.00", description="Sterling silver ring", net_weight_kg="0.01"),
        line("490199", "10.00", 2, description="Printed novel, paperback", net_weight_kg="0.30"),
    ]


def make_declaration(shop, *, reference: str = "TP-1001-1", lines=None, **extra):
    from customs.services import create_declaration

    c = consignment("DE", "EUR", lines or five_lines(), shipping="9.00")
    return create_declaration(
        shop=shop,
        reference=reference,
        consignment=c,
        addressee=extra.pop("to", None) or addressee(),
        invoice_number=extra.pop("invoice_number", "INV-2026-0001"),
        order_number=extra.pop("order_number", "TP-1001"),
        **extra,
    )
