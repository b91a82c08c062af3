"""Each exchange-rate source has a validity rule; a stale rate is an ``incomplete`` reason
when ``CUSTOMS_STALE_RATES_INCOMPLETE`` is on (production), an admin warning otherwise."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from customs import fx
from customs.landed_cost import compute_quote
from tests.customs.factories import consignment, line

D = Decimal


@pytest.fixture
def october_rates(db):
    # ECB rates up to Friday 2026-10-30 only (the bundled snapshot's last day).
    fx.store_rates(
        {
            date(2026, 10, 21): {"USD": D("1.1600"), "GBP": D("0.8700")},
            date(2026, 10, 30): {"USD": D("1.1700"), "GBP": D("0.8800")},
        },
        source="test",
    )


def test_eu_customs_rate_is_valid_for_its_month(october_rates):
    # November's customs rate is the ECB rate of Wednesday 2026-10-21: known, not stale.
    nov = fx.rate("USD", "EUR", on=date(2026, 11, 20), kind="EU_CUSTOMS_MONTHLY")
    assert nov.rate_date == date(2026, 10, 21) and not nov.stale
    assert nov.value == D(1) / D("1.1600")
    # December's should be the rate of 2026-11-18; only 30 October's is known: stale.
    dec = fx.rate("USD", "EUR", on=date(2026, 12, 3), kind="EU_CUSTOMS_MONTHLY")
    assert dec.rate_date == date(2026, 10, 30) and dec.stale


def test_ecb_daily_rate_is_valid_for_five_days(october_rates):
    assert not fx.rate("USD", "GBP", on=date(2026, 11, 4)).stale
    assert fx.rate("USD", "GBP", on=date(2026, 11, 5)).stale


def test_a_stale_rate_makes_the_quote_incomplete_in_production(rules, october_rates, settings):
    settings.CUSTOMS_STALE_RATES_INCOMPLETE = True
    c = consignment("DE", "USD", [line("610910", "20.00", 2)], on=date(2026, 12, 3))
    q = compute_quote(c)
    assert q.incomplete
    assert q.unknowns == [
        "Exchange rate of 2026-10-30 used: no newer EU_CUSTOMS_MONTHLY rate is known yet."
    ]


def test_a_stale_rate_is_not_a_buyer_warning_in_the_local_profile(rules, october_rates, settings):
    settings.CUSTOMS_STALE_RATES_INCOMPLETE = False
    q = compute_quote(consignment("DE", "USD", [line("610910", "20.00", 2)], on=date(2026, 12, 3)))
    assert not q.incomplete and q.unknowns == []
    assert not any("Exchange rate of" in w for w in q.warnings)
    assert "fx:USD->EUR:EU_CUSTOMS_MONTHLY:2026-10-30" in q.rules


def test_bgn_fixed_rate_never_goes_stale(rules):
    assert not fx.rate("BGN", "EUR", on=date(2026, 12, 3)).stale


def test_admin_says_once_that_rates_are_stale_and_counts_incomplete_quotes(
    rules, client_for, staff, settings
):
    from customs.models import Quote
    from customs.services import quote_consignment

    settings.CUSTOMS_STALE_RATES_INCOMPLETE = False
    quote_consignment(consignment=consignment("TV", "USD", [line()]), save=True)
    quote_consignment(consignment=consignment("TV", "USD", [line()]), save=True)
    assert Quote.objects.filter(incomplete=True, destination="TV").count() == 2
    page = client_for(staff).get(reverse("admin:customs_quote_changelist"))
    text = page.content.decode()
    assert "Incomplete quotes in the last 30 days, by destination: TV 2." in text
    stale = [s for s in fx.stale_sources() if s.kind == "ECB_DAILY"]
    if stale:  # the bundled snapshot ends 2026-10-30
        assert "Exchange rates are stale: the newest ECB_DAILY rate is of" in text
