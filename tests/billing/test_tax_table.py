"""The seeded rate table, read at the tax point (never "today")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medworks.billing.pricing import quote_compute
from medworks.billing.selectors import tax_rates_at
from medworks.core.errors import DomainError
from medworks.network.models import Province

SWITCH = dt.date(2025, 4, 1)


def quote(province: str, day: dt.date, cost: str = "200.00"):
    return quote_compute(clinic_cost=Decimal(cost), province=province, tax_point=day)


def lines(figures) -> list[tuple[str, Decimal]]:
    return [(t.name, t.rate) for t in figures.taxes]


@pytest.mark.django_db
def test_nova_scotia_is_15_percent_on_the_last_day_and_14_from_april_first_2025():
    assert lines(quote("NS", dt.date(2025, 3, 31))) == [("HST", Decimal("0.15"))]
    assert lines(quote("NS", SWITCH)) == [("HST", Decimal("0.14"))]
    assert quote("NS", dt.date(2025, 3, 31)).total == Decimal("345.00")
    assert quote("NS", SWITCH).total == Decimal("342.00")


@pytest.mark.django_db
@settings(deadline=None, max_examples=60)
@given(day=st.dates(min_value=dt.date(2011, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_the_nova_scotia_rate_switches_exactly_on_its_effective_date(day):
    expected = Decimal("0.15") if day < SWITCH else Decimal("0.14")
    assert lines(quote("NS", day)) == [("HST", expected)]


@pytest.mark.django_db
def test_quebec_gives_two_lines_gst_and_qst():
    figures = quote("QC", dt.date(2026, 1, 15))
    assert lines(figures) == [("GST", Decimal("0.05")), ("QST", Decimal("0.09975"))]
    assert [t.amount for t in figures.taxes] == [Decimal("15.00"), Decimal("29.93")]


@pytest.mark.django_db
def test_ontario_gives_one_hst_line_at_13_percent():
    figures = quote("ON", dt.date(2026, 1, 15))
    assert lines(figures) == [("HST", Decimal("0.13"))]
    assert figures.total == Decimal("339.00")


@pytest.mark.django_db
@pytest.mark.parametrize("province", ["AB", "NT", "NU", "YT", "BC", "MB", "SK"])
def test_gst_provinces_and_territories_give_only_gst(province):
    # BC, MB and SK provincial sales tax is [verify] in RULES.md: not applied by default.
    assert lines(quote(province, dt.date(2026, 1, 15))) == [("GST", Decimal("0.05"))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("province", "first_day"),
    [("NB", dt.date(2016, 7, 1)), ("NL", dt.date(2016, 7, 1)), ("PE", dt.date(2016, 10, 1))],
)
def test_atlantic_hst_is_15_percent_from_its_first_day(province, first_day):
    assert lines(quote(province, first_day)) == [("HST", Decimal("0.15"))]
    with pytest.raises(DomainError) as caught:
        quote(province, first_day - dt.timedelta(days=1))
    assert caught.value.code == "tax_rate_missing"


@pytest.mark.django_db
def test_every_province_and_territory_has_a_rate_today():
    for province in Province.values:
        assert tax_rates_at(province, dt.date(2026, 12, 1)), province


@pytest.mark.django_db
def test_a_date_the_table_does_not_cover_is_refused_not_guessed():
    with pytest.raises(DomainError) as caught:
        quote("ON", dt.date(2009, 6, 30))
    assert caught.value.code == "tax_rate_missing"
    assert "2009-06-30" in caught.value.message


@pytest.mark.django_db
def test_an_unknown_province_is_refused():
    with pytest.raises(DomainError) as caught:
        tax_rates_at("XX", dt.date(2026, 1, 1))
    assert caught.value.code == "province_unknown"
