"""The booking use cases end to end: submit, source, offer dates, approve, and what follows."""

import datetime as dt

import pytest
from django.utils import timezone

from medworks.bookings import services
from medworks.bookings.models import (
    Appointment,
    AppointmentStatus,
    BookingRequest,
    BookingStatus,
    OfferSlot,
    OfferStatus,
    SlotStatus,
)
from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

S = BookingStatus


def _offer(case, agent, location, slots=None):
    services.booking_request_take(case=case, actor=act(agent))
    services.booking_request_select_clinic(case=case, location=location, actor=act(agent))
    return services.availability_offer_record(
        case=case,
        slots=slots or [factories.slot_data(days=4), factories.slot_data(days=5)],
        actor=act(agent),
    )


def test_order_ids_are_sequential_per_year_and_readable(insurer):
    first = factories.make_booking_request(insurer=insurer)
    second = factories.make_booking_request(insurer=insurer)
    year = timezone.localdate().year
    assert first.order_id == f"MW-{year}-000001"
    assert second.order_id == f"MW-{year}-000002"


def test_a_submitted_request_keeps_every_field_and_queues_acknowledgements(insurer, insurer_user):
    case = factories.make_booking_request(
        insurer=insurer, actor=act(insurer_user), patient_postal_code="m5v3l9", services=["X-ray"]
    )
    assert case.patient.postal_code == "M5V 3L9"
    assert [s.code for s in case.services.all()] == ["XRAY"]
    assert case.channel == "portal"
    templates = set(OutboxMessage.objects.values_list("template", flat=True))
    assert templates == {"request_received", "team_new_request"}


def test_bad_input_lists_every_field_error_and_creates_nothing(insurer):
    with pytest.raises(DomainError) as refused:
        factories.make_booking_request(
            insurer=insurer,
            patient_postal_code="W1A 1AA",
            patient_date_of_birth="2999-01-01",
            services=[],
            insurer_contact_email="not-an-email",
        )
    fields = refused.value.fields
    assert {
        "patient_postal_code",
        "patient_date_of_birth",
        "services",
        "insurer_contact_email",
    } <= set(fields)
    assert "W or Z" in fields["patient_postal_code"][0]
    assert BookingRequest.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_a_postal_code_from_another_province_is_refused(insurer):
    with pytest.raises(DomainError) as refused:
        factories.make_booking_request(insurer=insurer, patient_province="QC")
    assert "not a Quebec postal code" in refused.value.fields["patient_postal_code"][0]


def test_a_blank_province_is_taken_from_the_postal_code(insurer):
    case = factories.make_booking_request(insurer=insurer, patient_province="")
    assert case.patient.province == "ON"


def test_recording_dates_offers_them_to_the_insurer_with_one_click_links(
    case, booking_agent, clinic_location
):
    offer = _offer(case, booking_agent, clinic_location)
    case.refresh_from_db()
    assert case.status == S.DATES_OFFERED
    assert offer.slots.count() == 2
    message = OutboxMessage.objects.get(template="dates_offered")
    assert message.to == [case.insurer_contact_email]
    assert message.body.count("/links/offer/") == 3  # two approve links and one decline link


def test_dates_in_the_past_or_already_expired_are_refused(case, booking_agent, clinic_location):
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    past = factories.slot_data(days=-1)
    expired = factories.slot_data(days=3, hold_hours=-1)
    with pytest.raises(DomainError) as refused:
        services.availability_offer_record(
            case=case, slots=[past, expired], actor=act(booking_agent)
        )
    assert set(refused.value.fields) == {"slots.0", "slots.1"}
    case.refresh_from_db()
    assert case.status == S.AWAITING_AVAILABILITY
    assert not OfferSlot.objects.exists()


def test_a_clinic_user_records_dates_for_its_own_case(
    case, booking_agent, clinic_location, clinic_user
):
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data()], actor=act(clinic_user)
    )
    assert offer.created_by == clinic_user


