"""The quote's arithmetic, with the rates given (no database): properties first, then cases."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medworks.billing.models import TaxableBase, TaxTreatment
from medworks.billing.pricing import Rate, quote_as_dict, quote_compute
from medworks.core.errors import DomainError

DAY = dt.date(2026, 1, 15)
CENT = Decimal("0.01")
ON = [Rate("HST", Decimal("0.13"))]
QC = [Rate("QST", Decimal("0.09975")), Rate("GST", Decimal("0.05"))]  # out of order on purpose
AB = [Rate("GST", Decimal("0.05"))]
NS = [Rate("HST", Decimal("0.14"))]
PROVINCE_RATES = {"ON": ON, "QC": QC, "AB": AB, "NS": NS}

amounts = st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2)
markups = st.decimals(min_value=0, max_value=Decimal("300"), places=2)
provinces = st.sampled_from(sorted(PROVINCE_RATES))
bases = st.sampled_from(list(TaxableBase))


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def compute(**kwargs):
    kwargs.setdefault("tax_point", DAY)
    kwargs.setdefault("province", "ON")
    kwargs.setdefault("rates", PROVINCE_RATES.get(kwargs["province"], ON))
    return quote_compute(**kwargs)


def amounts_of(figures) -> list[Decimal]:
    return [
        figures.clinic_cost,
        figures.medworks_fee,
        figures.subtotal,
        figures.total,
        *(t.amount for t in figures.taxes),
    ]


@given(cost=amounts, markup=markups, province=provinces, base=bases)
def test_the_total_is_clinic_cost_plus_fee_plus_the_tax_lines(cost, markup, province, base):
    figures = compute(clinic_cost=cost, markup_percent=markup, province=province, taxable_base=base)
    assert figures.total == figures.clinic_cost + figures.medworks_fee + sum(
        t.amount for t in figures.taxes
    )
    assert figures.subtotal == figures.clinic_cost + figures.medworks_fee
    assert figures.clinic_cost == cost


@given(cost=amounts, markup=markups, province=provinces, base=bases)
def test_every_amount_has_exactly_two_decimals(cost, markup, province, base):
    figures = compute(clinic_cost=cost, markup_percent=markup, province=province, taxable_base=base)
    for amount in amounts_of(figures):
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -2, amount
    data = quote_as_dict(figures)
    texts = [data[k] for k in ("clinic_cost", "medworks_fee", "subtotal", "total")]
    for text in [*texts, *(t["amount"] for t in data["taxes"])]:
        assert len(text.partition(".")[2]) == 2, text


@given(cost=amounts, markup=markups, province=provinces, base=bases)
def test_each_line_is_rounded_half_up_to_the_cent(cost, markup, province, base):
    figures = compute(clinic_cost=cost, markup_percent=markup, province=province, taxable_base=base)
    assert figures.medworks_fee == half_up(cost * markup / 100)
    taxed = figures.subtotal if base == TaxableBase.COST_PLUS_FEE else figures.medworks_fee
    for line in figures.taxes:
        assert line.amount == half_up(taxed * line.rate)


@given(cost=amounts, price_above=amounts, province=provinces)
def test_a_fixed_price_is_the_price_before_tax_and_the_fee_is_what_remains(
    cost, price_above, province
):
    price = cost + price_above
    figures = compute(clinic_cost=cost, fixed_price=price, province=province)
    assert figures.subtotal == price
    assert figures.medworks_fee == price - cost
    assert figures.total == price + sum(t.amount for t in figures.taxes)


def test_half_a_cent_rounds_up():
    # Fee: 50% of 0.01 is 0.005.
    assert compute(clinic_cost=Decimal("0.01")).medworks_fee == Decimal("0.01")
    # Tax: 13% of 0.50 is 0.065 (banker's rounding would give 0.06); 5% of 0.10 is 0.005.
    on = compute(clinic_cost=Decimal("0.00"), fixed_price=Decimal("0.50"))
    assert on.taxes[0].amount == Decimal("0.07")
    ab = compute(clinic_cost=Decimal("0.00"), fixed_price=Decimal("0.10"), province="AB")
    assert ab.taxes[0].amount == Decimal("0.01")
    # Just below half a cent rounds down: 13% of 0.03 is 0.0039 -> 0.00.
    low = compute(clinic_cost=Decimal("0.00"), fixed_price=Decimal("0.03"))
    assert low.taxes[0].amount == Decimal("0.00")


def test_the_sops_example_200_in_ontario():
    figures = compute(clinic_cost=Decimal("200.00"))
    assert (figures.clinic_cost, figures.medworks_fee, figures.subtotal) == (
        Decimal("200.00"),
        Decimal("100.00"),
        Decimal("300.00"),
    )
    assert [(t.name, t.rate, t.amount) for t in figures.taxes] == [
        ("HST", Decimal("0.13"), Decimal("39.00"))
    ]
    assert figures.total == Decimal("339.00")
    assert "HST 13%" in figures.rule
    assert "50%" in figures.rule


def test_quebec_has_a_gst_line_then_a_qst_line():
    figures = compute(clinic_cost=Decimal("200.00"), province="QC")
    assert [(t.name, t.amount) for t in figures.taxes] == [
        ("GST", Decimal("15.00")),
        ("QST", Decimal("29.93")),  # 300 x 9.975% = 29.925, half-up
    ]
    assert figures.total == Decimal("344.93")


def test_zero_rated_and_exempt_charge_no_tax_and_say_so():
    for treatment, word in (
        (TaxTreatment.ZERO_RATED, "Zero-rated"),
        (TaxTreatment.EXEMPT, "Exempt"),
    ):
        figures = compute(clinic_cost=Decimal("200.00"), treatment=treatment)
        assert figures.taxes == ()
        assert figures.total == figures.subtotal == Decimal("300.00")
        assert word in figures.rule


def test_zero_rated_needs_no_rate_table():
    # No rates given and none read: a zero-rated quote never touches the table.
    figures = quote_compute(
        clinic_cost=Decimal("100"),
        province="ON",
        tax_point=dt.date(1999, 1, 1),
        treatment=TaxTreatment.ZERO_RATED,
    )
    assert figures.total == Decimal("150.00")


def test_fee_only_base_taxes_the_fee_alone():
    figures = compute(clinic_cost=Decimal("200.00"), taxable_base=TaxableBase.FEE_ONLY)
    assert figures.taxes[0].amount == Decimal("13.00")
    assert figures.total == Decimal("313.00")
    assert "MedWorks fee only" in figures.rule


def test_a_fixed_price_below_the_clinic_cost_is_refused():
    with pytest.raises(DomainError) as caught:
        compute(clinic_cost=Decimal("200.00"), fixed_price=Decimal("199.99"))
    assert caught.value.code == "fixed_price_below_cost"


def test_a_fixed_price_says_so_in_the_rule():
    figures = compute(clinic_cost=Decimal("200.00"), fixed_price=Decimal("250.00"))
    assert figures.medworks_fee == Decimal("50.00")
    assert figures.total == Decimal("282.50")
    assert "Fixed price 250.00" in figures.rule


@pytest.mark.parametrize(
    "kwargs",
    [
        {"clinic_cost": 200.0},
        {"clinic_cost": Decimal("200"), "markup_percent": 50.0},
        {"clinic_cost": Decimal("200"), "fixed_price": 250.0},
    ],
)
def test_floats_are_refused(kwargs):
    with pytest.raises(TypeError, match="float"):
        compute(**kwargs)


def test_a_float_rate_is_refused():
    with pytest.raises(TypeError, match="float"):
        compute(clinic_cost=Decimal("1"), rates=[Rate("GST", 0.05)])


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"clinic_cost": Decimal("-0.01")}, "clinic_cost_negative"),
        ({"clinic_cost": Decimal("200.005")}, "clinic_cost_not_cents"),
        ({"clinic_cost": "twelve"}, "clinic_cost_invalid"),
        ({"clinic_cost": Decimal("NaN")}, "clinic_cost_invalid"),
        ({"clinic_cost": Decimal("1"), "markup_percent": Decimal("-1")}, "markup_percent_negative"),
        ({"clinic_cost": Decimal("1"), "province": "ZZ"}, "province_unknown"),
        ({"clinic_cost": Decimal("1"), "treatment": "maybe"}, "tax_treatment_unknown"),
    ],
)
def test_bad_input_is_a_domain_error_with_a_stable_code(kwargs, code):
    with pytest.raises(DomainError) as caught:
        compute(**kwargs)
    assert caught.value.code == code


def test_a_province_is_read_in_any_case():
    assert compute(clinic_cost=Decimal("1"), province=" qc ").province == "QC"


def test_hst_beside_gst_on_one_date_is_an_inconsistent_table():
    with pytest.raises(DomainError) as caught:
        compute(clinic_cost=Decimal("1"), rates=[Rate("HST", Decimal("0.13")), *AB])
    assert caught.value.code == "tax_rates_inconsistent"


def test_a_datetime_is_not_a_tax_point():
    with pytest.raises(TypeError):
        compute(clinic_cost=Decimal("1"), tax_point=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_the_json_form_is_decimal_strings():
    data = quote_as_dict(compute(clinic_cost=Decimal("200"), province="QC"))
    assert data["clinic_cost"] == "200.00"
    assert data["taxes"] == [
        {"name": "GST", "rate": "0.05", "amount": "15.00"},
        {"name": "QST", "rate": "0.09975", "amount": "29.93"},
    ]
    assert data["total"] == "344.93"
