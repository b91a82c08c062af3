"""FACTS.md §9 worked examples and §10a edge cases, with exact Decimals.

Every case runs through the service (``compute_quote``) and through the management command
(``quote_landed_cost``, JSON in and out), so the two can never drift apart.
"""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from customs.landed_cost import compute_quote
from tests.customs.factories import consignment, line

D = Decimal


def run_command(c) -> dict:
    out = io.StringIO()
    call_command("quote_landed_cost", stdin=io.StringIO(json.dumps(c.to_dict())), stdout=out)
    return json.loads(out.getvalue())


def both(c):
    """The service result and the command's JSON for the same consignment."""
    return compute_quote(c), run_command(c)


# --- §9 -------------------------------------------------------------------------------------


def test_e1_us_to_germany_ioss_flat_duty_after_july_2026(rules):
    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], ship_from="US", shipping="6.00")
    q, js = both(c)
    assert (q.goods, q.duty, q.tax, q.landed_cost) == (D("40.00"), D("3.00"), D("8.74"), D("57.74"))
    assert q.collected_at_checkout and q.incoterm == "DDP" and q.tax_scheme == "IOSS"
    assert q.tax_rate_percent == D("19")
    assert js["duty"] == "3.00" and js["tax"] == "8.74" and js["landed_cost"] == "57.74"
    assert js["collected_at_checkout"] is True and js["incoterm"] == "DDP"
    assert js["blocked"] is False and js["reasons"] == []
    assert any(r.startswith("regime:") and r.endswith("EU-2026-DE") for r in js["rules"])


def test_e1_without_ioss_puts_the_flat_duty_in_the_vat_base(rules):
    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], shipping="6.00", channel="direct")
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("3.00"), D("9.31"), D("58.31"))
    assert not q.collected_at_checkout and q.incoterm == "DAP"
    assert js["tax"] == "9.31" and js["landed_cost"] == "58.31"


def test_e2_china_to_france_two_tariff_lines_pay_six_euros(rules):
    c = consignment(
        "FR",
        "EUR",
        [
            line("610910", "25.00", origin="CN"),
            line("910211", "60.00", origin="CN", description="Men's quartz wristwatch, steel case"),
        ],
        ship_from="CN",
        shipping="10.00",
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("6.00"), D("19.00"), D("120.00"))
    # The French small-parcel tax is the marketplace's cost, not a buyer line (§10a).
    assert q.fees == D("0") and q.marketplace_costs == D("4.00")
    assert js["landed_cost"] == "120.00" and js["marketplace_costs"] == "4.00"


def test_e4_us_to_uk_vat_at_sale_no_duty(rules):
    c = consignment(
        "GB",
        "GBP",
        [line("621410", "60.00", description="Women's silk scarf, printed")],
        shipping="8.00",
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("0.00"), D("13.60"), D("81.60"))
    assert q.tax_scheme == "UK_VAT" and q.incoterm == "DDP"
    assert (js["duty"], js["tax"], js["landed_cost"]) == ("0.00", "13.60", "81.60")


def test_e7_germany_to_us_book_is_duty_free(rules):
    c = consignment(
        "US",
        "USD",
        [line("490199", "30.00", origin="DE", description="Printed novel, paperback")],
        ship_from="DE",
        shipping="8.00",
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("0.00"), D("0"), D("38.00"))
    assert not q.incomplete
    assert (js["duty"], js["tax"], js["landed_cost"]) == ("0.00", "0.00", "38.00")
    assert js["incoterm"] == "DAP"


def test_e10_japan_to_australia_gst_at_sale_includes_shipping(rules):
    c = consignment(
        "AU",
        "AUD",
        [line("711311", "200.00", origin="JP", description="Sterling silver ring")],
        ship_from="JP",
        shipping="20.00",
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("0.00"), D("22.00"), D("242.00"))
    assert js["tax"] == "22.00" and js["landed_cost"] == "242.00"


def test_e11_us_to_new_zealand_gst_at_sale(rules):
    c = consignment(
        "NZ",
        "NZD",
        [line("420292", "150.00", description="Canvas backpack for laptops")],
        shipping="20.00",
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("0.00"), D("25.50"), D("195.50"))
    assert js["landed_cost"] == "195.50"


@pytest.mark.parametrize(
    ("cif", "duty", "icms", "landed"),
    [("100.00", "40.00", "28.67", "168.67"), ("50.00", "10.00", "12.29", "72.29")],
)
def test_e13_brazil_remessa_conforme_and_icms_por_dentro(rules, cif, duty, icms, landed):
    c = consignment(
        "BR", "USD", [line("610910", cif, origin="CN")], ship_from="CN", shipping="0.00"
    )
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D(duty), D(icms), D(landed))
    assert (js["duty"], js["tax"], js["landed_cost"]) == (duty, icms, landed)
    assert q.collected_at_checkout


def test_e13_freight_counts_in_the_cif_value(rules):
    c = consignment("BR", "USD", [line("610910", "90.00", origin="CN")], shipping="10.00")
    q = compute_quote(c)
    assert (q.customs_value, q.duty, q.tax, q.landed_cost) == (
        D("100.00"), D("40.00"), D("28.67"), D("168.67"),
    )  # fmt: skip


# --- edge cases -----------------------------------------------------------------------------


