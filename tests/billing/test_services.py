"""Only finance changes the tax table and the insurers' pricing; every change is audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.accounts.permissions import Capability, user_can
from medworks.billing import services
from medworks.billing.models import InsurerPricing, TaxRate, TaxTreatment
from medworks.billing.pricing import quote_compute
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories


@pytest.fixture
def finance(finance_user):
    return Actor.for_user(finance_user)


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")


def ontario_hst() -> TaxRate:
    return TaxRate.objects.get(province="ON", tax_name="HST")


def test_only_finance_holds_the_tax_settings_capability(
    finance_user, booking_agent, coordinator, insurer_user, clinic_user
):
    assert user_can(finance_user, Capability.TAX_SETTINGS_EDIT)
    for other in (booking_agent, coordinator, insurer_user, clinic_user):
        assert not user_can(other, Capability.TAX_SETTINGS_EDIT)
    ceo = factories.make_user(roles=[RoleCode.CEO])
    assert not user_can(ceo, Capability.TAX_SETTINGS_EDIT)


@pytest.mark.parametrize(
    "make_actor",
    [
        lambda: Actor.for_user(factories.make_user(roles=[RoleCode.BOOKING_AGENT])),
        lambda: Actor.for_user(factories.make_user(roles=[RoleCode.CEO])),
        lambda: Actor.system("test"),
    ],
    ids=["booking agent", "ceo", "system"],
)
@pytest.mark.django_db
def test_a_non_finance_actor_cannot_change_a_rate(make_actor):
    actor = make_actor()
    before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied) as caught:
        services.tax_rate_update(actor=actor, tax_rate=ontario_hst(), data={"rate": "0.14"})
    assert caught.value.code == "tax_settings_forbidden"
    with pytest.raises(PermissionDenied):
        services.tax_rate_create(
            actor=actor, province="BC", tax_name="PST", rate="0.07", valid_from=dt.date(2026, 1, 1)
        )
    assert ontario_hst().rate == Decimal("0.13")
    assert not TaxRate.objects.filter(province="BC", tax_name="PST").exists()
    assert AuditEvent.objects.count() == before


def test_finance_changes_a_rate_and_an_audit_row_says_who_and_what(finance, finance_user):
    row = services.tax_rate_update(
        actor=finance, tax_rate=ontario_hst(), data={"valid_to": dt.date(2026, 6, 30)}
    )
    assert row.valid_to == dt.date(2026, 6, 30)
    event = AuditEvent.objects.get(action="tax_rate.updated")
    assert event.actor == finance_user
    assert event.object_id == str(row.pk)
    assert event.actor_kind == "user"
    assert event.payload["changes"] == {"valid_to": ["", "2026-06-30"]}


def test_finance_closes_a_rate_and_adds_the_next_one(finance):
    services.tax_rate_update(
        actor=finance, tax_rate=ontario_hst(), data={"valid_to": dt.date(2026, 6, 30)}
    )
    services.tax_rate_create(
        actor=finance,
        province="on",
        tax_name="HST",
        rate=Decimal("0.12"),
        valid_from=dt.date(2026, 7, 1),
        source="Test budget",
    )
    assert AuditEvent.objects.filter(action="tax_rate.created").count() == 1

    def rate_on(day):
        figures = quote_compute(clinic_cost=Decimal("100"), province="ON", tax_point=day)
        return figures.taxes[0].rate

    assert rate_on(dt.date(2026, 6, 30)) == Decimal("0.13")
    assert rate_on(dt.date(2026, 7, 1)) == Decimal("0.12")


def test_an_overlapping_rate_is_refused(finance):
    with pytest.raises(DomainError) as caught:
        services.tax_rate_create(
            actor=finance,
            province="ON",
            tax_name="HST",
            rate="0.12",
            valid_from=dt.date(2026, 1, 1),
        )
    assert caught.value.code == "tax_rate_overlap"
    # The HST includes the GST: a GST row beside Ontario's HST is refused too.
    with pytest.raises(DomainError) as caught:
        services.tax_rate_create(
            actor=finance,
            province="ON",
            tax_name="GST",
            rate="0.05",
            valid_from=dt.date(2026, 1, 1),
        )
    assert caught.value.code == "tax_rate_overlap"
    assert not AuditEvent.objects.filter(action="tax_rate.created").exists()


def test_the_table_can_hold_a_pst_once_finance_adds_it(finance):
    services.tax_rate_create(
        actor=finance, province="BC", tax_name="PST", rate="0.07", valid_from=dt.date(2026, 1, 1)
    )
    figures = quote_compute(
        clinic_cost=Decimal("100"), province="BC", tax_point=dt.date(2026, 2, 1)
    )
    assert [t.name for t in figures.taxes] == ["GST", "PST"]


@pytest.mark.parametrize("rate", ["1.00", "-0.01", "0.123456", "thirteen"])
def test_a_rate_must_be_a_fraction_with_at_most_five_decimals(finance, rate):
    with pytest.raises(DomainError) as caught:
        services.tax_rate_update(actor=finance, tax_rate=ontario_hst(), data={"rate": rate})
    assert caught.value.code == "rate_invalid"


def test_a_float_rate_is_refused(finance):
    with pytest.raises(TypeError):
        services.tax_rate_update(actor=finance, tax_rate=ontario_hst(), data={"rate": 0.14})


def test_finance_sets_an_insurers_tax_settings_and_it_is_audited(finance, insurer):
    pricing = services.insurer_pricing_update(
        actor=finance,
        insurer=insurer,
        data={"tax_treatment": TaxTreatment.ZERO_RATED, "place_of_supply": "qc"},
    )
    assert (pricing.tax_treatment, pricing.place_of_supply) == ("zero_rated", "QC")
    event = AuditEvent.objects.get(action="insurer_pricing.updated")
    assert event.payload["changes"]["tax_treatment"] == ["taxable", "zero_rated"]
    # The same values again change nothing and write nothing.
    services.insurer_pricing_update(
        actor=finance, insurer=insurer, data={"tax_treatment": "zero_rated"}
    )
    assert AuditEvent.objects.filter(action="insurer_pricing.updated").count() == 1


def test_a_booking_agent_cannot_change_an_insurers_settings(booking_agent, insurer):
    with pytest.raises(PermissionDenied):
        services.insurer_pricing_update(
            actor=Actor.for_user(booking_agent), insurer=insurer, data={"markup_percent": "10"}
        )
    assert not InsurerPricing.objects.exists()


def test_settings_are_for_insurers_only(finance, clinic_user):
    with pytest.raises(DomainError) as caught:
        services.insurer_pricing_update(
            actor=finance, insurer=clinic_user.organisation, data={"markup_percent": "10"}
        )
    assert caught.value.code == "insurer_invalid"


def test_finance_sets_and_removes_per_service_markups_and_fixed_prices(finance, insurer):
    xray = factories.service("XRAY")
    row = services.insurer_service_markup_set(
        actor=finance, insurer=insurer, service=xray, markup_percent=Decimal("30")
    )
    assert row.markup_percent == Decimal("30")
    price = services.insurer_fixed_price_set(
        actor=finance, insurer=insurer, service=xray, price="275.50"
    )
    assert price.price == Decimal("275.50")
    assert (
        services.insurer_fixed_price_set(actor=finance, insurer=insurer, service=xray, price=None)
        is None
    )
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "insurer_service_markup.set",
        "insurer_fixed_price.set",
        "insurer_fixed_price.removed",
    ]
