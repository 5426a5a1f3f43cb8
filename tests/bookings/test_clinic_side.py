"""The clinic's side of SOP case 1: asked for dates by email (the minimum, in its language, with a
signed link or its portal), reminded once, it gives dates or says it cannot (back to sourcing,
the clinic noted as having declined, the quote for it superseded); for a booked appointment it
may ask to reschedule or say it cannot take place, and the booking team decides. It never
cancels the insurer's order."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from medworks.accounts.models import RoleCode
from medworks.billing.models import Quote, QuoteStatus
from medworks.bookings import emails, selectors, services
from medworks.bookings.links import clinic_link_read
from medworks.bookings.models import BookingEvent, BookingStatus
from medworks.bookings.workflow import available_transitions, party_of
from medworks.core.actor import Actor, Party
from medworks.core.errors import DomainError
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.concurrency import run_at_once
from tests.factories import act

S = BookingStatus
PRIVATE = ("1980-04-12", "416-555-0199", "patient@example.com", "wrist", "two views")


@pytest.fixture
def agent(db):
    return factories.make_user(
        roles=[RoleCode.BOOKING_AGENT], username="owner", email="owner@medworks.test"
    )


@pytest.fixture
def awaiting(insurer, agent, clinic_location):
    """A case the agent owns, sent to the clinic (which has portal users) for dates."""
    return factories.make_case_awaiting_dates(
        insurer=insurer, location=clinic_location, agent=agent
    )


@pytest.fixture
def walk_in(db):
    """A clinic with no portal organisation: its emails carry the signed link."""
    partner = factories.make_partner(name="Walk-in Imaging", contact_email="desk@walkin.example")
    location = factories.make_location(partner=partner, name="Walk-in Imaging Queen")
    factories.make_offering(location=location, service_code="XRAY", price="80.00")
    return location


@pytest.fixture
def booked(insurer, insurer_user, agent, clinic_location):
    case, offer = factories.make_case_with_offer(
        insurer=insurer, location=clinic_location, agent=agent
    )
    services.availability_offer_approve(slot=offer.slots.first(), actor=act(insurer_user))
    case.refresh_from_db()
    return case


def _token(message) -> str:
    (url,) = re.findall(r"https?://\S+/links/clinic/(\S+?)/", message.body)
    return url


# --- Asking the clinic ------------------------------------------------------------------------


def test_choosing_a_clinic_emails_its_inbox_the_minimum_and_its_portal_case_page(awaiting):
    (message,) = OutboxMessage.objects.filter(template="clinic_ask")
    assert message.to == ["front@harbour.example"]
    assert message.language == "en"
    assert awaiting.order_id in message.subject
    body = message.body
    assert awaiting.order_id in body and "X-ray" in body and "Jean Tremblay" in body
    preferred = dt.date.fromisoformat(awaiting.preferred_dates[0])
    assert f"Preferred dates: {date_format(preferred, 'DATE_FORMAT')} · Morning" in body
    # The clinic has portal users: its portal's case page, not a signed link.
    assert f"/clinic/requests/{awaiting.order_id}/" in body
    assert "/links/clinic/" not in body
    for private in PRIVATE:
        assert private not in body.lower(), private


def test_a_clinic_without_portal_users_gets_a_signed_link_at_its_partners_address(
    insurer, agent, walk_in
):
    case = factories.make_case_awaiting_dates(insurer=insurer, location=walk_in, agent=agent)
    (message,) = OutboxMessage.objects.filter(template="clinic_ask")
    assert message.to == ["desk@walkin.example"]  # the location lists no email of its own
    case_id, location_id, _since = clinic_link_read(_token(message))
    assert (case_id, location_id) == (case.pk, walk_in.pk)
    assert "/clinic/requests/" not in message.body
    for private in PRIVATE:
        assert private not in message.body.lower(), private


def test_a_clinic_that_works_in_french_is_asked_in_french(insurer, agent, walk_in):
    walk_in.languages = "French"
    walk_in.save(update_fields=["languages"])
    factories.make_case_awaiting_dates(insurer=insurer, location=walk_in, agent=agent)
    (message,) = OutboxMessage.objects.filter(template="clinic_ask")
    assert message.language == "fr"
    assert message.subject.startswith("Dates demandées")
    assert "Radiographie" in message.body and "Patient : Jean Tremblay" in message.body


def test_a_clinic_with_no_address_at_all_is_not_emailed_and_the_case_still_waits(insurer, agent):
    location = factories.make_location(partner=factories.make_partner(name="Silent Clinic"))
    factories.make_offering(location=location, service_code="XRAY")
    case = factories.make_case_awaiting_dates(insurer=insurer, location=location, agent=agent)
    assert case.status == S.AWAITING_AVAILABILITY
    assert not OutboxMessage.objects.filter(template="clinic_ask").exists()


# --- The clinic's emails carry the minimum ----------------------------------------------------


def test_every_clinic_email_of_a_booking_leaves_out_the_birth_date_contact_and_health(booked):
    appointment = booked.appointments.get()
    emails.reminder(booked, appointment)
    emails.cancelled_appointment(booked, appointment, note="Moved away.")
    clinic_mail = OutboxMessage.objects.filter(to=["front@harbour.example"])
    assert {m.template for m in clinic_mail} == {
        "clinic_ask",
        "clinic_booking",
        "clinic_reminder",
        "clinic_cancelled",
    }
    for message in clinic_mail:
        assert booked.order_id in message.subject + message.body, message.template
        for private in PRIVATE:
            assert private not in (message.subject + message.body).lower(), message.template
    booking = clinic_mail.get(template="clinic_booking")
    assert "Jean Tremblay" in booking.body and "X-ray" in booking.body


# --- The clinic cannot offer dates --------------------------------------------------------------


def test_a_clinic_that_cannot_offer_dates_sends_the_case_back_to_sourcing_noted_and_told(
    awaiting, clinic_user, clinic_location, agent, insurer_user
):
    quote = Quote.objects.get(case=awaiting)
    assert quote.status == QuoteStatus.AWAITING_CONFIRMATION  # prepared at the clinic chosen
    OutboxMessage.objects.all().delete()

    services.booking_request_clinic_decline(
        case=awaiting, actor=act(clinic_user), note="No radiologist until January."
    )

    awaiting.refresh_from_db()
    assert awaiting.status == S.SOURCING
    assert awaiting.location is None
    event = awaiting.events.get(kind="clinic_decline")
    assert event.payload["location_id"] == clinic_location.pk
    assert event.payload["party"] == "clinic"
    assert event.note == "No radiologist until January."
    assert event.actor == clinic_user
    # The owner and the team are told, with the clinic's reason.
    told = {m.to[0]: m for m in OutboxMessage.objects.filter(template="team_clinic_declined")}
    assert set(told) == {"bookings@medworks.example", "owner@medworks.test"}
    for message in told.values():
        assert "Harbour Clinic King West cannot offer dates" in message.subject
        assert "No radiologist until January." in message.body
        assert "Tremblay" not in message.body
    # The quote for that clinic no longer stands; the system superseded it.
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SUPERSEDED
    superseded = awaiting.events.get(kind="quote_superseded")
    assert (superseded.actor_kind, superseded.actor_detail) == ("system", "clinic_declined")
    assert not Quote.objects.filter(case=awaiting).exclude(status=QuoteStatus.SUPERSEDED).exists()
    # The clinic is noted as having declined; the insurer hears MedWorks looks further.
    assert list(selectors.clinic_declines(case=awaiting)) == [clinic_location.pk]
    (entry,) = [r for r in selectors.insurer_timeline(case=awaiting) if r.kind == "clinic_decline"]
    assert entry.label == "MedWorks is finding another clinic" and entry.note == ""
    # The clinic no longer sees the case.
    assert not selectors.booking_requests_for(user=clinic_user).filter(pk=awaiting.pk).exists()


def test_the_staff_case_page_marks_the_clinic_that_declined_with_the_date_and_reason(
    client, awaiting, clinic_user, agent
):
    services.booking_request_clinic_decline(
        case=awaiting, actor=act(clinic_user), note="Fully booked this month."
    )
    client.force_login(agent)
    page = client.get(reverse("web:staff_booking_detail", args=[awaiting.order_id]))
    html = page.content.decode()
    today = date_format(timezone.localdate(), "DATE_FORMAT")
    row = html.split('data-testid="declined"', 1)[1].split("</span>", 1)[0]  # the clinic's row
    assert f"declined on {today}: Fully booked this month." in row
    assert f"Harbour Clinic King West: declined on {today}: Fully booked this month." in html


def test_staff_record_for_the_clinic_that_it_cannot_offer_dates(client, awaiting, agent):
    client.force_login(agent)
    page = client.get(reverse("web:staff_booking_detail", args=[awaiting.order_id]))
    assert 'data-testid="record-clinic-decline"' in page.content.decode()
    response = client.post(
        reverse("web:staff_booking_clinic_decline", args=[awaiting.order_id]),
        {"note": "Phoned: the machine is broken."},
    )
    assert response.status_code == 302
    awaiting.refresh_from_db()
    assert awaiting.status == S.SOURCING
    event = awaiting.events.get(kind="clinic_decline")
    assert (event.actor, event.payload["party"]) == (agent, "staff")


def test_a_decline_needs_a_reason_and_changes_nothing_without_one(
    client, awaiting, clinic_user, agent
):
    with pytest.raises(DomainError) as refused:
        services.booking_request_clinic_decline(case=awaiting, actor=act(clinic_user), note=" ")
    assert refused.value.code == "note_required"
    client.force_login(agent)
    response = client.post(
        reverse("web:staff_booking_clinic_decline", args=[awaiting.order_id]), {"note": ""}
    )
    assert response.status_code == 400
    location_id = awaiting.location_id
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.location_id) == (S.AWAITING_AVAILABILITY, location_id)
    assert not awaiting.events.filter(kind="clinic_decline").exists()


def test_only_the_cases_clinic_or_staff_may_decline_and_only_while_dates_are_awaited(
    awaiting, insurer_user, booked, clinic_user
):
    other = factories.make_user(roles=[RoleCode.CLINIC_USER])
    for actor in (act(insurer_user), act(other)):
        with pytest.raises(DomainError) as refused:
            services.booking_request_clinic_decline(case=awaiting, actor=actor, note="No.")
        assert refused.value.code == "transition_forbidden"
    with pytest.raises(DomainError) as refused:
        services.booking_request_clinic_decline(case=booked, actor=act(clinic_user), note="No.")
    assert "the case is booked" in refused.value.message


def test_the_clinic_portal_declines_with_a_reason_and_goes_back_home(client, awaiting, clinic_user):
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_request", args=[awaiting.order_id])).content.decode()
    assert "We cannot offer dates" in page
    response = client.post(
        reverse("web:clinic_request_decline", args=[awaiting.order_id]),
        {"decline-note": "Closed for renovations."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:clinic_home")
    awaiting.refresh_from_db()
    assert awaiting.status == S.SOURCING
    assert awaiting.events.get(kind="clinic_decline").note == "Closed for renovations."


# --- A clinic never cancels the insurer's order -----------------------------------------------


def test_a_clinic_cannot_cancel_the_insurers_order(booked, awaiting, clinic_user):
    for case in (booked, awaiting):
        assert "cancel" not in {t.name for t in available_transitions(case, act(clinic_user))}
        with pytest.raises(DomainError) as refused:
            services.booking_request_cancel(
                case=case, actor=act(clinic_user), cancelled_by="clinic", note="Too busy."
            )
        assert refused.value.code == "transition_forbidden"
        case.refresh_from_db()
        assert case.status != S.CANCELLED


def test_the_clinic_case_page_has_no_cancel_button(client, booked, awaiting, clinic_user):
    client.force_login(clinic_user)
    for case in (booked, awaiting):
        page = client.get(reverse("web:clinic_request", args=[case.order_id])).content.decode()
        assert "Cancel the appointment" not in page and "Cancel this request" not in page
        assert f"/clinic/requests/{case.order_id}/cancel/" not in page
    # The booked page offers the clinic's requests instead.
    page = client.get(reverse("web:clinic_request", args=[booked.order_id])).content.decode()
    assert "Ask MedWorks to reschedule" in page
    assert "The appointment cannot take place" in page


# --- Requests about a booked appointment ------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "subject", "flag"),
    [
        ("clinic_reschedule_request", "the clinic asks to reschedule", "asks to reschedule:"),
        (
            "clinic_cannot_take_place",
            "the clinic says the appointment cannot take place",
            "says the appointment cannot take place:",
        ),
    ],
)
def test_a_clinic_request_keeps_the_booking_tells_the_team_and_flags_the_case(
    client, booked, clinic_user, agent, insurer_user, kind, subject, flag
):
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_ask", args=[booked.order_id]),
        {"kind": kind, "ask-note": "The technician is away that week."},
    )
    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.status == S.BOOKED  # a request, not a move
    event = booked.events.get(kind=kind)
    assert (event.actor, event.payload["party"]) == (clinic_user, "clinic")
    assert event.payload["appointment_id"] == booked.appointments.get().pk
    told = {m.to[0]: m for m in OutboxMessage.objects.filter(template="team_clinic_request")}
    assert set(told) == {"bookings@medworks.example", "owner@medworks.test"}
    assert all(subject in m.subject for m in told.values())
    assert all("The technician is away that week." in m.body for m in told.values())
    # The clinic's page says what it asked, and offers nothing more to ask.
    page = client.get(reverse("web:clinic_request", args=[booked.order_id])).content.decode()
    assert 'data-testid="clinic-request"' in page and 'data-testid="ask"' not in page
    # Staff see it on the case and in the queue; the insurer does not (until staff act).
    client.force_login(agent)
    case_page = client.get(reverse("web:staff_booking_detail", args=[booked.order_id]))
    assert flag in case_page.content.decode()
    queue = client.get(reverse("web:staff_booking_queue"), {"state": "booked"}).content.decode()
    assert 'data-testid="flag-clinic-asks"' in queue
    assert kind not in {r.kind for r in selectors.insurer_timeline(case=booked)}


def test_the_flag_stands_until_staff_reschedule(client, booked, clinic_user, agent):
    services.appointment_clinic_request(
        case=booked, actor=act(clinic_user), kind="clinic_reschedule_request", note="Sick."
    )
    assert selectors.clinic_request_pending(case=booked) is not None
    services.appointment_reschedule(case=booked, actor=act(agent), note="Clinic asked.")
    booked.refresh_from_db()
    assert booked.status == S.AWAITING_AVAILABILITY
    assert selectors.clinic_request_pending(case=booked) is None
    client.force_login(agent)
    queue = client.get(reverse("web:staff_booking_queue")).content.decode()
    assert 'data-testid="flag-clinic-asks"' not in queue


def test_a_clinic_request_needs_a_reason_a_booked_case_and_the_clinic(
    client, booked, awaiting, clinic_user, insurer_user
):
    kind = "clinic_cannot_take_place"
    with pytest.raises(DomainError) as refused:
        services.appointment_clinic_request(case=booked, actor=act(clinic_user), kind=kind, note="")
    assert refused.value.code == "note_required"
    with pytest.raises(DomainError) as refused:
        services.appointment_clinic_request(
            case=awaiting, actor=act(clinic_user), kind=kind, note="x"
        )
    assert "the case is awaiting dates" in refused.value.message
    with pytest.raises(DomainError) as refused:
        services.appointment_clinic_request(
            case=booked, actor=act(insurer_user), kind=kind, note="x"
        )
    assert refused.value.code == "transition_forbidden"
    client.force_login(clinic_user)
    response = client.post(
        reverse("web:clinic_request_ask", args=[booked.order_id]), {"kind": kind, "ask-note": ""}
    )
    assert response.status_code == 400
    unknown = client.post(
        reverse("web:clinic_request_ask", args=[booked.order_id]),
        {"kind": "cancel", "ask-note": "x"},
    )
    assert unknown.status_code == 400
    assert not BookingEvent.objects.filter(kind__in=[kind, "cancel"]).exists()


# --- The reminder -----------------------------------------------------------------------------


def test_a_clinic_with_no_dates_after_the_threshold_is_reminded_once_and_the_queue_flags_it(
    client, settings, awaiting, agent
):
    settings.MEDWORKS_CLINIC_REMINDER_HOURS = 24
    asked = awaiting.status_changed_at
    assert services.clinic_reminders_queue(now=asked + dt.timedelta(hours=23)) == 0
    assert services.clinic_reminders_queue(now=asked + dt.timedelta(hours=25)) == 1
    assert services.clinic_reminders_queue(now=asked + dt.timedelta(hours=49)) == 0  # once
    (message,) = OutboxMessage.objects.filter(template="clinic_ask_again")
    assert message.to == ["front@harbour.example"]
    assert message.subject.startswith("Reminder: dates requested for order")
    for private in PRIVATE:
        assert private not in message.body.lower()
    event = awaiting.events.get(kind="clinic_reminded")
    assert (event.actor_kind, event.actor_detail) == ("system", "clinic_reminders")
    client.force_login(agent)
    queue = client.get(reverse("web:staff_booking_queue")).content.decode()
    row = queue.split(f'data-order-id="{awaiting.order_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Clinic reminded, no answer" in row
    case_page = client.get(reverse("web:staff_booking_detail", args=[awaiting.order_id]))
    assert 'data-testid="clinic-reminded"' in case_page.content.decode()


def test_dates_given_clear_the_flag_and_a_new_wait_gets_its_own_reminder(
    client, awaiting, agent, clinic_user
):
    later = timezone.now() + dt.timedelta(hours=30)
    assert services.clinic_reminders_queue(now=later) == 1
    services.availability_offer_record(
        case=awaiting, slots=[factories.slot_data(days=4)], actor=act(clinic_user)
    )
    assert services.clinic_reminders_queue(now=later) == 0  # dates given: nothing to remind
    awaiting.refresh_from_db()
    assert selectors.clinic_reminded(case=awaiting) is None
    client.force_login(agent)
    queue = client.get(reverse("web:staff_booking_queue")).content.decode()
    assert "Clinic reminded, no answer" not in queue


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_each_clinic_once(insurer_user, clinic_location):
    agent = factories.make_user(roles=[RoleCode.BOOKING_AGENT])
    for _ in range(4):
        factories.make_case_awaiting_dates(
            insurer=insurer_user.organisation, location=clinic_location, agent=agent
        )
    later = timezone.now() + dt.timedelta(hours=30)
    counts, errors = run_at_once(
        lambda: services.clinic_reminders_queue(now=later),
        lambda: services.clinic_reminders_queue(now=later),
    )
    assert errors == []
    assert sum(counts) == 4
    assert OutboxMessage.objects.filter(template="clinic_ask_again").count() == 4
    assert BookingEvent.objects.filter(kind="clinic_reminded").count() == 4


# --- The signed link, for one case and one clinic ---------------------------------------------


def test_a_replaced_clinics_link_acts_on_nothing_and_its_page_says_so(
    client, insurer, agent, walk_in, clinic_location
):
    case = factories.make_case_awaiting_dates(insurer=insurer, location=walk_in, agent=agent)
    token = _token(OutboxMessage.objects.get(template="clinic_ask"))
    link = reverse("web:clinic_link", args=[token])
    walk_in_link = Actor.for_clinic_link(
        case_id=case.pk, location_id=walk_in.pk, purpose="clinic_dates"
    )
    assert party_of(walk_in_link, case) == Party.CLINIC

    # The agent hears the clinic cannot, and asks another one.
    services.booking_request_clinic_decline(case=case, actor=act(agent), note="Phoned: no.")
    services.booking_request_select_clinic(case=case, location=clinic_location, actor=act(agent))
    case.refresh_from_db()

    assert party_of(walk_in_link, case) is None
    response = client.get(link)
    assert response.status_code == 410
    html = response.content.decode()
    assert "This request is no longer with your clinic" in html
    assert "Tremblay" not in html
    before = (BookingEvent.objects.count(), case.status)
    posted = client.post(link, {"action": "decline", "decline-note": "Stale."})
    assert posted.status_code == 410
    case.refresh_from_db()
    assert (BookingEvent.objects.count(), case.status) == before
    with pytest.raises(DomainError):
        services.booking_request_clinic_decline(case=case, actor=walk_in_link, note="Stale.")
