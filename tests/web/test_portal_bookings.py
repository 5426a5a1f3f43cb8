"""The insurer portal: its requests, the request form, the case page, approving and declining
dates, cancelling, and the calendar file. An insurer never sees another insurer's case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings.models import (
    Appointment,
    BookingEvent,
    BookingRequest,
    BookingStatus,
    OfferSlot,
)
from medworks.bookings.services import booking_request_escalate
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act


@pytest.fixture
def other_insurer_user(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Prairie Re")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org, username="prairie")


@pytest.fixture
def own_case(insurer_user):
    return factories.make_booking_request(insurer=insurer_user.organisation)


@pytest.fixture
def offered(insurer_user):
    """A case of the insurer with two dates offered; returns (case, offer)."""
    return factories.make_case_with_offer(insurer=insurer_user.organisation)


def _form_post(**overrides) -> dict:
    data = factories.booking_request_data(**overrides)
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data["notify_patient"] = "on"
    data.pop("paperwork_required")
    return data


# --- The list ---------------------------------------------------------------------------------


def test_an_insurer_sees_its_own_requests_and_not_another_insurers(
    client, insurer_user, other_insurer_user, own_case
):
    theirs = factories.make_booking_request(insurer=other_insurer_user.organisation)
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_home")).content.decode()
    assert own_case.order_id in page
    assert own_case.insurer_reference in page
    assert "X-ray" in page
    assert theirs.order_id not in page


def test_the_list_shows_no_patient_data_and_writes_no_access_record(client, insurer_user, own_case):
    client.force_login(insurer_user)
    before = AuditEvent.objects.count()
    page = client.get(reverse("web:portal_home")).content.decode()
    assert own_case.order_id in page
    assert "Tremblay" not in page
    assert AuditEvent.objects.count() == before


def test_requests_with_dates_to_approve_are_highlighted(client, insurer_user, offered, own_case):
    case, _ = offered
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_home")).content.decode()
    assert "1 request with dates to approve" in page
    row = page.split(case.order_id, 1)[0].rsplit("<tr", 1)[1]
    assert "needs-action" in row
    other_row = page.split(own_case.order_id, 1)[0].rsplit("<tr", 1)[1]
    assert "needs-action" not in other_row


def test_the_list_filters_by_status(client, insurer_user, offered, own_case):
    case, _ = offered
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_home"), {"status": "dates_offered"}).content.decode()
    assert case.order_id in page
    assert own_case.order_id not in page


def test_the_list_costs_the_same_queries_for_one_request_or_many(client, insurer_user):
    org = insurer_user.organisation
    factories.make_booking_request(insurer=org)
    client.force_login(insurer_user)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("web:portal_home"))
    for _ in range(4):
        factories.make_booking_request(insurer=org, services=["XRAY", "MRI"])
    with CaptureQueriesContext(connection) as five:
        response = client.get(reverse("web:portal_home"))
    assert response.content.decode().count("/portal/requests/MW-") >= 5
    assert len(five) == len(one)


# --- The request form -------------------------------------------------------------------------


def test_the_form_starts_with_the_users_name_and_email_as_contact(client, insurer_user):
    insurer_user.first_name, insurer_user.last_name = "Ines", "Adjuster"
    insurer_user.email = "ines@maple.example"
    insurer_user.save()
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request_new")).content.decode()
    assert 'value="Ines Adjuster"' in page
    assert 'value="ines@maple.example"' in page
    for section in ("Reference and contact", "Patient", "Services and needs", "Scheduling"):
        assert section in page
    assert 'hx-post="/portal/requests/new/"' in page


def test_a_field_is_checked_as_it_changes_and_nothing_is_saved(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"),
        {**_form_post(patient_postal_code="Q1Q 1Q1"), "_validate": "patient_postal_code"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the field alone, not the page
    assert 'id="f-patient_postal_code"' in html
    assert 'class="error"' in html
    assert BookingRequest.objects.count() == 0


def test_a_valid_field_comes_back_without_an_error(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"),
        {"insurer_contact_email": "ok@example.com", "_validate": "insurer_contact_email"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'id="f-insurer_contact_email"' in html
    assert 'class="error"' not in html


def test_changing_the_province_rechecks_the_postal_code_too(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"),
        {
            "patient_postal_code": "M5V 3L9",
            "patient_province": "BC",
            "_validate": "patient_province",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert 'id="f-patient_province"' in html
    oob = html.split('id="f-patient_postal_code"', 1)[1]
    assert 'hx-swap-oob="true"' in html
    assert "not a British Columbia postal code" in oob


def test_validating_an_unknown_field_is_refused(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"), {"_validate": "owner"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400


def test_submitting_the_form_creates_a_case_and_opens_it(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(reverse("web:portal_request_new"), _form_post(services=["XRAY", "MRI"]))
    case = BookingRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:portal_request", args=[case.order_id])
    assert case.insurer == insurer_user.organisation
    assert case.created_by == insurer_user
    assert case.channel == "portal"
    assert case.notify_patient is True
    assert case.paperwork_required is False
    assert sorted(case.services.values_list("code", flat=True)) == ["MRI", "XRAY"]
    assert "Tremblay" not in response["Location"]


def test_a_refused_submit_keeps_what_was_typed(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"),
        _form_post(patient_date_of_birth="2999-01-01", patient_first_name="Jeanne"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert BookingRequest.objects.count() == 0
    assert "The date of birth is in the future." in page
    assert 'value="Jeanne"' in page


# --- The case page ----------------------------------------------------------------------------


def test_opening_a_case_writes_an_access_record(client, insurer_user, own_case):
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[own_case.order_id])).content.decode()
    assert own_case.patient.full_name in page
    record = AuditEvent.objects.filter(
        action="booking_request.viewed", object_id=str(own_case.pk)
    ).get()
    assert record.actor == insurer_user
    assert record.payload["origin"] == "127.0.0.1"


def test_the_timeline_leaves_out_what_staff_wrote_for_staff(
    clinic_near_patient, client, insurer_user, own_case
):
    agent = factories.make_user(roles=[RoleCode.BOOKING_AGENT])
    from medworks.bookings.services import booking_request_take

    booking_request_take(case=own_case, actor=act(agent))
    booking_request_escalate(
        case=own_case, actor=act(agent), note="Nearest clinic quoted $900, too dear"
    )
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[own_case.order_id])).content.decode()
    assert "Request received" in page
    assert "MedWorks is finding a provider" in page
    assert "quoted $900" not in page
    assert agent.username not in page.split("<main", 1)[1]


def test_the_insurer_sees_the_offered_dates_with_a_button_each(client, insurer_user, offered):
    case, offer = offered
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[case.order_id])).content.decode()
    assert page.count("Approve this date") == 2
    assert offer.location.name in page
    assert "Decline all dates" in page


def test_an_insurer_approves_an_offered_date(client, insurer_user, offered):
    case, offer = offered
    slot = offer.slots.order_by("starts_at").first()
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_approve", args=[case.order_id]), {"slot": slot.pk}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED
    appointment = Appointment.objects.get(request=case)
    assert appointment.slot == slot
    event = case.events.get(kind="approve_date")
    assert event.actor == insurer_user
    assert event.payload["party"] == "insurer"
    page = client.get(response["Location"]).content.decode()
    assert "Booked for" in page
    assert "Add to calendar" in page


def test_an_expired_date_shows_a_clear_message_and_cannot_be_approved(
    client, insurer_user, offered
):
    case, offer = offered
    slot = offer.slots.order_by("starts_at").first()
    OfferSlot.objects.filter(pk=slot.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[case.order_id])).content.decode()
    assert "No longer held by the clinic" in page
    assert page.count("Approve this date") == 1
    response = client.post(
        reverse("web:portal_request_approve", args=[case.order_id]), {"slot": slot.pk}, follow=True
    )
    assert "The clinic no longer holds this date." in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_a_slot_of_another_case_cannot_be_approved_through_this_one(client, insurer_user, offered):
    case, _ = offered
    _, other_offer = factories.make_case_with_offer(insurer=insurer_user.organisation)
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_approve", args=[case.order_id]),
        {"slot": other_offer.slots.first().pk},
        follow=True,
    )
    assert "This date is no longer offered." in response.content.decode()
    assert not Appointment.objects.exists()


def test_declining_the_dates_needs_a_reason(client, insurer_user, offered):
    case, _ = offered
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_decline", args=[case.order_id]), {"decline-note": " "}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_an_insurer_declines_all_dates_with_a_note(client, insurer_user, offered):
    case, _ = offered
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_decline", args=[case.order_id]),
        {"decline-note": "The patient works weekdays; a Saturday please."},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == BookingStatus.SOURCING
    page = client.get(response["Location"]).content.decode()
    assert "Dates declined" in page
    assert "a Saturday please" in page  # the insurer's own note is on its timeline


def test_an_insurer_cancels_a_request_with_a_reason(client, insurer_user, own_case):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_cancel", args=[own_case.order_id]),
        {"cancel-note": "The claim was withdrawn."},
    )
    assert response.status_code == 302
    own_case.refresh_from_db()
    assert own_case.status == BookingStatus.CANCELLED
    event = own_case.events.get(kind="cancel")
    assert event.payload["cancelled_by"] == "insurer"
    assert event.note == "The claim was withdrawn."


def test_cancelling_without_a_reason_is_refused(client, insurer_user, own_case):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_cancel", args=[own_case.order_id]), {"cancel-note": ""}
    )
    assert response.status_code == 400
    own_case.refresh_from_db()
    assert own_case.status == BookingStatus.RECEIVED


def test_the_booked_appointment_downloads_as_a_calendar_file(client, insurer_user, offered):
    case, offer = offered
    client.force_login(insurer_user)
    client.post(
        reverse("web:portal_request_approve", args=[case.order_id]),
        {"slot": offer.slots.first().pk},
    )
    response = client.get(reverse("web:portal_request_calendar", args=[case.order_id]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert f'filename="{case.order_id}.ics"' in response["Content-Disposition"]
    assert response.content.decode().startswith("BEGIN:VCALENDAR")


def test_there_is_no_calendar_file_before_a_booking(client, insurer_user, own_case):
    client.force_login(insurer_user)
    response = client.get(reverse("web:portal_request_calendar", args=[own_case.order_id]))
    assert response.status_code == 404


# --- Who may open what ------------------------------------------------------------------------

CASE_ROUTES = [
    ("portal_request", "get", {}),
    ("portal_request_approve", "post", {"slot": "0"}),
    ("portal_request_decline", "post", {"decline-note": "no"}),
    ("portal_request_cancel", "post", {"cancel-note": "no"}),
    ("portal_request_calendar", "get", {}),
    ("portal_quote_confirm", "post", {}),
    ("portal_quote_dispute", "post", {"quote-note": "no"}),
]


@pytest.mark.parametrize(("name", "method", "data"), CASE_ROUTES)
def test_an_insurer_cannot_reach_another_insurers_case(
    client, other_insurer_user, offered, name, method, data
):
    case, _ = offered
    client.force_login(other_insurer_user)
    before = BookingEvent.objects.count(), AuditEvent.objects.count()
    response = getattr(client, method)(reverse(f"web:{name}", args=[case.order_id]), data)
    assert response.status_code == 404
    assert (BookingEvent.objects.count(), AuditEvent.objects.count()) == before
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


ALL_ROUTES = [("portal_home", "get", None), ("portal_request_new", "get", None)] + [
    (name, method, "case") for name, method, _ in CASE_ROUTES
]


@pytest.mark.parametrize("persona", ["booking_agent", "finance_user", "clinic_user", "outsider"])
@pytest.mark.parametrize(("name", "method", "target"), ALL_ROUTES)
def test_only_insurer_users_get_into_the_portal(
    client, request, offered, persona, name, method, target
):
    case, _ = offered
    client.force_login(request.getfixturevalue(persona))
    args = [case.order_id] if target else []
    response = getattr(client, method)(reverse(f"web:{name}", args=args))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


@pytest.mark.parametrize(("name", "method", "target"), ALL_ROUTES)
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_portal(
    client, offered, name, method, target
):
    case, _ = offered
    args = [case.order_id] if target else []
    response = getattr(client, method)(reverse(f"web:{name}", args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_a_portal_user_who_may_only_read_cannot_submit(client, db):
    """INSURER_PORTAL without BOOKING_SUBMIT does not exist today; the guard is still per view."""
    from medworks.web.insurer import views as bookings_portals

    assert bookings_portals.portal_request_new.required_capability == "booking_submit"
    assert bookings_portals.portal_request_approve.required_capability == "booking_submit"
    assert bookings_portals.portal_request.required_capability == "insurer_portal"