def test_approving_a_date_books_the_case_and_tells_everyone(
    case, booking_agent, clinic_location, insurer_user
):
    offer = _offer(case, booking_agent, clinic_location)
    chosen, other = offer.slots.order_by("starts_at")
    appointment = services.availability_offer_approve(slot=chosen, actor=act(insurer_user))

    case.refresh_from_db()
    assert case.status == S.BOOKED
    assert appointment.starts_at == chosen.starts_at
    assert appointment.location == clinic_location
    chosen.refresh_from_db()
    other.refresh_from_db()
    offer.refresh_from_db()
    assert (chosen.status, other.status, offer.status) == (
        SlotStatus.TAKEN,
        SlotStatus.RELEASED,
        OfferStatus.ACCEPTED,
    )
    sent = {m.template: m for m in OutboxMessage.objects.all()}
    assert {"clinic_booking", "insurer_booked", "patient_booked", "results_direct"} <= set(sent)
    for name in ("clinic_booking", "insurer_booked", "patient_booked"):
        assert sent[name].attachments[0][0] == "appointment.ics"
    assert sent["clinic_booking"].to == ["front@harbour.example"]
    assert case.events.filter(kind="results_direct_to_patient").exists()


def test_with_paperwork_required_results_are_not_routed_to_the_patient(
    insurer, booking_agent, clinic_location, insurer_user
):
    case = factories.make_booking_request(insurer=insurer, paperwork_required=True)
    offer = _offer(case, booking_agent, clinic_location)
    services.availability_offer_approve(slot=offer.slots.first(), actor=act(insurer_user))
    assert not OutboxMessage.objects.filter(template="results_direct").exists()


def test_the_patient_gets_nothing_when_the_insurer_does_not_allow_it(
    insurer, booking_agent, clinic_location, insurer_user
):
    case = factories.make_booking_request(insurer=insurer, notify_patient=False)
    offer = _offer(case, booking_agent, clinic_location)
    services.availability_offer_approve(slot=offer.slots.first(), actor=act(insurer_user))
    assert not OutboxMessage.objects.filter(template="patient_booked").exists()


