"""The clinic portal: requests waiting for the clinic's dates, entering them, the booked
appointments with what the clinic needs about the patient, completed / no-show. A clinic never
sees another clinic's cases, and never cancels the insurer's order (declining and asking to
reschedule: tests/bookings/test_clinic_side.py)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings.models import (
    AppointmentStatus,
    BookingEvent,
    BookingStatus,
    OfferSlot,
)
from medworks.bookings.services import availability_offer_approve
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act


def _clinic_location(organisation, **fields):
    partner = factories.make_partner(organisation=organisation)
    location = factories.make_location(partner=partner, **fields)
    factories.make_offering(location=location, service_code="XRAY")
    return location


@pytest.fixture
def location(clinic_user):
    return _clinic_location(clinic_user.organisation, name="Harbour Clinic Queen St")


@pytest.fixture
def other_clinic_user(db):
    org = factories.make_organisation(kind=OrganisationKind.AFFILIATE, name="Hilltop Clinic")
    return factories.make_user(roles=[RoleCode.CLINIC_USER], organisation=org, username="hill")


@pytest.fixture
def awaiting(location):
    return factories.make_case_awaiting_dates(location=location)


@pytest.fixture
def booked(location, insurer_user):
    case, offer = factories.make_case_with_offer(
        location=location, insurer=insurer_user.organisation
    )
    availability_offer_approve(slot=offer.slots.first(), actor=act(insurer_user))
    factories.appointment_time_passes(case)  # the clinic reports on it after the visit
    case.refresh_from_db()
    return case


def _dates_post(rows: list[dict]) -> dict:
    data = {
        "slots-TOTAL_FORMS": "5",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "10",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"slots-{i}-{key}"] = value
    return data


def _in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- Home -------------------------------------------------------------------------------------


def test_the_clinic_home_lists_requests_waiting_for_its_dates(
    client, clinic_user, awaiting, location
):
    elsewhere = factories.make_case_awaiting_dates()  # another partner's location
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_home")).content.decode()
    assert awaiting.order_id in page
    assert "Enter dates" in page
    assert elsewhere.order_id not in page
    assert awaiting.patient.last_name not in page  # no patient before a booking
    assert location.name in page  # the locations list stays below


def test_booked_appointments_show_the_patient_and_each_view_is_recorded(
    client, clinic_user, booked
):
    client.force_login(clinic_user)
    before = AuditEvent.objects.filter(action="booking_request.viewed").count()
    page = client.get(reverse("web:clinic_home")).content.decode()
    patient = booked.patient
    # The home's day list names the patient; the rest is on the case page.
    assert patient.full_name in page
    assert "X-ray" in page
    assert "1980-04-12" not in page and patient.phone not in page
    records = AuditEvent.objects.filter(action="booking_request.viewed").order_by("-id")
    assert records.count() == before + 1
    assert records[0].object_id == str(booked.pk)
    assert records[0].actor == clinic_user


def test_the_clinic_home_does_not_show_another_clinics_appointments(
    client, other_clinic_user, booked
):
    _clinic_location(other_clinic_user.organisation)
    client.force_login(other_clinic_user)
    page = client.get(reverse("web:clinic_home")).content.decode()
    assert booked.order_id not in page
    assert booked.patient.full_name not in page


# --- Entering dates ---------------------------------------------------------------------------


def test_the_case_page_offers_the_dates_form_and_no_patient_identity_yet(
    client, clinic_user, awaiting
):
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_request", args=[awaiting.order_id])).content.decode()
    assert "Enter the dates you can give" in page
    assert page.count('type="date"') == 5
    assert awaiting.patient.full_name not in page
    assert AuditEvent.objects.filter(
        action="booking_request.viewed", object_id=str(awaiting.pk), actor=clinic_user
    ).exists()


def test_a_clinic_enters_dates_and_the_insurer_sees_them(client, clinic_user, awaiting):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_dates", args=[awaiting.order_id]),
        _dates_post(
            [
                {"date": _in_days(4), "time": "09:30", "duration_minutes": "45"},
                {"date": _in_days(5), "time": "14:00", "practitioner": "Dr. Roy"},
            ]
        ),
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == BookingStatus.DATES_OFFERED
    slots = list(OfferSlot.objects.filter(offer__request=awaiting).order_by("starts_at"))
    assert len(slots) == 2
    toronto = zoneinfo.ZoneInfo("America/Toronto")
    first = slots[0].starts_at.astimezone(toronto)
    assert (first.date().isoformat(), first.hour, first.minute) == (_in_days(4), 9, 30)
    assert slots[0].duration_minutes == 45
    assert slots[1].practitioner == "Dr. Roy"
    assert awaiting.events.get(kind="offer_dates").payload["party"] == "clinic"

    insurer = factories.make_user(roles=[RoleCode.INSURER_USER], organisation=awaiting.insurer)
    client.force_login(insurer)
    page = client.get(reverse("web:portal_request", args=[awaiting.order_id])).content.decode()
    assert page.count("Approve this date") == 2
    assert "Dr. Roy" in page


def test_dates_are_read_in_the_clinics_own_time_zone(client, clinic_user):
    vancouver = _clinic_location(
        clinic_user.organisation,
        province="BC",
        postal_code="V6B 1A1",
        latitude=49.28,
        longitude=-123.12,
    )
    case = factories.make_case_awaiting_dates(location=vancouver)
    client.force_login(clinic_user)
    client.post(
        reverse("web:clinic_request_dates", args=[case.order_id]),
        _dates_post([{"date": _in_days(4), "time": "10:00"}]),
    )
    slot = OfferSlot.objects.get(offer__request=case)
    local = slot.starts_at.astimezone(zoneinfo.ZoneInfo("America/Vancouver"))
    assert (local.hour, local.minute) == (10, 0)


def test_a_date_in_the_past_is_refused_on_its_row_with_the_input_kept(
    client, clinic_user, awaiting
):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_dates", args=[awaiting.order_id]),
        _dates_post(
            [
                {"date": _in_days(4), "time": "09:30"},
                {"date": _in_days(-2), "time": "11:15"},
            ]
        ),
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The appointment is in the past." in page
    assert 'value="11:15"' in page
    awaiting.refresh_from_db()
    assert awaiting.status == BookingStatus.AWAITING_AVAILABILITY
    assert not OfferSlot.objects.exists()


def test_a_row_with_a_date_but_no_time_is_refused(client, clinic_user, awaiting):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_dates", args=[awaiting.order_id]),
        _dates_post([{"date": _in_days(4)}]),
    )
    assert response.status_code == 400
    assert "Give the time." in response.content.decode()
    assert not OfferSlot.objects.exists()


def test_an_empty_dates_form_is_refused(client, clinic_user, awaiting):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_dates", args=[awaiting.order_id]), _dates_post([])
    )
    assert response.status_code == 400
    assert "Give at least one date." in response.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == BookingStatus.AWAITING_AVAILABILITY


# --- The appointment --------------------------------------------------------------------------


def test_the_case_page_shows_the_patient_once_booked(client, clinic_user, booked):
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_request", args=[booked.order_id])).content.decode()
    assert booked.patient.full_name in page
    assert "1980-04-12" in page and booked.patient.phone in page
    assert "Completed" in page
    assert "No-show" in page
    assert "Enter the dates you can give" not in page


def test_the_clinic_marks_an_appointment_completed(client, clinic_user, booked):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_outcome", args=[booked.order_id]),
        {"outcome": "completed", "next": "home"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:clinic_home")
    booked.refresh_from_db()
    assert booked.status == BookingStatus.COMPLETED
    assert booked.appointments.get().status == AppointmentStatus.COMPLETED
    assert booked.events.get(kind="complete").actor == clinic_user


def test_the_clinic_marks_a_no_show(client, clinic_user, booked):
    client.force_login(clinic_user)
    client.post(
        reverse("web:clinic_request_outcome", args=[booked.order_id]), {"outcome": "no_show"}
    )
    booked.refresh_from_db()
    assert booked.status == BookingStatus.NO_SHOW
    assert booked.appointments.get().status == AppointmentStatus.NO_SHOW


def test_an_unknown_outcome_is_refused(client, clinic_user, booked):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_outcome", args=[booked.order_id]), {"outcome": "paid"}
    )
    assert response.status_code == 400
    booked.refresh_from_db()
    assert booked.status == BookingStatus.BOOKED


def test_completing_twice_says_why_it_cannot(client, clinic_user, booked):
    client.force_login(clinic_user)
    url = reverse("web:clinic_request_outcome", args=[booked.order_id])
    client.post(url, {"outcome": "completed"})
    response = client.post(url, {"outcome": "no_show"}, follow=True)
    assert "the case is completed" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == BookingStatus.COMPLETED


def test_the_clinic_downloads_the_calendar_file(client, clinic_user, booked):
    client.force_login(clinic_user)
    response = client.get(reverse("web:clinic_request_calendar", args=[booked.order_id]))
    assert response.status_code == 200
    assert b"BEGIN:VEVENT" in response.content


# --- Who may open what ------------------------------------------------------------------------

CASE_ROUTES = [
    ("clinic_request", "get", {}),
    ("clinic_request_dates", "post", _dates_post([{"date": "2099-01-05", "time": "10:00"}])),
    ("clinic_request_outcome", "post", {"outcome": "completed"}),
    ("clinic_request_decline", "post", {"decline-note": "no"}),
    ("clinic_request_ask", "post", {"kind": "clinic_reschedule_request", "ask-note": "no"}),
    ("clinic_request_calendar", "get", {}),
]


@pytest.mark.parametrize(("name", "method", "data"), CASE_ROUTES)
def test_a_clinic_user_of_another_partner_gets_not_found(
    client, other_clinic_user, booked, awaiting, name, method, data
):
    _clinic_location(other_clinic_user.organisation)
    client.force_login(other_clinic_user)
    before = BookingEvent.objects.count(), AuditEvent.objects.count()
    for case in (booked, awaiting):
        response = getattr(client, method)(reverse(f"web:{name}", args=[case.order_id]), data)
        assert response.status_code == 404
    assert (BookingEvent.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("persona", ["booking_agent", "insurer_user", "outsider"])
@pytest.mark.parametrize(("name", "method", "data"), [("clinic_home", "get", {}), *CASE_ROUTES])
def test_only_clinic_users_get_into_the_clinic_portal(
    client, request, booked, persona, name, method, data
):
    client.force_login(request.getfixturevalue(persona))
    args = [] if name == "clinic_home" else [booked.order_id]
    response = getattr(client, method)(reverse(f"web:{name}", args=args), data)
    assert response.status_code == 403
    booked.refresh_from_db()
    assert booked.status == BookingStatus.BOOKED


@pytest.mark.parametrize(("name", "method", "data"), CASE_ROUTES)
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_clinic_portal(
    client, booked, name, method, data
):
    response = getattr(client, method)(reverse(f"web:{name}", args=[booked.order_id]), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")
