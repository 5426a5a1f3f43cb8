"""An insurer's designated service area (SOP: no affiliate this near the patient escalates the
case): the coordinator and management set it in whole minutes, 1 to 600, or give it back to the
desk's default; every change is audited; matching reads it through `service_area_minutes_of`."""

from __future__ import annotations

import pytest

from medworks.accounts.models import Organisation, OrganisationKind, RoleCode
from medworks.accounts.selectors import service_area_minutes_of
from medworks.accounts.services import insurer_service_area_set
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Travel Cover")


@pytest.fixture
def clinic_manager(db):
    return factories.make_user(roles=[RoleCode.CLINIC_MANAGER], username="clinicmanager")


def minutes_of(insurer) -> int | None:
    return Organisation.objects.get(pk=insurer.pk).service_area_minutes


def test_an_insurer_without_its_own_area_has_the_desks_default(insurer, settings):
    settings.MEDWORKS_SERVICE_AREA_MINUTES = 75
    assert service_area_minutes_of(insurer) == 75


def test_a_clinic_manager_sets_the_area_and_the_change_is_audited(clinic_manager, insurer):
    returned = insurer_service_area_set(actor=act(clinic_manager), insurer=insurer, minutes=90)

    assert minutes_of(insurer) == 90
    assert returned.service_area_minutes == 90 and insurer.service_area_minutes == 90
    assert service_area_minutes_of(Organisation.objects.get(pk=insurer.pk)) == 90
    event = AuditEvent.objects.get(action="organisation.service_area_set")
    assert event.actor == clinic_manager
    assert (event.object_type, event.object_id) == ("accounts.organisation", str(insurer.pk))
    assert event.payload["changes"] == {"service_area_minutes": ["", "90"]}


def test_none_gives_the_insurer_back_the_default(clinic_manager, insurer, settings):
    settings.MEDWORKS_SERVICE_AREA_MINUTES = 60
    insurer_service_area_set(actor=act(clinic_manager), insurer=insurer, minutes=120)

    insurer_service_area_set(actor=act(clinic_manager), insurer=insurer, minutes=None)

    assert minutes_of(insurer) is None
    assert service_area_minutes_of(insurer) == 60
    last = AuditEvent.objects.filter(action="organisation.service_area_set").order_by("pk").last()
    assert last.payload["changes"] == {"service_area_minutes": ["120", ""]}


def test_the_same_value_again_writes_no_audit_row(clinic_manager, insurer):
    insurer_service_area_set(actor=act(clinic_manager), insurer=insurer, minutes=None)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("minutes", [1, 600])
def test_the_bounds_are_accepted(coordinator, insurer, minutes):
    insurer_service_area_set(actor=act(coordinator), insurer=insurer, minutes=minutes)
    assert minutes_of(insurer) == minutes


@pytest.mark.parametrize("minutes", [0, -5, 601, True, False, 45.0, "45", "abc"])
def test_anything_but_whole_minutes_from_1_to_600_is_refused_on_the_field(
    clinic_manager, insurer, minutes
):
    with pytest.raises(DomainError) as refused:
        insurer_service_area_set(actor=act(clinic_manager), insurer=insurer, minutes=minutes)

    assert refused.value.code == "service_area_minutes_invalid"
    assert list(refused.value.fields) == ["minutes"]
    assert minutes_of(insurer) is None
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["finance_user", "booking_agent", "insurer_user"])
def test_finance_an_agent_and_an_insurer_may_not(request, insurer, persona):
    actor = act(request.getfixturevalue(persona))

    with pytest.raises(PermissionDenied) as refused:
        insurer_service_area_set(actor=actor, insurer=insurer, minutes=30)

    assert refused.value.code == "service_area_forbidden"
    assert minutes_of(insurer) is None
    assert not AuditEvent.objects.exists()


def test_the_system_may_not_either(insurer):
    with pytest.raises(PermissionDenied):
        insurer_service_area_set(actor=act(None), insurer=insurer, minutes=30)


def test_only_an_insurer_has_a_service_area(clinic_manager, clinic_user):
    clinic = clinic_user.organisation

    with pytest.raises(DomainError) as refused:
        insurer_service_area_set(actor=act(clinic_manager), insurer=clinic, minutes=30)

    assert refused.value.code == "insurer_invalid"
    assert minutes_of(clinic) is None
