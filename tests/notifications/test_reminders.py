"""Day-before reminders: each booked appointment starting tomorrow is reminded exactly once."""

import datetime as dt

import pytest
from django.utils import timezone

from medworks.bookings import services
from medworks.bookings.models import Appointment, AppointmentStatus, BookingEvent
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.concurrency import run_at_once
from tests.factories import act


def _book(insurer_user, agent, location, *, days: int, hour: int = 10) -> Appointment:
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    services.booking_request_take(case=case, actor=act(agent))
    services.booking_request_select_clinic(case=case, location=location, actor=act(agent))
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=days, hour=hour)], actor=act(agent)
    )
    return services.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))


def _reminders() -> list[str]:
    return sorted(
        OutboxMessage.objects.filter(template__endswith="_reminder").values_list(
            "template", flat=True
        )
    )


def test_an_appointment_tomorrow_reminds_the_patient_and_the_clinic_once(
    insurer_user, booking_agent, clinic_location
):
    appointment = _book(insurer_user, booking_agent, clinic_location, days=1)
    assert services.appointment_reminders_queue() == 1
    assert _reminders() == ["clinic_reminder", "patient_reminder"]
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at is not None
    assert BookingEvent.objects.filter(request=appointment.request, kind="reminder_queued").exists()

    assert services.appointment_reminders_queue() == 0  # the next run finds nothing to do
    assert len(_reminders()) == 2


def test_appointments_later_than_tomorrow_or_no_longer_booked_get_no_reminder(
    insurer_user, booking_agent, clinic_location
):
    _book(insurer_user, booking_agent, clinic_location, days=2)
    cancelled = _book(insurer_user, booking_agent, clinic_location, days=1)
    services.booking_request_cancel(
        case=cancelled.request, actor=act(booking_agent), cancelled_by="patient", note="Moved."
    )
    assert services.appointment_reminders_queue() == 0
    assert _reminders() == []


def test_tomorrow_is_the_local_calendar_day_after_the_run(
    insurer_user, booking_agent, clinic_location
):
    appointment = _book(insurer_user, booking_agent, clinic_location, days=3, hour=0)
    local_midnight = timezone.localtime(appointment.starts_at)
    # The day before, in the evening: due. Two days before, late at night: not yet.
    assert services.appointment_reminders_queue(now=local_midnight - dt.timedelta(hours=25)) == 0
    assert services.appointment_reminders_queue(now=local_midnight - dt.timedelta(hours=3)) == 1


def test_the_patient_gets_no_reminder_when_the_insurer_does_not_allow_it(
    insurer_user, booking_agent, clinic_location
):
    appointment = _book(insurer_user, booking_agent, clinic_location, days=1)
    appointment.request.__class__.objects.filter(pk=appointment.request_id).update(
        notify_patient=False
    )
    services.appointment_reminders_queue()
    assert _reminders() == ["clinic_reminder"]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_reminders_at_once_remind_each_appointment_once(
    insurer_user, booking_agent, clinic_location
):
    for _ in range(5):
        _book(insurer_user, booking_agent, clinic_location, days=1)
    counts, _ = run_at_once(
        services.appointment_reminders_queue, services.appointment_reminders_queue
    )
    assert sum(counts) == 5
    assert OutboxMessage.objects.filter(template="patient_reminder").count() == 5
    assert not Appointment.objects.filter(
        status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
    ).exists()
