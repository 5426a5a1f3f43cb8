"""The staff case page and its actions: take, choose a clinic, escalate, record dates, approve
for the insurer, decline, complete, cancel; and email intake. Each action is one use case."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings.models import (
    Appointment,
    AppointmentStatus,
    BookingEvent,
    BookingRequest,
    BookingStatus,
    Channel,
)
from medworks.bookings.services import booking_request_take
from medworks.core.models import AuditEvent
from medworks.network import geo
from tests import factories
from tests.factories import act

# Every staff booking route, what it needs, and who gets in (the rest get the 403 page).
STAFF_READERS = {"booking_agent", "coordinator", "finance_user"}
WORKERS = {"booking_agent", "coordinator"}
STAFF_BOOKING_ROUTES = {
    # name: (method, takes an Order Id, personas allowed)
    "staff_booking_queue": ("get", False, STAFF_READERS),
    "staff_booking_new": ("get", False, WORKERS),
    "staff_booking_detail": ("get", True, STAFF_READERS),
    "staff_booking_source": ("get", True, STAFF_READERS),
    # The booking inbox (tests/mailbox/test_inbox_pages.py): a reply filed on a case, the
    # emails waiting for an agent, dismissing one.
    "staff_booking_email": ("get", True, STAFF_READERS),
    "staff_inbox": ("get", False, WORKERS),
    "staff_inbox_dismiss": ("post", False, WORKERS),
    "staff_booking_take": ("post", True, WORKERS),
    "staff_booking_assign_me": ("post", True, WORKERS),
    "staff_booking_select_clinic": ("post", True, WORKERS),
    "staff_booking_escalate": ("post", True, WORKERS),
    "staff_booking_offer_dates": ("post", True, WORKERS),
    "staff_booking_approve": ("post", True, WORKERS),
    "staff_booking_decline": ("post", True, WORKERS),
    "staff_booking_clinic_decline": ("post", True, WORKERS),  # tests/bookings/test_clinic_side.py
    "staff_booking_cancel": ("post", True, WORKERS),
    "staff_booking_step": ("post", True, WORKERS),
    "staff_quote_confirm": ("post", True, WORKERS),
    "staff_quote_dispute": ("post", True, WORKERS),
    "staff_order_send": ("post", True, WORKERS),  # tests/web/test_order_panel.py
    # Management only (ESCALATION_HANDLE), none of these personas: tests/web/test_escalations.py
    # lets a clinic manager in.
    "escalation_take": ("post", True, set()),
    "escalation_assign": ("post", True, set()),
    "provider_found": ("post", True, set()),
}
MAPLE = "Maple Assist Insurance"  # not the insurer_user persona's "Maple Assist"
PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "insurer_user",
    "clinic_user",
    "outsider",
]


def url(route: str, case=None, **kwargs) -> str:
    if case is None:
        return reverse(f"web:{route}")
    if route == "staff_booking_step":
        kwargs.setdefault("name", "complete")
    if route == "staff_booking_email":
        kwargs.setdefault("email_id", 0)
    return reverse(f"web:{route}", kwargs={"order_id": case.order_id, **kwargs})


def clinic_near(postal_code: str, partner: str, *, services=("XRAY",)):
    point = geo.geocode(postal_code)
    location = factories.make_location(
        partner=factories.make_partner(name=partner),
        name=f"{partner} {point.place}",
        postal_code=point.postal_code,
        province=point.province,
        city=point.place,
        latitude=point.latitude,
        longitude=point.longitude,
        address="1 Clinic Road",
    )
    for code in services:
        factories.make_offering(location=location, service_code=code)
    return location


@pytest.fixture
def case(db):
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER, name=MAPLE)
    return factories.make_booking_request(insurer=insurer)


def status_of(case) -> str:
    return BookingRequest.objects.values_list("status", flat=True).get(pk=case.pk)


def slots_post(*rows) -> dict:
    data = {
        "slots-TOTAL_FORMS": "5",
        "slots-INITIAL_FORMS": "0",
        "slots-MIN_NUM_FORMS": "0",
        "slots-MAX_NUM_FORMS": "5",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"slots-{i}-{key}"] = value
    return data


def in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


# --- Who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(STAFF_BOOKING_ROUTES))
def test_each_staff_booking_route_admits_only_staff_with_the_capability(
    client, case, request, persona, name
):
    method, with_case, allowed = STAFF_BOOKING_ROUTES[name]
    client.force_login(request.getfixturevalue(persona))
    target = url(name, case if with_case else None)
    before = (status_of(case), AuditEvent.objects.count())

    response = getattr(client, method)(target, {"note": "x", "cancelled_by": "insurer"})

    if persona in allowed:
        assert response.status_code in (200, 302, 400, 404)
    else:
        assert response.status_code == 403
        assert (status_of(case), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("name", sorted(STAFF_BOOKING_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_staff_booking_pages(client, case, name):
    method, with_case, _ = STAFF_BOOKING_ROUTES[name]

    response = getattr(client, method)(url(name, case if with_case else None))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_actions_are_post_only(client, booking_agent, case):
    client.force_login(booking_agent)

    assert client.get(url("staff_booking_take", case)).status_code == 405
    assert status_of(case) == BookingStatus.RECEIVED


# --- The case page ----------------------------------------------------------------------------


def test_the_case_page_shows_the_request_and_logs_who_read_it(client, booking_agent, case):
    client.force_login(booking_agent)

    response = client.get(url("staff_booking_detail", case))

    page = response.content.decode()
    assert response.status_code == 200
    for text in [case.order_id, "Maple Assist", case.insurer_reference, "Jean Tremblay",
                 "1980-04-12", "M5V 3L9", "Pain in the left wrist", "Wrist X-ray, two views",
                 "Ines Adjuster", "Request received"]:  # fmt: skip
        assert text in page, text
    read = AuditEvent.objects.filter(action="booking_request.viewed").get()
    assert (read.actor, read.object_id) == (booking_agent, str(case.pk))


def test_an_unknown_order_id_is_not_found(client, booking_agent, db):
    client.force_login(booking_agent)

    assert (
        client.get(url("staff_booking_detail", BookingRequest(order_id="MW-1-1"))).status_code
        == 404
    )


def test_a_reader_without_booking_work_sees_no_action_buttons(client, finance_user, case):
    client.force_login(finance_user)

    page = client.get(url("staff_booking_detail", case)).content.decode()

    assert ">Take<" not in page
    assert url("staff_booking_cancel", case) not in page


def test_an_agent_takes_a_new_case_and_becomes_its_owner(
    clinic_near_patient, client, booking_agent, case
):
    client.force_login(booking_agent)
    assert ">Take</button>" in client.get(url("staff_booking_detail", case)).content.decode()

    response = client.post(url("staff_booking_take", case), follow=True)

    case.refresh_from_db()
    assert (case.status, case.owner) == (BookingStatus.SOURCING, booking_agent)
    assert ">Take</button>" not in response.content.decode()
    assert "Taken; sourcing started" in response.content.decode()


def test_taking_a_case_someone_already_took_is_refused_with_its_state(
    clinic_near_patient, client, booking_agent, coordinator, case
):
    booking_request_take(case=case, actor=act(coordinator))
    client.force_login(booking_agent)

    response = client.post(url("staff_booking_take", case), follow=True)

    case.refresh_from_db()
    assert case.owner == coordinator
    assert "the case is sourcing" in response.content.decode()


def test_an_agent_assigns_a_case_to_themself(client, booking_agent, coordinator, case):
    booking_request_take(case=case, actor=act(coordinator))
    client.force_login(booking_agent)

    client.post(url("staff_booking_assign_me", case))

    case.refresh_from_db()
    assert case.owner == booking_agent
    assert BookingEvent.objects.filter(request=case, kind="assigned").exists()


# --- Sourcing and escalation ------------------------------------------------------------------


def test_sourcing_shows_ranked_clinics_and_choosing_one_asks_it_for_dates(
    client, booking_agent, case
):
    near = clinic_near("M4W 1A5", "Yorkville X-ray")
    far = clinic_near("L5B 1M2", "Mississauga Imaging")
    booking_request_take(case=case, actor=act(booking_agent))
    client.force_login(booking_agent)

    page = client.get(url("staff_booking_detail", case)).content.decode()

    assert page.index("Yorkville X-ray") < page.index("Mississauga Imaging")
    assert page.count("Choose this clinic") == 2
    assert 'data-testid="escalate-banner"' not in page

    client.post(url("staff_booking_select_clinic", case), {"location": near.pk})

    case.refresh_from_db()
    assert (case.status, case.location) == (BookingStatus.AWAITING_AVAILABILITY, near)
    assert far.pk != case.location_id


def test_a_clinic_lacking_one_of_the_services_cannot_be_chosen(client, booking_agent, db):
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER)
    case = factories.make_booking_request(insurer=insurer, services=["XRAY", "MRI"])
    partial = clinic_near("M4W 1A5", "Xray Only")
    complete = clinic_near("L5B 1M2", "Full Imaging", services=("XRAY", "MRI"))
    booking_request_take(case=case, actor=act(booking_agent))
    client.force_login(booking_agent)

    page = client.get(url("staff_booking_detail", case)).content.decode()
    assert page.count("Choose this clinic") == 1
    assert "Lacks a service" in page

    response = client.post(
        url("staff_booking_select_clinic", case), {"location": partial.pk}, follow=True
    )
    assert "does not offer every service" in response.content.decode()
    assert status_of(case) == BookingStatus.SOURCING

    client.post(url("staff_booking_select_clinic", case), {"location": complete.pk})
    assert status_of(case) == BookingStatus.AWAITING_AVAILABILITY


def test_with_no_clinic_in_the_area_taking_the_case_escalates_it_saying_why(
    client, booking_agent, case
):
    clinic_near("K1P 1J1", "Ottawa Imaging")  # about 4 hours away
    client.force_login(booking_agent)

    page = client.post(url("staff_booking_take", case), follow=True).content.decode()

    assert status_of(case) == BookingStatus.ESCALATED
    event = BookingEvent.objects.get(request=case, kind="escalate")
    assert event.actor is None and event.actor_kind == "system"
    assert event.note.startswith("Matching found no affiliate partner")
    assert "within 60 minutes by road of the patient (M5V 3L9)" in event.note
    assert "Escalated to management" in page


def test_an_agent_escalates_by_choice_and_escalating_needs_a_note(
    clinic_near_patient, client, booking_agent, case
):
    booking_request_take(case=case, actor=act(booking_agent))
    client.force_login(booking_agent)

    refused = client.post(url("staff_booking_escalate", case), {"note": "  "})
    assert refused.status_code == 400
    assert status_of(case) == BookingStatus.SOURCING

    client.post(url("staff_booking_escalate", case), {"note": "Nothing within an hour."})
    assert status_of(case) == BookingStatus.ESCALATED
    event = BookingEvent.objects.get(request=case, kind="escalate")
    assert event.note == "Nothing within an hour."


def test_management_finds_any_location_by_name_for_an_escalated_case(client, coordinator, case):
    provider = clinic_near("K1P 1J1", "Ottawa Imaging")
    clinic_near("K1P 1J1", "Capital Physio", services=("PHYSIO",))
    booking_request_take(case=case, actor=act(coordinator))  # none near: escalated at once
    client.force_login(coordinator)

    page = client.get(url("staff_booking_detail", case), {"find": "ottawa"}).content.decode()
    found = page.split('data-testid="found-locations"', 1)[1].split("</ul>", 1)[0]
    assert "Ottawa Imaging" in found and "Capital Physio" not in found

    client.post(url("staff_booking_select_clinic", case), {"location": provider.pk})
    assert status_of(case) == BookingStatus.AWAITING_AVAILABILITY


# --- Dates, approval, and what follows --------------------------------------------------------


@pytest.fixture
def awaiting(booking_agent):
    location = clinic_near("M4W 1A5", "Yorkville X-ray")
    return factories.make_case_awaiting_dates(location=location, agent=booking_agent)


def test_an_agent_records_the_clinics_dates_and_they_go_to_the_insurer(
    client, booking_agent, awaiting
):
    client.force_login(booking_agent)
    assert (
        'data-testid="record-dates"'
        in client.get(url("staff_booking_detail", awaiting)).content.decode()
    )

    response = client.post(
        url("staff_booking_offer_dates", awaiting),
        slots_post(
            {
                "date": in_days(4),
                "time": "09:30",
                "duration_minutes": "30",
                "practitioner": "Dr Roy",
            },
            {"date": in_days(5), "time": "14:00", "duration_minutes": "45"},
        ),
    )

    assert response.status_code == 302
    assert status_of(awaiting) == BookingStatus.DATES_OFFERED
    offer = awaiting.offers.get()
    slots = list(offer.slots.order_by("starts_at"))
    assert [(s.duration_minutes, s.practitioner) for s in slots] == [(30, "Dr Roy"), (45, "")]
    assert timezone.localtime(slots[0].starts_at).strftime("%H:%M") == "09:30"
    # With no hold time given, the clinic holds a date until the day before.
    assert slots[0].expires_at == slots[0].starts_at - dt.timedelta(hours=24)


def test_an_agent_types_a_vancouver_clinics_times_as_the_clinic_gave_them(client, booking_agent):
    """10:00 at a Vancouver clinic is 10:00 Pacific, as the clinic portal and the emails read it."""
    import zoneinfo

    location = clinic_near("V6B 1A1", "Gastown X-ray")
    case = factories.make_case_awaiting_dates(location=location, agent=booking_agent)
    client.force_login(booking_agent)
    hold = f"{in_days(3)}T17:00"
    client.post(
        url("staff_booking_offer_dates", case),
        slots_post({"date": in_days(4), "time": "10:00", "hold_until": hold}),
    )

    slot = case.offers.get().slots.get()
    pacific = zoneinfo.ZoneInfo("America/Vancouver")
    assert slot.starts_at.astimezone(pacific).strftime("%H:%M") == "10:00"
    assert slot.expires_at.astimezone(pacific).strftime("%H:%M") == "17:00"


def test_a_date_in_the_past_is_refused_on_its_row_and_nothing_is_recorded(
    client, booking_agent, awaiting
):
    client.force_login(booking_agent)

    response = client.post(
        url("staff_booking_offer_dates", awaiting),
        slots_post({"date": in_days(3), "time": "10:00"}, {"date": in_days(-2), "time": "10:00"}),
    )

    assert response.status_code == 400
    assert "The appointment is in the past." in response.content.decode()
    assert status_of(awaiting) == BookingStatus.AWAITING_AVAILABILITY
    assert not awaiting.offers.exists()


def test_an_empty_dates_form_is_refused(client, booking_agent, awaiting):
    client.force_login(booking_agent)

    response = client.post(url("staff_booking_offer_dates", awaiting), slots_post())

    assert response.status_code == 400
    assert "Give at least one date." in response.content.decode()


@pytest.fixture
def offered(booking_agent):
    location = clinic_near("M4W 1A5", "Yorkville X-ray")
    case, offer = factories.make_case_with_offer(location=location, agent=booking_agent)
    return case, offer


def test_staff_approve_a_date_for_the_insurer_only_saying_how_it_confirmed(
    client, booking_agent, offered
):
    case, offer = offered
    slot = offer.slots.order_by("starts_at").first()
    client.force_login(booking_agent)

    refused = client.post(url("staff_booking_approve", case), {"slot": slot.pk, "note": ""})
    assert refused.status_code == 400
    assert status_of(case) == BookingStatus.DATES_OFFERED

    client.post(url("staff_booking_approve", case), {"slot": slot.pk, "note": "By phone, 10:05"})

    assert status_of(case) == BookingStatus.BOOKED
    appointment = Appointment.objects.get(request=case)
    assert appointment.starts_at == slot.starts_at
    assert "By phone, 10:05" in BookingEvent.objects.get(request=case, kind="approve_date").note
    page = client.get(url("staff_booking_detail", case)).content.decode()
    assert 'data-testid="appointment"' in page and "Reschedule" in page
    assert "Mark completed" not in page  # not before the appointment time


def test_a_slot_of_another_case_cannot_be_approved_from_this_one(client, booking_agent, offered):
    case, _ = offered
    _, other_offer = factories.make_case_with_offer(agent=booking_agent)
    client.force_login(booking_agent)

    response = client.post(
        url("staff_booking_approve", case),
        {"slot": other_offer.slots.first().pk, "note": "phone"},
    )

    assert response.status_code == 400
    assert status_of(case) == BookingStatus.DATES_OFFERED


def test_staff_record_that_the_insurer_declined_the_dates(client, booking_agent, offered):
    case, offer = offered
    client.force_login(booking_agent)

    client.post(url("staff_booking_decline", case), {"note": "Patient away that week."})

    assert status_of(case) == BookingStatus.SOURCING
    offer.refresh_from_db()
    assert offer.decline_note == "Patient away that week."


@pytest.fixture
def booked(booking_agent, offered):
    from medworks.bookings.services import availability_offer_approve

    case, offer = offered
    availability_offer_approve(slot=offer.slots.first(), actor=act(booking_agent))
    factories.appointment_time_passes(case)  # the visit took place two hours ago
    return case


def test_a_booked_case_is_completed_then_billed_then_closed_with_the_pages_buttons(
    client, booking_agent, booked
):
    client.force_login(booking_agent)
    buttons = client.get(url("staff_booking_detail", booked)).context["buttons"]
    assert [t.name for t in buttons] == ["complete", "no_show", "reschedule"]

    for step, state in [
        ("complete", BookingStatus.COMPLETED),
        ("mark_ready_for_billing", BookingStatus.READY_FOR_BILLING),
        ("close", BookingStatus.CLOSED),
    ]:
        if step == "close":
            factories.mark_reconciled(booked)  # reconciliation's guard on close
        client.post(url("staff_booking_step", booked, name=step))
        assert status_of(booked) == state
    assert Appointment.objects.get(request=booked).status == AppointmentStatus.COMPLETED


def test_rescheduling_needs_a_reason_and_refusal_leaves_the_case_booked(
    client, booking_agent, booked
):
    client.force_login(booking_agent)

    response = client.post(
        url("staff_booking_step", booked, name="reschedule"), {"note": ""}, follow=True
    )

    assert status_of(booked) == BookingStatus.BOOKED
    assert "Say why" in response.content.decode()
    client.post(url("staff_booking_step", booked, name="reschedule"), {"note": "Clinic closed"})
    assert status_of(booked) == BookingStatus.AWAITING_AVAILABILITY


def test_a_step_that_is_not_legal_now_is_refused_with_the_current_state(
    client, booking_agent, awaiting
):
    client.force_login(booking_agent)

    response = client.post(url("staff_booking_step", awaiting, name="close"), follow=True)

    assert status_of(awaiting) == BookingStatus.AWAITING_AVAILABILITY
    assert "the case is awaiting dates" in response.content.decode()


def test_an_unknown_step_is_not_found(client, booking_agent, awaiting):
    client.force_login(booking_agent)

    assert client.post(url("staff_booking_step", awaiting, name="teleport")).status_code == 404


def test_a_case_is_cancelled_saying_who_asked_and_why(client, booking_agent, booked):
    client.force_login(booking_agent)

    refused = client.post(url("staff_booking_cancel", booked), {"note": "No longer needed"})
    assert refused.status_code == 400 and status_of(booked) == BookingStatus.BOOKED

    client.post(
        url("staff_booking_cancel", booked), {"cancelled_by": "patient", "note": "Moved away"}
    )

    assert status_of(booked) == BookingStatus.CANCELLED
    event = BookingEvent.objects.get(request=booked, kind="cancel")
    assert (event.note, event.payload["cancelled_by"]) == ("Moved away", "patient")
    assert Appointment.objects.get(request=booked).status == AppointmentStatus.CANCELLED


def test_the_timeline_lists_who_did_what_and_from_which_state(client, booking_agent, booked):
    booking_agent.first_name, booking_agent.last_name = "Alex", "Agent"
    booking_agent.save()
    client.force_login(booking_agent)

    timeline = client.get(url("staff_booking_detail", booked)).context["timeline"]

    labels = [row["label"] for row in timeline]
    # Choosing the clinic also prices the case (billing's quote, sent to the insurer).
    assert labels[:5] == [
        "Request received", "Taken; sourcing started", "Ask the clinic for dates",
        "Quote prepared and sent to the insurer", "Offer dates to the insurer",
    ]  # fmt: skip
    assert "Approve a date" in labels
    take = timeline[1]
    assert (take["actor"], take["from_label"], take["to_label"]) == (
        "Alex Agent",
        "Received",
        "Sourcing",
    )


# --- Email intake -----------------------------------------------------------------------------

EML = (
    b"From: Ines Adjuster <ines.adjuster@maple-assist.example>\r\n"
    b"To: bookings@medworks.example\r\n"
    b"Subject: New booking - Claim CLM-2026-0042\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    b"Please book an X-ray.\r\nPatient: Jean Tremblay\r\n"
    b"Address: 300 Front St W, Toronto ON M5V 3L9\r\n"
    b"Policy number: POL-778812\r\n"
)


@pytest.fixture
def maple(db):
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER, name=MAPLE)
    factories.make_user(
        roles=[RoleCode.INSURER_USER], organisation=insurer, email="desk@maple-assist.example"
    )
    return insurer


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_reading_an_eml_prefills_the_intake_form_for_the_agent_to_confirm(
    client, booking_agent, maple
):
    client.force_login(booking_agent)

    response = client.post(
        url("staff_booking_new"), {"read": "1", "source_file": upload("req.eml", EML)}
    )

    assert response.status_code == 200
    form, source = response.context["form"], response.context["source_form"]
    assert form.initial["insurer_reference"] == "CLM-2026-0042"
    assert form.initial["patient_first_name"] == "Jean"
    assert form.initial["patient_last_name"] == "Tremblay"
    assert form.initial["patient_postal_code"] == "M5V 3L9"
    assert form.initial["policy_number"] == "POL-778812"
    assert form.initial["insurer_contact_email"] == "ines.adjuster@maple-assist.example"
    assert source.initial["insurer"] == str(maple.pk)
    assert response.context["carried_name"] == "req.eml"
    assert not BookingRequest.objects.exists()  # nothing is created before the agent confirms


def test_confirming_creates_an_email_case_with_the_original_message_as_its_source(
    client, booking_agent, maple
):
    import base64

    client.force_login(booking_agent)
    data = factories.booking_request_data(insurer_reference="CLM-2026-0042")
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data.update(
        {
            "create": "1",
            "insurer": maple.pk,
            "carried_name": "req.eml",
            "carried_b64": base64.b64encode(EML).decode(),
        }
    )
    data["paperwork_required"] = ""
    data["notify_patient"] = "on"

    response = client.post(url("staff_booking_new"), data)

    case = BookingRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == url("staff_booking_detail", case)
    assert (case.channel, case.insurer, case.created_by) == (Channel.EMAIL, maple, booking_agent)
    assert (case.source_filename, bytes(case.source_content)) == ("req.eml", EML)
    source = client.get(url("staff_booking_source", case))
    assert source.content == EML
    assert "attachment" in source["Content-Disposition"]


def test_an_emailed_request_needs_its_original_message(client, booking_agent, maple):
    client.force_login(booking_agent)
    data = factories.booking_request_data()
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data.update({"create": "1", "insurer": maple.pk})
    data["paperwork_required"] = ""
    data["notify_patient"] = ""

    response = client.post(url("staff_booking_new"), data)

    assert response.status_code == 400
    assert "Attach the original email" in response.content.decode()
    assert not BookingRequest.objects.exists()


def test_pasted_text_is_read_and_kept_as_the_source(client, booking_agent, maple):
    client.force_login(booking_agent)
    text = "Name: DOE, Jane\nClaim # AB-99812\nPostal code h2x1y4"

    read = client.post(
        url("staff_booking_new"), {"read": "1", "source_text": text, "insurer": maple.pk}
    )

    initial = read.context["form"].initial
    assert (initial["patient_first_name"], initial["patient_last_name"]) == ("Jane", "Doe")
    assert initial["patient_postal_code"] == "H2X 1Y4"
    assert read.context["source_form"].initial["source_text"] == text


def test_an_outlook_msg_is_kept_but_not_read(client, booking_agent, maple):
    client.force_login(booking_agent)

    response = client.post(
        url("staff_booking_new"),
        {"read": "1", "source_file": upload("req.msg", b"\xd0\xcf\x11\xe0 not parsed")},
    )

    assert response.status_code == 200
    assert "not read" in " ".join(response.context["notes"])
    assert response.context["form"].initial == {}
    assert response.context["carried_name"] == "req.msg"


def test_an_invalid_request_keeps_the_agents_input_and_the_message(client, booking_agent, maple):
    import base64

    client.force_login(booking_agent)
    response = client.post(
        url("staff_booking_new"),
        {
            "create": "1",
            "insurer": maple.pk,
            "carried_name": "req.eml",
            "carried_b64": base64.b64encode(EML).decode(),
            "patient_first_name": "Jean",
        },
    )

    assert response.status_code == 400
    assert response.context["carried_name"] == "req.eml"
    assert 'value="Jean"' in response.content.decode()
    assert not BookingRequest.objects.exists()
