"""A small world for booking tests: an insurer, a clinic that offers X-rays, their users."""

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode
from tests import factories
from tests.factories import act


@pytest.fixture
def insurer(insurer_user):
    return insurer_user.organisation


@pytest.fixture
def clinic_location(db, clinic_user):
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(
        partner=partner, name="Harbour Clinic King West", email="front@harbour.example"
    )
    factories.make_offering(location=location, service_code="XRAY", price="95.00")
    return location


@pytest.fixture
def other_insurer_user(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Other Assist")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org)


@pytest.fixture
def case(insurer, insurer_user):
    return factories.make_booking_request(insurer=insurer, actor=act(insurer_user))
