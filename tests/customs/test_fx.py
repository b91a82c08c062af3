from datetime import date
from decimal import Decimal

import pytest

from customs import fx
from customs.loaders import ECB_SNAPSHOT
from customs.models import ExchangeRate
from customs.tasks import import_ecb_rates
from marketplace.core.errors import DomainError

ECB_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
                 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time='2024-06-07'>
      <Cube currency='USD' rate='1.1700'/>
      <Cube currency="JPY" rate="160.50"/>
      <Cube currency='GBP' rate='0.85000'/>
    </Cube>
    <Cube time="2024-06-06">
      <Cube currency='USD' rate='1.1600'/>
      <Cube currency='GBP' rate='0.84000'/>
    </Cube>
  </Cube>
</gesmes:Envelope>"""


@pytest.fixture
def facts_rates(db):
    return fx.import_ecb_xml(ECB_XML, source="test")


def test_cross_rate_via_eur_matches_the_worked_example(facts_rates):
    # FACTS §7/§9: USD 1.1700, GBP 0.8500 -> USD 100.00 = GBP 72.65
    assert fx.convert(Decimal("100.00"), "USD", "GBP", on=date(2024, 6, 7)) == Decimal("72.65")


def test_weekend_uses_the_previous_business_day(facts_rates):
    # 2024-06-09 is a Sunday: Friday 7 June applies.
    quoted = fx.rate("USD", "GBP", on=date(2024, 6, 9))
    assert quoted.rate_date == date(2024, 6, 7)
    assert quoted.value == Decimal("0.85000") / Decimal("1.1700")
    assert quoted.kind == "ECB_DAILY"
    assert not quoted.stale


def test_conversion_rounds_half_up_to_the_target_minor_unit(facts_rates):
    assert fx.convert(Decimal("10"), "EUR", "JPY", on=date(2024, 6, 7)) == Decimal("1605")
    assert fx.convert(Decimal("1"), "JPY", "EUR", on=date(2024, 6, 7)) == Decimal("0.01")
    assert fx.convert(Decimal("12.345"), "EUR", "EUR") == Decimal("12.35")


def test_importing_twice_changes_nothing(facts_rates):
    assert facts_rates.created == 5
    again = fx.import_ecb_xml(ECB_XML, source="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)


def test_a_corrected_rate_is_updated(facts_rates):
    fx.rate("USD", "GBP", on=date(2024, 6, 7))  # warm the cache
    result = fx.import_ecb_xml(ECB_XML.replace(b"1.1700", b"1.1800"), source="fix")
    assert result.updated == 1
    row = ExchangeRate.objects.get(currency="USD", date=date(2024, 6, 7))
    assert row.rate == Decimal("1.18")
    assert fx.rate("EUR", "USD", on=date(2024, 6, 7)).value == Decimal("1.18")


def test_unknown_currency_or_date_raises_rate_unavailable(facts_rates):
    with pytest.raises(fx.RateUnavailable):
        fx.convert(Decimal(1), "USD", "XYZ", on=date(2024, 6, 7))
    with pytest.raises(fx.RateUnavailable):
        fx.rate("USD", "GBP", on=date(2020, 1, 1))
    assert issubclass(fx.RateUnavailable, DomainError)


def test_bad_xml_is_refused_with_a_message(db):
    with pytest.raises(DomainError, match="not valid XML"):
        fx.import_ecb_xml(b"<not xml", source="x")
    with pytest.raises(DomainError, match="no rates"):
        fx.import_ecb_xml(b"<a/>", source="x")


def test_fifty_conversions_make_one_query(rules, django_assert_num_queries):
    with django_assert_num_queries(1):
        for n in range(50):
            fx.convert(Decimal(n), "USD", "GBP", on=date(2026, 10, 15))


def test_bundled_snapshot_covers_2026(rules):
    quoted = fx.rate("EUR", "USD", on=date(2026, 10, 15))
    assert quoted.rate_date == date(2026, 10, 15)
    assert quoted.value == Decimal("1.1208")
    assert b"time='2026-10-30'" in ECB_SNAPSHOT.read_bytes()


def test_a_date_after_the_snapshot_uses_the_latest_rate_and_says_so(rules):
    quoted = fx.rate("USD", "EUR", on=date(2026, 11, 28))
    assert quoted.rate_date == date(2026, 10, 30)
    assert quoted.stale
    assert "2026-10-30" in quoted.note


def test_eu_customs_rate_is_the_penultimate_wednesday_of_the_previous_month(rules):
    assert fx.penultimate_wednesday_of_previous_month(date(2026, 10, 15)) == date(2026, 9, 23)
    quoted = fx.rate("EUR", "USD", on=date(2026, 10, 15), kind="EU_CUSTOMS_MONTHLY")
    assert quoted.rate_date == date(2026, 9, 23)
    assert quoted.kind == "EU_CUSTOMS_MONTHLY"
    daily = ExchangeRate.objects.get(rate_kind="ECB_DAILY", currency="USD", date="2026-09-23")
    assert quoted.value == daily.rate


def test_manual_rates_cover_currencies_the_ecb_does_not_publish(rules):
    with pytest.raises(fx.RateUnavailable):
        fx.convert(Decimal(100), "EUR", "NGN", on=date(2026, 10, 15))
    fx.set_manual_rate(
        currency="ngn", on=date(2026, 10, 1), per_eur=Decimal("1700"), source="CBN test"
    )
    assert fx.convert(Decimal(100), "EUR", "NGN", on=date(2026, 10, 15)) == Decimal("170000.00")
    assert fx.rate("EUR", "NGN", on=date(2026, 10, 15)).kind == "MANUAL"
    # Bulgaria's fixed rate is bundled.
    assert fx.convert(Decimal("195.583"), "BGN", "EUR", on=date(2026, 3, 2)) == Decimal("100.00")


def test_manual_rate_refuses_bad_input(db):
    with pytest.raises(DomainError, match="three-letter"):
        fx.set_manual_rate(currency="NG", on=date(2026, 1, 1), per_eur=Decimal(1), source="x")
    with pytest.raises(DomainError, match="greater than zero"):
        fx.set_manual_rate(currency="NGN", on=date(2026, 1, 1), per_eur=Decimal(0), source="x")
    with pytest.raises(DomainError, match="source"):
        fx.set_manual_rate(currency="NGN", on=date(2026, 1, 1), per_eur=Decimal(1), source=" ")
    assert not ExchangeRate.objects.filter(currency="NGN").exists()


def test_import_task_does_nothing_without_a_url(db, settings):
    settings.ECB_RATES_URL = None
    assert import_ecb_rates.delay().get() == 0
    assert not ExchangeRate.objects.filter(date__year=2024).exists()


def test_import_task_imports_from_the_configured_url_twice_idempotently(db, settings, tmp_path):
    feed = tmp_path / "eurofxref-daily.xml"
    feed.write_bytes(ECB_XML)
    settings.ECB_RATES_URL = feed.as_uri()
    assert import_ecb_rates.delay().get() == 5
    assert import_ecb_rates.delay().get() == 0
    assert ExchangeRate.objects.filter(source=feed.as_uri()).count() == 5


MANUAL_CSV = (
    b"currency,date,rate_per_eur,source\n"
    b"KES,2026-11-30,151.20,Test central bank euro quotation\n"
    b"NGN,2026-11-30,1702.5,Test central bank euro quotation\n"
)


def test_manual_rates_task_imports_from_the_configured_url_twice_idempotently(
    db, settings, tmp_path
):
    from customs.tasks import import_manual_rates

    feed = tmp_path / "manual.csv"
    feed.write_bytes(MANUAL_CSV)
    settings.MANUAL_RATES_URL = feed.as_uri()
    assert import_manual_rates.delay().get() == 2
    assert import_manual_rates.delay().get() == 0
    kes = ExchangeRate.objects.get(currency="KES", rate_kind="MANUAL")
    assert (kes.rate, kes.source) == (Decimal("151.20"), "Test central bank euro quotation")
    # KES 1,512.00 = EUR 10.00 through the manual rate.
    assert fx.convert(Decimal("1512.00"), "KES", "EUR", on=date(2026, 12, 3)) == Decimal("10.00")
    settings.MANUAL_RATES_URL = None
    assert import_manual_rates.delay().get() == 0


def test_a_bad_manual_rates_file_is_refused_with_the_line(db):
    with pytest.raises(DomainError, match="columns"):
        fx.import_manual_csv(b"cur,day\nKES,1\n", source="x")
    with pytest.raises(DomainError, match="Line 4"):
        fx.import_manual_csv(MANUAL_CSV + b"KES,2026-13-01,1,x\n", source="x")
    with pytest.raises(DomainError, match="Line 2"):
        fx.import_manual_csv(
            b"currency,date,rate_per_eur,source\nKES,2026-11-30,-1,x\n", source="x"
        )
    assert not ExchangeRate.objects.filter(currency="KES").exists()
