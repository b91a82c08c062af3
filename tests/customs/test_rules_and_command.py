"""The rule loader, regime dates, thresholds in other currencies and the command's bad input."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from customs import fx
from customs.landed_cost import Consignment, ConsignmentError, compute_quote
from customs.loaders import load_all
from customs.models import DutyRate, HSCode, Quote, Regime, Restriction, SanctionedDestination
from customs.rulebook import EU_MEMBERS, invalidate_rules
from customs.services import quote_consignment
from tests.customs.factories import consignment, line

D = Decimal
E1 = {
    "date": "2026-10-15",
    "ship_from": "US",
    "destination": "DE",
    "destination_region": None,
    "channel": "marketplace",
    "transport": "post",
    "currency": "EUR",
    "shipping": "6.00",
    "insurance": "0.00",
    "lines": [
        {
            "hs_code": "610910",
            "origin": "US",
            "description": "Men's cotton T-shirt, knitted",
            "quantity": 2,
            "unit_price": "20.00",
            "net_weight_kg": "0.20",
        }
    ],
}


def run(data) -> tuple[int, dict]:
    out = io.StringIO()
    raw = data if isinstance(data, str) else json.dumps(data)
    try:
        call_command("quote_landed_cost", stdin=io.StringIO(raw), stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_loading_twice_changes_nothing(rules):
    reports = {r.table: r for r in load_all()}
    for report in reports.values():
        assert report.created == 0 and report.updated == 0, str(report)
    assert Regime.objects.filter(destination="DE").count() == 3
    assert Regime.objects.filter(destination="CA").count() == 3 * 14
    assert DutyRate.objects.filter(destination="EU", hs_prefix="610910").get().rate_percent == 12
    # Every FACTS §5 destination has rules, the EU as its 27 member states.
    destinations = set(Regime.objects.values_list("destination", flat=True))
    facts = {
        "US", "GB", "CA", "AU", "NZ", "CH", "NO", "JP", "CN", "SG", "MY", "IN", "BR", "MX",
        "ZA", "KE", "NG", "RW",
    }  # fmt: skip
    assert facts <= destinations
    wider = {"HK", "KR", "IL", "TW"}  # issue 13 "Wider and fresher data"
    assert destinations - facts - wider == set(EU_MEMBERS)


def test_an_admin_edit_is_kept_with_history_and_a_reload_restores_the_file(rules):
    regime = Regime.objects.get(data_key="EU-2026-DE")
    regime.tax_rate = D("20")
    regime.save()
    assert regime.history.count() == 2
    invalidate_rules()
    c = consignment("DE", "EUR", [line("610910", "20.00", 2)], shipping="6.00")
    assert compute_quote(c).tax == D("9.20")
    load_all(only={"regimes"})
    assert compute_quote(c).tax == D("8.74")


def test_the_same_consignment_before_and_after_july_2026_in_the_eu(rules):
    goods = [line("610910", "20.00", 2)]
    before = compute_quote(consignment("DE", "EUR", goods, shipping="6.00", on=date(2026, 6, 30)))
    after = compute_quote(consignment("DE", "EUR", goods, shipping="6.00", on=date(2026, 7, 1)))
    assert (before.duty, before.tax, before.landed_cost) == (D("0.00"), D("8.74"), D("54.74"))
    assert (after.duty, after.tax, after.landed_cost) == (D("3.00"), D("8.74"), D("57.74"))
    assert any("EU-2021-DE" in r for r in before.rules)
    assert any("EU-2026-DE" in r for r in after.rules)
    # Over EUR 150: no IOSS, tariff duty on the CIF value and import VAT at the border.
    dear = compute_quote(consignment("DE", "EUR", [line("610910", "100.00", 2)], shipping="6.00"))
    assert not dear.collected_at_checkout and dear.incoterm == "DAP"
    assert dear.duty == D("24.72")  # 12 % of 206.00
    assert dear.tax == D("43.84")  # 19 % of (206.00 + 24.72)


def test_thresholds_are_compared_in_the_destination_currency(rules):
    # GBP 135 in USD on 2026-10-15: a USD 175 scarf is under, USD 185 is over.
    limit_usd = fx.convert(D("135"), "GBP", "USD", on=date(2026, 10, 15))
    assert D("175") < limit_usd < D("185")
    under = compute_quote(
        consignment("GB", "USD", [line("621410", "175.00", description="Silk scarf, printed")])
    )
    over = compute_quote(
        consignment("GB", "USD", [line("621410", "185.00", description="Silk scarf, printed")])
    )
    assert under.collected_at_checkout and under.duty == D("0.00")
    assert not over.collected_at_checkout and over.duty == D("14.80")  # UKGT 8 %
    assert any(r.startswith("fx:USD->GBP") for r in over.rules)


def test_eu_thresholds_use_the_customs_rate_of_the_month(rules):
    q = compute_quote(consignment("DE", "USD", [line("610910", "100.00")]))
    assert any("fx:USD->EUR:EU_CUSTOMS_MONTHLY:2026-09-23" in r for r in q.rules)
    assert q.duty == fx.convert(
        D("3.00"), "EUR", "USD", on=date(2026, 10, 15), kind="EU_CUSTOMS_MONTHLY"
    )


def test_an_unknown_duty_rate_is_flagged_never_silently_zero(rules):
    q = compute_quote(
        consignment(
            "US",
            "USD",
            [line("851713", "900.00", description="Smartphone with battery", origin="CN")],
            ship_from="CN",
        )
    )
    assert q.incomplete
    assert any("851713" in w and "incomplete" in w for w in q.warnings)


def test_restrictions_block_warn_or_require_a_document(rules):
    perfume = line("330300", "40.00", description="Eau de parfum, 50 ml")
    assert compute_quote(consignment("DE", "EUR", [perfume])).blocked
    courier = compute_quote(consignment("DE", "EUR", [perfume], transport="courier"))
    assert not courier.blocked and any("dangerous goods" in w for w in courier.warnings)
    ivory = line("050790", "50.00", description="Antique carved horn comb")
    assert compute_quote(consignment("DE", "EUR", [ivory])).blocked
    permitted = line(
        "050790", "50.00", description="Antique carved horn comb", certificate_number="CITES-DE-123"
    )
    assert not compute_quote(consignment("DE", "EUR", [permitted])).blocked
    water = line("220110", "5.00", description="Mineral water, still, 1 litre")
    assert not compute_quote(consignment("DE", "EUR", [water])).blocked
    rule = Restriction.objects.get(data_key="PERFUME-POST")
    q = compute_quote(consignment("DE", "EUR", [perfume]))
    assert f"restriction:{rule.pk}:PERFUME-POST" in q.rules


def test_canadian_provinces_change_the_tax(rules):
    goods = [line("610910", "100.00")]
    on = compute_quote(consignment("CA", "CAD", goods, destination_region="CA-ON"))
    qc = compute_quote(consignment("CA", "CAD", goods, destination_region="CA-QC"))
    ab = compute_quote(consignment("CA", "CAD", goods, destination_region="CA-AB"))
    assert on.tax_rate_percent == D("13") and qc.tax_rate_percent == D("14.975")
    assert ab.tax_rate_percent == D("5")
    assert on.fees == D("9.95")  # Canada Post handling, charges due on delivery
    courier = compute_quote(
        consignment(
            "CA", "CAD", [line("610910", "35.00")], transport="courier", destination_region="CA-ON"
        )
    )
    assert (courier.duty, courier.tax) == (D("0.00"), D("0.00"))  # CUSMA: CAD 40 tax, CAD 150 duty


def test_saved_quotes_keep_inputs_breakdown_and_rules(rules, shop):
    c = Consignment.from_dict(E1)
    result = quote_consignment(consignment=c, save=True, shop=shop, reference="TP-1")
    quote = Quote.objects.get(pk=result.quote_id)
    assert quote.landed_cost == D("57.74") and quote.tax == D("8.74")
    assert quote.inputs["lines"][0]["unit_price"] == "20.00"
    assert quote.breakdown["landed_cost"] == "57.74"
    assert quote.regime.data_key == "EU-2026-DE"
    assert any(r.startswith("regime:") for r in quote.rules_used)


def test_a_quote_queries_nothing_once_rules_and_rates_are_cached(rules, django_assert_num_queries):
    c = consignment("DE", "USD", [line("610910", "20.00", 2)], shipping="6.00")
    compute_quote(c)
    with django_assert_num_queries(0):
        for _ in range(20):
            compute_quote(c)


def test_command_prints_the_quote(rules):
    code, out = run(E1)
    assert code == 0
    assert out["landed_cost"] == "57.74" and out["form"] == "CN22"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "15/10/2026"}, "date"),
        ({"destination": "XX"}, "destination"),
        ({"destination": "Germany"}, "destination"),
        ({"currency": "EURO"}, "currency"),
        ({"shipping": 6.0}, "shipping"),
        ({"shipping": "-1"}, "shipping"),
        ({"channel": "shop"}, "channel"),
        ({"transport": "ship"}, "transport"),
        ({"destination_region": "ON"}, "destination_region"),
        ({"lines": []}, "lines"),
        ({"lines": [dict(E1["lines"][0], hs_code="6109")]}, "lines[0].hs_code"),
        ({"lines": [dict(E1["lines"][0], hs_code="610999")]}, "lines[0].hs_code"),
        ({"lines": [dict(E1["lines"][0], quantity=0)]}, "lines[0].quantity"),
        ({"lines": [dict(E1["lines"][0], unit_price="abc")]}, "lines[0].unit_price"),
        ({"lines": [dict(E1["lines"][0], origin="")]}, "lines[0].origin"),
        ({"lines": [dict(E1["lines"][0], description=" ")]}, "lines[0].description"),
    ],
)
def test_bad_input_exits_2_naming_the_field(rules, change, field):
    code, out = run({**E1, **change})
    assert code == 2
    assert out["error"]["field"] == field
    assert out["error"]["message"]
    with pytest.raises(ConsignmentError) as excinfo:
        Consignment.from_dict({**E1, **change})
    assert excinfo.value.field == field


def test_command_refuses_non_json_and_non_objects(rules):
    assert run("{not json")[0] == 2
    code, out = run([1, 2])
    assert code == 2 and out["error"]["field"] == "$"


def test_command_needs_only_migrate_and_the_loader(rules):
    # The rules fixture ran load_customs_rules' loader on a migrated, empty database.
    assert HSCode.objects.exists() and SanctionedDestination.objects.exists()
    out = io.StringIO()
    call_command("load_customs_rules", stdout=out)
    assert "0 created, 0 updated" in out.getvalue()


def test_destinations_whose_currency_the_ecb_does_not_publish_still_quote(rules):
    # Kenya and Rwanda have no thresholds, so no KES/RWF rate is needed; duty is unknown.
    for destination in ("KE", "RW"):
        q = compute_quote(consignment(destination, "USD", [line("610910", "100.00")]))
        assert q.incomplete and q.tax > 0, destination
    ke = compute_quote(consignment("KE", "USD", [line("610910", "100.00")]))
    assert ke.tax == D("16.00")  # VAT 16 % of CIF 100 (+ unknown duty)
    assert ke.fees == D("4.50")  # IDF 2.5 % + RDL 2 % of the customs value


def test_a_missing_exchange_rate_flags_the_quote_instead_of_failing(rules):
    q = compute_quote(consignment("DE", "KES", [line("610910", "1000.00")]))
    assert q.incomplete and not q.collected_at_checkout
    assert any("No exchange rate from KES to EUR" in w for w in q.warnings)
    assert q.form == "CN23"


@pytest.mark.parametrize(
    ("on", "transport", "duty"),
    [
        (date(2026, 5, 1), "post", "10.00"),  # s.122 surcharge only, no MFN, for postal items
        (date(2026, 5, 1), "courier", "34.00"),  # MFN 16.5 % + s.122 10 % + s.301 7.5 % (CN)
        (date(2026, 10, 15), "post", "24.00"),  # after 2026-07-24: MFN + s.301 List 4A (CN)
        (date(2025, 6, 1), "post", "0.00"),  # the USD 800 de minimis, before 2025-08-29
    ],
)
def test_us_duty_branches_on_transport_and_date(rules, on, transport, duty):
    q = compute_quote(consignment("US", "USD", [line("610910", "100.00", origin="CN")],
                                  ship_from="CN", transport=transport, on=on))  # fmt: skip
    assert q.duty == D(duty)
    assert q.tax == D("0") and q.incoterm == "DAP"