def test_an_expired_slot_cannot_be_approved(case, booking_agent, clinic_location, insurer_user):
    offer = _offer(case, booking_agent, clinic_location)
    slot = offer.slots.first()
    OfferSlot.objects.filter(pk=slot.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(DomainError) as refused:
        services.availability_offer_approve(slot=slot, actor=act(insurer_user))
    assert refused.value.code == "slot_expired"
    case.refresh_from_db()
    assert case.status == S.DATES_OFFERED
    assert not Appointment.objects.exists()


def test_a_taken_slot_cannot_be_approved_twice(case, booking_agent, clinic_location, insurer_user):
    offer = _offer(case, booking_agent, clinic_location)
    first, second = offer.slots.all()
    services.availability_offer_approve(slot=first, actor=act(insurer_user))
    for slot in (first, second):
        with pytest.raises(DomainError) as refused:
            services.availability_offer_approve(slot=slot, actor=act(insurer_user))
        assert refused.value.code == "slot_taken"
    assert Appointment.objects.count() == 1


def test_a_signed_link_approves_without_a_user(case, booking_agent, clinic_location):
    offer = _offer(case, booking_agent, clinic_location)
    services.availability_offer_approve(
        slot=offer.slots.first(),
        actor=Actor.for_signed_link(organisation_id=offer.request.insurer_id, purpose="offer link"),
    )
    case.refresh_from_db()
    event = case.events.get(kind="approve_date")
    assert event.actor is None
    assert event.payload["party"] == "signed_link"


def test_declining_all_dates_goes_back_to_sourcing_with_the_note(
    case, booking_agent, clinic_location, insurer_user
):
    offer = _offer(case, booking_agent, clinic_location)
    with pytest.raises(DomainError):
        services.availability_offer_decline(case=case, actor=act(insurer_user), note="")
    services.availability_offer_decline(
        case=case, actor=act(insurer_user), note="Patient works mornings"
    )
    case.refresh_from_db()
    offer.refresh_from_db()
    assert case.status == S.SOURCING
    assert offer.status == OfferStatus.DECLINED
    assert offer.decline_note == "Patient works mornings"
    assert set(offer.slots.values_list("status", flat=True)) == {SlotStatus.RELEASED}
    assert OutboxMessage.objects.filter(template="team_dates_declined").exists()


def _booked(case, agent, location, insurer_user):
    offer = _offer(case, agent, location)
    return services.availability_offer_approve(slot=offer.slots.first(), actor=act(insurer_user))


def test_completed_then_ready_for_billing_then_closed(
    case, booking_agent, clinic_location, insurer_user, clinic_user, coordinator
):
    appointment = _booked(case, booking_agent, clinic_location, insurer_user)
    with pytest.raises(DomainError) as early:
        services.appointment_complete(case=case, actor=act(clinic_user))
    assert "Not before the appointment time" in early.value.message
    factories.appointment_time_passes(case)
    services.appointment_complete(case=case, actor=act(clinic_user))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.COMPLETED
    services.booking_request_step(case=case, name="mark_ready_for_billing", actor=act(coordinator))
    with pytest.raises(DomainError) as unreconciled:  # reconciliation's guard
        services.booking_request_step(case=case, name="close", actor=act(coordinator))
    assert "the order is not reconciled yet" in unreconciled.value.message
    factories.mark_reconciled(case)
    closed = services.booking_request_step(case=case, name="close", actor=act(coordinator))
    assert closed.status == S.CLOSED
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["complete", "mark_ready_for_billing", "close"]


def test_a_no_show_can_be_rescheduled_back_to_asking_for_dates(
    case, booking_agent, clinic_location, insurer_user
):
    appointment = _booked(case, booking_agent, clinic_location, insurer_user)
    factories.appointment_time_passes(case)
    services.appointment_no_show(case=case, actor=act(booking_agent))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW
    services.appointment_reschedule(case=case, actor=act(booking_agent), note="Patient was ill")
    case.refresh_from_db()
    appointment.refresh_from_db()
    assert case.status == S.AWAITING_AVAILABILITY
    assert appointment.status == AppointmentStatus.RESCHEDULED
    # New dates can be offered and booked again at the same clinic.
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=9)], actor=act(booking_agent)
    )
    services.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))
    assert case.appointments.count() == 2


def test_cancelling_says_who_and_why_and_frees_the_clinic(
    case, booking_agent, clinic_location, insurer_user
):
    appointment = _booked(case, booking_agent, clinic_location, insurer_user)
    with pytest.raises(DomainError) as refused:
        services.booking_request_cancel(
            case=case, actor=act(insurer_user), cancelled_by="aliens", note="x"
        )
    assert refused.value.code == "cancelled_by_invalid"
    services.booking_request_cancel(
        case=case, actor=act(insurer_user), cancelled_by="patient", note="Feeling better"
    )
    case.refresh_from_db()
    appointment.refresh_from_db()
    assert case.status == S.CANCELLED
    assert appointment.status == AppointmentStatus.CANCELLED
    event = case.events.get(kind="cancel")
    assert event.payload["cancelled_by"] == "patient"
    assert event.note == "Feeling better"
    assert OutboxMessage.objects.filter(template="clinic_cancelled").exists()


def test_a_cancelled_case_cannot_be_cancelled_again(case, booking_agent):
    services.booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="Duplicate request"
    )
    with pytest.raises(DomainError) as refused:
        services.booking_request_cancel(
            case=case, actor=act(booking_agent), cancelled_by="insurer", note="again"
        )
    assert "the case is cancelled" in refused.value.message


def test_cases_are_scoped_to_the_insurer_and_the_clinic(
    case, insurer_user, other_insurer_user, clinic_user, booking_agent, clinic_location
):
    assert list(BookingRequest.objects.for_user(insurer_user)) == [case]
    assert list(BookingRequest.objects.for_user(other_insurer_user)) == []
    assert list(BookingRequest.objects.for_user(clinic_user)) == []  # not its case yet
    assert list(BookingRequest.objects.for_user(booking_agent)) == [case]
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    assert list(BookingRequest.objects.for_user(clinic_user)) == [case]
