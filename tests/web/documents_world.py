"""The world of the paperwork pages: Maple Assist's case that needs paperwork, booked at
Harbour Clinic, its documents in a store of the test's own; other organisations to be kept out.

tests/web/conftest.py imports the fixtures, so every web test module may ask for them.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings import services as bookings
from medworks.documents import gops
from medworks.documents import services as documents
from medworks.documents.models import DocumentKind
from tests import factories
from tests.documents import samples
from tests.factories import act


def upload(data: bytes, name: str = "form.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def gop_post(case, **overrides) -> dict:
    """The GOP form as a person fills it in: the case's terms, a month of validity, $500."""
    today = timezone.localdate()
    data = {
        "insurer_reference": case.insurer_reference,
        "patient_name": case.patient.full_name,
        "patient_date_of_birth": case.patient.date_of_birth.isoformat(),
        "policy_number": case.policy_number,
        "authorised_services": [s.code for s in case.services.all()],
        "valid_from": today.isoformat(),
        "valid_to": (today + dt.timedelta(days=30)).isoformat(),
        "max_amount": "500.00",
        "currency": "CAD",
        "copay_exclusions": "No co-pay.",
        "billing_instructions": "Invoice MedWorks with the claim number.",
    }
    data.update(overrides)
    return data


def gop_terms(**overrides) -> dict:
    today = timezone.localdate()
    return {
        "authorised_services": ["XRAY"],
        "valid_from": today,
        "valid_to": today + dt.timedelta(days=30),
        "max_amount": "500.00",
        **overrides,
    }


@pytest.fixture
def document_store(settings, tmp_path):
    """Documents go to this test's own folder, through the real encrypting storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    return tmp_path / "documents"


@pytest.fixture
def clinic_location(db, clinic_user):
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    factories.make_offering(location=location, service_code="XRAY", price="95.00")
    return location


@pytest.fixture
def booked_case(document_store, insurer_user, clinic_location, booking_agent):
    """Maple Assist's case that needs paperwork, booked at Harbour Clinic (dates are offered in
    the future), its appointment then two hours past: the signed forms come after the visit."""
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=clinic_location,
        agent=booking_agent,
        paperwork_required=True,
        results_delivery="via_paperwork",
    )
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    factories.appointment_time_passes(case)
    case.refresh_from_db()
    return case


@pytest.fixture
def issued_gop(booked_case, insurer_user):
    """The insurer's GOP for the case, with its PDF."""
    return gops.gop_issue(
        case=booked_case,
        data=gop_terms(),
        actor=act(insurer_user),
        file=upload(samples.pdf("GOP")),
        filename="gop.pdf",
    )


@pytest.fixture
def signed_form(booked_case, clinic_user):
    """The clinic's signed paperwork, back for billing."""
    return documents.document_upload(
        case=booked_case,
        kind=DocumentKind.COMPLETED_FORM,
        file=upload(samples.pdf("Signed")),
        filename="signed.pdf",
        actor=act(clinic_user),
        signed_by="Dr. Anne Roy",
        signed_on=timezone.localdate(),
        attested=True,
    )


@pytest.fixture
def other_clinic_user(db):
    org = factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Hilltop Clinic")
    factories.make_partner(name="Hilltop Clinic", organisation=org)
    return factories.make_user(roles=[RoleCode.CLINIC_USER], organisation=org, username="hill")


@pytest.fixture
def other_insurer_user(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Other Assist")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org, username="other")
