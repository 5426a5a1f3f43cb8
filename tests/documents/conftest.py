"""A clinic with its location, a case at it that needs paperwork, and an isolated store."""

from __future__ import annotations

import pytest

from medworks.bookings import services as bookings
from tests import factories
from tests.factories import act


@pytest.fixture(autouse=True)
def document_store(settings, tmp_path):
    """Documents go to this test's own folder, through the real encrypting storage."""
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


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
    factories.make_offering(location=location, service_code="ULTRASOUND", price="150.00")
    return location


@pytest.fixture
def case(insurer, insurer_user):
    """A Maple Assist case just received: no clinic yet."""
    return factories.make_booking_request(insurer=insurer, actor=act(insurer_user))


@pytest.fixture
def paper_case(insurer, insurer_user, clinic_location, booking_agent):
    """A Maple Assist case (X-ray and ultrasound) that needs paperwork, sent to Harbour Clinic
    for dates."""
    return factories.make_case_awaiting_dates(
        insurer=insurer,
        location=clinic_location,
        agent=booking_agent,
        services=["XRAY", "ULTRASOUND"],
        paperwork_required=True,
        results_delivery="via_paperwork",
    )


@pytest.fixture
def booked_case(paper_case, booking_agent):
    """The paper case, booked on a date five days from now (`factories.appointment_time_passes`
    for the visit done: signed forms come back after it)."""
    offer = bookings.availability_offer_record(
        case=paper_case, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    paper_case.refresh_from_db()
    return paper_case


@pytest.fixture
def other_clinic_user(db):
    from medworks.accounts.models import OrganisationKind, RoleCode

    org = factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Lakeshore Imaging")
    user = factories.make_user(roles=[RoleCode.CLINIC_USER], organisation=org)
    factories.make_partner(name="Lakeshore Imaging", organisation=org)
    return user


@pytest.fixture
def other_insurer_user(db):
    from medworks.accounts.models import OrganisationKind, RoleCode

    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Other Assist")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org)
