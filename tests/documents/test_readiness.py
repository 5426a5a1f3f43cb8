"""A case that needs paperwork goes to billing only once the clinic's signed forms are back."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from medworks.bookings.models import BookingStatus
from medworks.bookings.services import appointment_complete, booking_request_step
from medworks.bookings.workflow import available_transitions
from medworks.core.errors import DomainError
from medworks.documents.selectors import paperwork_complete
from medworks.documents.services import document_upload
from tests import factories
from tests.factories import act

from . import samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed_case(booked_case, clinic_user):
    factories.appointment_time_passes(booked_case)
    appointment_complete(case=booked_case, actor=act(clinic_user))
    booked_case.refresh_from_db()
    return booked_case


def signed_form(case, user, **extra):
    fields = {"signed_by": "Dr. Amira Haddad", "signed_on": timezone.localdate(), "attested": True}
    fields.update(extra)
    return document_upload(
        case=case,
        kind="completed_form",
        file=io.BytesIO(samples.pdf("signed")),
        filename="signed.pdf",
        actor=act(user),
        **fields,
    )


def _ready(case, agent):
    return booking_request_step(case=case, name="mark_ready_for_billing", actor=act(agent))


def test_billing_is_refused_until_the_signed_paperwork_is_back(completed_case, booking_agent):
    assert not paperwork_complete(case=completed_case)
    assert "mark_ready_for_billing" not in {
        t.name for t in available_transitions(completed_case, act(booking_agent))
    }
    with pytest.raises(DomainError) as caught:
        _ready(completed_case, booking_agent)
    assert caught.value.code == "transition_refused"
    assert "the signed paperwork is not back yet" in caught.value.message
    completed_case.refresh_from_db()
    assert completed_case.status == BookingStatus.COMPLETED


def test_billing_is_allowed_once_the_clinic_uploads_the_signed_forms(
    completed_case, clinic_user, booking_agent
):
    signed_form(completed_case, clinic_user)
    assert paperwork_complete(case=completed_case)
    assert "mark_ready_for_billing" in {
        t.name for t in available_transitions(completed_case, act(booking_agent))
    }
    assert _ready(completed_case, booking_agent).status == BookingStatus.READY_FOR_BILLING


def test_the_insurers_forms_or_the_agents_copy_do_not_count_as_the_clinics_signed_forms(
    completed_case, insurer_user, booking_agent
):
    document_upload(
        case=completed_case,
        kind="insurer_form",
        file=io.BytesIO(samples.pdf("blank")),
        filename="form.pdf",
        actor=act(insurer_user),
    )
    signed_form(completed_case, booking_agent)
    assert not paperwork_complete(case=completed_case)
    with pytest.raises(DomainError):
        _ready(completed_case, booking_agent)


def test_a_case_without_paperwork_goes_to_billing_without_documents(
    clinic_location, clinic_user, booking_agent, insurer
):
    case = factories.make_case_awaiting_dates(
        insurer=insurer, location=clinic_location, agent=booking_agent
    )
    from medworks.bookings import services as bookings

    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=3)], actor=act(booking_agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(booking_agent))
    factories.appointment_time_passes(case)
    appointment_complete(case=case, actor=act(clinic_user))
    assert paperwork_complete(case=case)
    assert _ready(case, booking_agent).status == BookingStatus.READY_FOR_BILLING
