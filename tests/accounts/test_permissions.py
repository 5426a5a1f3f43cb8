"""Who may do what, per role: the table in accounts/permissions.py, checked role by role."""

import pytest

from medworks.accounts.models import OrganisationKind, Role, RoleCode
from medworks.accounts.permissions import Capability, capabilities_of, user_can
from tests import factories

C = Capability
R = RoleCode

_STAFF_READ = {C.BACK_OFFICE, C.DIRECTORY_VIEW, C.BOOKING_VIEW}
# The booking team prepares pre-payments and takes the insurer's card on the phone.
_BOOKING_TEAM = _STAFF_READ | {
    C.MATCH_CLINICS,
    C.BOOKING_WORK,
    C.PAYMENT_VIEW,
    C.PAYMENT_PREPARE,
    C.CARD_ENTER,
}
_EDITORS = {C.DIRECTORY_EDIT, C.DIRECTORY_IMPORT, C.API_KEYS_MANAGE}
# The corporate booking coordinator is on the payment call: it may see the card whole.
# It reconciles every order (SOP case 4 step 6).
_COORDINATOR = _BOOKING_TEAM | _EDITORS | {C.CARD_REVEAL, C.RECONCILIATION_VIEW, C.RECONCILE}
# The SOP's management team also takes escalated cases and records the provider found; it
# reads the dashboard.
_MANAGEMENT = _BOOKING_TEAM | _EDITORS | {C.ESCALATION_HANDLE, C.DASHBOARD_VIEW}

EXPECTED = {
    R.BOOKING_AGENT: _BOOKING_TEAM,
    R.BOOKING_COORDINATOR: _COORDINATOR,
    R.CLINIC_MANAGER: _MANAGEMENT,
    R.SALES_MANAGER: _MANAGEMENT,
    # A lost phone; and the privacy officer's duties (breach register, access trails).
    R.DIRECTOR_OF_OPERATIONS: _MANAGEMENT | {C.TWO_FACTOR_RESET, C.PRIVACY},
    R.SENIOR_MANAGER: _MANAGEMENT | {C.TWO_FACTOR_RESET},  # a lost phone
    # Case 4: the Chief of Staff reviews a pre-payment (and is on the call), the CEO approves.
    R.CHIEF_OF_STAFF: _STAFF_READ
    | {C.MATCH_CLINICS, C.PAYMENT_VIEW, C.PAYMENT_REVIEW, C.CARD_REVEAL}
    | {C.RECONCILIATION_VIEW, C.DASHBOARD_VIEW, C.PRIVACY},
    R.CEO: _STAFF_READ
    | {C.MATCH_CLINICS, C.PAYMENT_VIEW, C.PAYMENT_APPROVE, C.RECONCILIATION_VIEW}
    | {C.DASHBOARD_VIEW},
    # Finance closes the month and reopens it for a correction.
    R.FINANCE: _STAFF_READ
    | {C.TAX_SETTINGS_EDIT, C.INVOICING, C.PAYMENT_VIEW, C.RECONCILIATION_VIEW}
    | {C.MONTH_CLOSE, C.DASHBOARD_VIEW},
    R.INSURER_USER: {C.INSURER_PORTAL, C.BOOKING_SUBMIT},
    R.CLINIC_USER: {C.CLINIC_PORTAL, C.CLINIC_AVAILABILITY},
}


def test_every_role_of_the_sop_is_seeded_by_the_migration(db):
    assert set(Role.objects.values_list("code", flat=True)) == {r.value for r in RoleCode}


@pytest.mark.parametrize("role", list(RoleCode))
def test_each_role_holds_exactly_the_capabilities_the_procedure_gives_it(db, role):
    user = factories.make_user(roles=[role])
    assert capabilities_of(user) == EXPECTED[role]


def test_a_staff_role_held_by_an_insurer_user_opens_no_back_office(db):
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER)
    user = factories.make_user(roles=[R.BOOKING_AGENT, R.CEO], organisation=insurer)
    assert capabilities_of(user) == frozenset()


def test_a_clinic_role_held_by_a_medworks_user_opens_no_clinic_portal(db):
    user = factories.make_user(
        roles=[R.BOOKING_AGENT, R.CLINIC_USER], organisation=factories.operator()
    )
    assert not user_can(user, C.CLINIC_PORTAL)
    assert user_can(user, C.BACK_OFFICE)


def test_an_inactive_user_can_do_nothing(db):
    user = factories.make_user(roles=[R.CEO])
    user.is_active = False
    assert capabilities_of(user) == frozenset()


def test_a_user_without_organisation_can_do_nothing(db):
    user = factories.make_user(roles=[R.CEO])
    user.organisation = None
    assert capabilities_of(user) == frozenset()


def test_an_anonymous_visitor_can_do_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert capabilities_of(AnonymousUser()) == frozenset()