def test_japan_under_10000_yen_pays_nothing_until_the_2028_reform(rules):
    book = [line("490199", "8000", origin="US", description="Printed art book, hardcover")]
    q, js = both(consignment("JP", "JPY", book, shipping="1500"))
    assert (q.duty, q.tax, q.landed_cost) == (D("0"), D("0"), D("9500"))
    assert js["landed_cost"] == "9500"
    later = compute_quote(consignment("JP", "JPY", book, shipping="1500", on=date(2028, 4, 1)))
    # Personal use: 8,000 x 0.6 + 1,500 = 6,300 -> 6,000 (FAQ 1111); national 7.8 % = 468
    # -> 400, local 400 x 22/78 = 112.8 -> 100.
    assert later.tax == D("500")
    assert later.landed_cost == D("10000")


def test_nigeria_de_minimis_counts_the_buyers_uses(rules):
    goods = [line("610910", "250.00")]
    first, js = both(consignment("NG", "USD", goods, transport="courier"))
    assert (first.duty, first.tax) == (D("0.00"), D("0.00"))
    assert js["incomplete"] is False
    fifth = compute_quote(
        consignment("NG", "USD", goods, transport="courier", buyer_deminimis_uses=4)
    )
    assert fifth.tax == D("18.75")  # 7.5 % of 250; duty rate unknown for NG
    assert fifth.incomplete
    assert any("no longer applies" in w for w in fifth.warnings)
    assert any("No ad valorem duty rate" in w for w in fifth.warnings)


def test_south_africa_flat_twenty_percent_and_vat_on_atv(rules):
    c = consignment("ZA", "ZAR", [line("610910", "400.00")])
    q, js = both(c)
    assert (q.duty, q.tax, q.landed_cost) == (D("80.00"), D("78.00"), D("558.00"))
    assert js["landed_cost"] == "558.00"


@pytest.mark.parametrize(
    ("value", "service", "form"),
    [
        ("380.00", "small_packet", "CN22"),
        ("450.00", "small_packet", "CN23"),
        ("100.00", "parcel", "CN23"),
    ],
)
def test_cn22_or_cn23_by_sdr_value_and_service(rules, value, service, form):
    c = consignment("DE", "USD", [line("711311", value)], postal_service=service)
    q, js = both(c)
    assert q.form == form and js["form"] == form
    if service == "small_packet":
        assert q.value_in_sdr == (D(value) / D("1.40")).quantize(D("0.01"))


def test_courier_consignments_use_cn23(rules):
    q = compute_quote(consignment("DE", "EUR", [line()], transport="courier"))
    assert q.form == "CN23"


def test_sanctions_iran_blocks(rules):
    q, js = both(consignment("IR", "USD", [line()]))
    assert q.blocked and js["blocked"] is True
    assert "comprehensive sanctions" in js["reasons"][0]


@pytest.mark.parametrize(
    ("on", "blocked", "review"), [(date(2025, 6, 30), True, False), (date(2025, 7, 1), False, True)]
)
def test_sanctions_syria_is_review_not_block_from_july_2025(rules, on, blocked, review):
    q = compute_quote(consignment("SY", "USD", [line()], on=on))
    assert (q.blocked, q.review_required) == (blocked, review)


def test_sanctions_russia_luxury_handbag_from_an_eu_seller_blocks(rules):
    bag = line("420221", "400.00", origin="IT", description="Women's leather handbag")
    q, js = both(consignment("RU", "EUR", [bag], ship_from="DE"))
    assert q.blocked
    assert any("luxury" in r for r in js["reasons"])


def test_sanctions_cuba_depends_on_the_sellers_jurisdiction(rules):
    us = compute_quote(consignment("CU", "USD", [line()], ship_from="US"))
    eu = compute_quote(consignment("CU", "EUR", [line()], ship_from="DE"))
    assert us.blocked
    assert not eu.blocked and eu.review_required
    assert any("Blocking Statute" in w for w in eu.warnings)


def test_crimea_blocks_by_region(rules):
    assert compute_quote(consignment("UA", "EUR", [line()], destination_region="UA-43")).blocked
    kyiv = compute_quote(consignment("UA", "EUR", [line()], destination_region="UA-30"))
    assert not kyiv.blocked


def test_switzerland_tax_of_exactly_five_francs_is_not_collected(rules):
    # 8.1 % of 61.73 = 5.00013 -> 5.00: "not more than 5 francs" is not collected.
    direct = consignment("CH", "CHF", [line("610910", "60.00")], shipping="1.73", channel="direct")
    q = compute_quote(direct)
    assert q.tax == D("0")
    dearer = compute_quote(consignment("CH", "CHF", [line("610910", "70.00")], channel="direct"))
    assert dearer.tax == D("5.65")  # 5.67 cash-rounded to 0.05
    platform = compute_quote(consignment("CH", "CHF", [line("610910", "60.00")], shipping="1.73"))
    assert platform.tax == D("5.00") and platform.collected_at_checkout


def test_fx_worked_example_through_the_converter(db):
    from customs import fx

    fx.store_rates({date(2026, 10, 2): {"USD": D("1.1700"), "GBP": D("0.8500")}}, source="FACTS §7")
    assert fx.convert(D("100.00"), "USD", "GBP", on=date(2026, 10, 4)) == D("72.65")
