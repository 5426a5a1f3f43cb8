"""An insurer's quote: its settings, or the defaults when it has none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from medworks.accounts.models import OrganisationKind
from medworks.billing.models import (
    InsurerFixedPrice,
    InsurerPricing,
    InsurerServiceMarkup,
    TaxableBase,
    TaxTreatment,
)
from medworks.billing.pricing import insurer_quote
from tests import factories

DAY = dt.date(2026, 1, 15)


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")


def quote(insurer, *, province="ON", service=None, **kwargs):
    return insurer_quote(
        insurer=insurer,
        clinic_cost=Decimal("200.00"),
        province=province,
        tax_point=DAY,
        service=service,
        **kwargs,
    )


def test_an_insurer_without_settings_gets_50_percent_and_the_tax_where_the_service_is(insurer):
    figures = quote(insurer, province="QC")
    assert figures.medworks_fee == Decimal("100.00")
    assert [t.name for t in figures.taxes] == ["GST", "QST"]
    assert "where the service is performed" in figures.rule
    assert not InsurerPricing.objects.exists()  # reading the defaults writes nothing


def test_the_insurers_markup_place_of_supply_and_base_apply(insurer):
    InsurerPricing.objects.create(
        insurer=insurer,
        markup_percent=Decimal("40"),
        place_of_supply="AB",
        taxable_base=TaxableBase.FEE_ONLY,
    )
    figures = quote(insurer, province="ON")
    assert figures.medworks_fee == Decimal("80.00")
    assert figures.province == "AB"
    assert [(t.name, t.amount) for t in figures.taxes] == [("GST", Decimal("4.00"))]
    assert figures.total == Decimal("284.00")
    assert "the insurer's setting" in figures.rule


def test_a_zero_rated_insurer_pays_no_tax(insurer):
    InsurerPricing.objects.create(insurer=insurer, tax_treatment=TaxTreatment.ZERO_RATED)
    figures = quote(insurer)
    assert figures.taxes == ()
    assert figures.total == Decimal("300.00")


def test_a_service_markup_beats_the_insurers_and_a_fixed_price_beats_both(insurer):
    xray, mri = factories.service("XRAY"), factories.service("MRI")
    InsurerPricing.objects.create(insurer=insurer, markup_percent=Decimal("40"))
    InsurerServiceMarkup.objects.create(insurer=insurer, service=xray, markup_percent=Decimal("25"))
    InsurerServiceMarkup.objects.create(insurer=insurer, service=mri, markup_percent=Decimal("25"))
    InsurerFixedPrice.objects.create(insurer=insurer, service=mri, price=Decimal("260.00"))

    assert quote(insurer).medworks_fee == Decimal("80.00")
    assert quote(insurer, service=xray).medworks_fee == Decimal("50.00")
    fixed = quote(insurer, service=mri)
    assert (fixed.subtotal, fixed.medworks_fee) == (Decimal("260.00"), Decimal("60.00"))
    assert "Contract price" in fixed.rule


def test_a_markup_given_for_one_quote_replaces_the_settings(insurer):
    InsurerPricing.objects.create(insurer=insurer, markup_percent=Decimal("40"))
    figures = quote(insurer, markup_percent=Decimal("10"))
    assert figures.medworks_fee == Decimal("20.00")
    assert "given for this quote" in figures.rule
