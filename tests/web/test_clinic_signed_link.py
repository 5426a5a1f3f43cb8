"""The clinic's signed link (web/links/clinic.py): a clinic without portal users opens the link
of its "dates requested" email, sees what it needs to give dates, and gives them or says it
cannot, without logging in. GET shows and records the read; POST acts; a stale, expired or
damaged link acts on nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from medworks.bookings import services
from medworks.bookings.links import clinic_link_token, offer_link_token
from medworks.bookings.models import BookingEvent, BookingStatus, OfferSlot
from medworks.core.models import AuditEvent
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act
from tests.test_translations import _english_words

S = BookingStatus


@pytest.fixture
def walk_in(db):
    partner = factories.make_partner(name="Walk-in Imaging")
    location = factories.make_location(
        partner=partner, name="Walk-in Imaging Queen", email="desk@walkin.example"
    )
    factories.make_offering(location=location, service_code="XRAY", price="80.00")
    return location


@pytest.fixture
def asked(walk_in, insurer_user):
    return factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=walk_in,
        scheduling_notes="Ground-floor room please.",
    )


@pytest.fixture
def link(asked):
    """The link as the clinic received it in its email."""
    message = OutboxMessage.objects.get(template="clinic_ask")
    (url,) = re.findall(r"https?://\S+(/links/clinic/\S+/)", message.body)
    return url


def _dates(rows: list[dict]) -> dict:
    data = {
        "action": "dates",
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


def _reads(case):
    return AuditEvent.objects.filter(
        action="booking_request.viewed", object_id=str(case.pk), actor_kind="signed_link"
    )


def test_the_link_shows_what_the_clinic_needs_and_no_more_and_records_the_read(
    client, asked, link, walk_in
):
    events = BookingEvent.objects.count()
    response = client.get(link)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"  # the token never goes to other sites
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert asked.order_id in html and "Walk-in Imaging Queen" in html
    assert "X-ray" in html and asked.preferred_dates[0] in html and "Morning" in html
    assert "Ground-floor room please." in html
    assert "Jean Tremblay" in html
    for private in ("1980-04-12", "416-555-0199", "patient@example.com", "wrist", "two views"):
        assert private not in html.lower(), private
    assert html.count('type="date"') == 5
    assert 'name="csrfmiddlewaretoken"' in html
    # Showing it is a read of the case, by the link; it changes nothing.
    (read,) = _reads(asked)
    assert read.actor is None and read.actor_detail == "clinic_dates"
    assert read.payload["location_id"] == walk_in.pk
    assert read.payload["patient_id"] == asked.patient_id
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    assert BookingEvent.objects.count() == events
    client.get(link)
    assert _reads(asked).count() == 2  # each showing


def test_the_clinic_gives_two_dates_through_the_link_and_the_insurer_is_asked(client, asked, link):
    response = client.post(
        link,
        _dates(
            [
                {"date": _in_days(4), "time": "09:30", "duration_minutes": "45"},
                {"date": _in_days(5), "time": "14:00", "practitioner": "Dr. Roy"},
            ]
        ),
    )
    assert response.status_code == 200
    assert "2 dates sent to the insurer for approval." in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == S.DATES_OFFERED
    slots = list(OfferSlot.objects.filter(offer__request=asked).order_by("starts_at"))
    assert [s.duration_minutes for s in slots] == [45, 30]
    assert timezone.localtime(slots[0].starts_at).strftime("%H:%M") == "09:30"
    event = asked.events.get(kind="offer_dates")
    assert event.payload["party"] == "clinic"
    assert (event.actor, event.actor_kind, event.actor_detail) == (
        None,
        "signed_link",
        "clinic_dates",
    )
    assert OutboxMessage.objects.filter(template="dates_offered").count() == 1
    # The link has done its work: opened again, it says so and shows no patient.
    again = client.get(link)
    assert again.status_code == 410
    assert "This request no longer waits for your dates" in again.content.decode()
    assert "Tremblay" not in again.content.decode()


def test_a_date_in_the_past_is_refused_on_its_row_and_nothing_is_offered(client, asked, link):
    response = client.post(
        link,
        _dates([{"date": _in_days(3), "time": "10:00"}, {"date": _in_days(-1), "time": "11:15"}]),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The appointment is in the past." in html and 'value="11:15"' in html
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    assert not OfferSlot.objects.exists()


def test_the_clinic_says_through_the_link_that_it_cannot_offer_dates(client, asked, link, walk_in):
    response = client.post(link, {"action": "decline", "decline-note": "No X-ray until March."})
    assert response.status_code == 200
    assert "MedWorks will ask another clinic" in response.content.decode()
    asked.refresh_from_db()
    assert (asked.status, asked.location) == (S.SOURCING, None)
    event = asked.events.get(kind="clinic_decline")
    assert event.payload["party"] == "clinic" and event.payload["location_id"] == walk_in.pk
    assert (event.actor_kind, event.note) == ("signed_link", "No X-ray until March.")
    assert OutboxMessage.objects.filter(template="team_clinic_declined").exists()
    assert client.get(link).status_code == 410


def test_a_decline_through_the_link_needs_a_reason(client, asked, link):
    response = client.post(link, {"action": "decline", "decline-note": ""})
    assert response.status_code == 400
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    assert not asked.events.filter(kind="clinic_decline").exists()


def test_an_expired_link_is_refused_with_410(client, asked, link, settings):
    settings.MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS = -1  # every token is now older than allowed
    for method in ("get", "post"):
        response = getattr(client, method)(link, {"action": "decline", "decline-note": "x"})
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    assert not _reads(asked).exists()


def test_a_tampered_link_is_refused_with_400(client, asked):
    token = clinic_link_token(case=asked)
    for bad in (token[:-2] + "xx", "not-a-token"):
        response = client.post(
            reverse("web:clinic_link", args=[bad]), {"action": "decline", "decline-note": "x"}
        )
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    assert not _reads(asked).exists()


def test_an_insurers_offer_link_token_is_not_a_clinic_link(client, asked):
    response = client.get(reverse("web:clinic_link", args=[offer_link_token(kind="decline", pk=1)]))
    assert response.status_code == 400


def test_a_link_made_for_an_earlier_wait_does_not_work_after_the_case_comes_back(
    client, asked, link, walk_in, insurer_user
):
    """Declined, then the same clinic asked again: the first email's link is not the new one."""
    agent = factories.make_user(roles=["booking_agent"])
    services.booking_request_clinic_decline(case=asked, actor=act(agent), note="Phoned.")
    services.booking_request_select_clinic(case=asked, location=walk_in, actor=act(agent))
    assert client.get(link).status_code == 410
    fresh = OutboxMessage.objects.filter(template="clinic_ask").order_by("-pk").first()
    (new_link,) = re.findall(r"https?://\S+(/links/clinic/\S+/)", fresh.body)
    assert new_link != link
    assert client.get(new_link).status_code == 200


def test_the_post_needs_the_pages_csrf_token(asked, link):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(link, {"action": "decline", "decline-note": "x"})
    assert response.status_code == 403
    asked.refresh_from_db()
    assert asked.status == S.AWAITING_AVAILABILITY
    page = strict.get(link)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = strict.post(
        link, {"action": "decline", "decline-note": "Closed.", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 200
    asked.refresh_from_db()
    assert asked.status == S.SOURCING


def test_the_link_page_reads_in_french(client, asked, link):
    client.cookies["django_language"] = "fr"
    response = client.get(link)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nous ne pouvons pas proposer de dates" in html
    # "please" is the insurer's own scheduling note, data rather than the page.
    assert _english_words(html, allowed={"please"}) == {}
