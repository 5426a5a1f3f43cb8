"""The one-click links of the "dates offered" email. No login; the signed token is the key.

A GET never changes anything (mail scanners open every link); the person's POST does.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from medworks.bookings.links import offer_link_token
from medworks.bookings.models import (
    Appointment,
    BookingEvent,
    BookingStatus,
    OfferSlot,
    OfferStatus,
    SlotStatus,
)
from medworks.bookings.services import availability_offer_approve, availability_offer_record
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act


@pytest.fixture
def offered(insurer_user):
    return factories.make_case_with_offer(insurer=insurer_user.organisation)


def _approve_url(slot) -> str:
    return reverse("web:offer_link", args=[offer_link_token(kind="approve", pk=slot.pk)])


def _decline_url(offer) -> str:
    return reverse("web:offer_link", args=[offer_link_token(kind="decline", pk=offer.pk)])


def _state(case):
    case.refresh_from_db()
    return (
        case.status,
        BookingEvent.objects.count(),
        AuditEvent.objects.count(),
        Appointment.objects.count(),
        list(OfferSlot.objects.order_by("pk").values_list("status", flat=True)),
    )


def test_opening_an_approve_link_shows_the_date_and_changes_nothing(client, offered):
    case, offer = offered
    slot = offer.slots.order_by("starts_at").first()
    before = _state(case)
    response = client.get(_approve_url(slot))
    page = response.content.decode()
    assert response.status_code == 200
    assert case.order_id in page
    assert offer.location.name in page
    assert "Approve this date" in page
    assert case.patient.last_name not in page  # whoever holds the link sees no patient
    assert response["Referrer-Policy"] == "same-origin"
    assert _state(case) == before


def test_pressing_approve_books_the_date_as_the_signed_link(offered):
    case, offer = offered
    slot = offer.slots.order_by("starts_at").first()
    client = Client(enforce_csrf_checks=True)  # the page's own form carries the CSRF token
    url = _approve_url(slot)
    page = client.get(url).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "Booked" in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED
    assert Appointment.objects.get(request=case).slot_id == slot.pk
    event = case.events.get(kind="approve_date")
    assert event.actor is None
    assert event.payload["party"] == "signed_link"


def test_a_post_without_the_csrf_token_is_refused(offered):
    case, offer = offered
    client = Client(enforce_csrf_checks=True)
    response = client.post(_approve_url(offer.slots.first()))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_an_already_taken_slot_cannot_be_approved_by_link(client, offered, insurer_user):
    _, offer = offered
    first, second = offer.slots.order_by("starts_at")
    availability_offer_approve(slot=first, actor=act(insurer_user))

    page = client.get(_approve_url(second)).content.decode()
    assert "This date can no longer be approved." in page
    assert "Approve this date</button>" not in page

    response = client.post(_approve_url(second))
    assert response.status_code == 409
    assert "no longer available" in response.content.decode()
    assert Appointment.objects.get().slot_id == first.pk


def test_a_slot_the_clinic_no_longer_holds_cannot_be_approved_by_link(client, offered):
    case, offer = offered
    slot = offer.slots.first()
    OfferSlot.objects.filter(pk=slot.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    page = client.get(_approve_url(slot)).content.decode()
    assert "The clinic no longer holds it." in page
    response = client.post(_approve_url(slot))
    assert response.status_code == 409
    assert "The clinic no longer holds this date." in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_opening_a_decline_link_changes_nothing(client, offered):
    case, offer = offered
    before = _state(case)
    page = client.get(_decline_url(offer)).content.decode()
    assert "Decline all these dates?" in page
    assert page.count("<li>") >= 2
    assert _state(case) == before


def test_declining_by_link_needs_a_reason(client, offered):
    case, offer = offered
    response = client.post(_decline_url(offer), {"note": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_declining_by_link_sends_the_case_back_to_sourcing(client, offered):
    case, offer = offered
    response = client.post(_decline_url(offer), {"note": "Mornings only, please."})
    assert response.status_code == 200
    assert "Dates declined" in response.content.decode()
    case.refresh_from_db()
    offer.refresh_from_db()
    assert case.status == BookingStatus.SOURCING
    assert offer.status == OfferStatus.DECLINED
    assert offer.decline_note == "Mornings only, please."
    assert case.events.get(kind="decline_dates").payload["party"] == "signed_link"
    assert set(offer.slots.values_list("status", flat=True)) == {SlotStatus.RELEASED}


def test_an_old_decline_link_never_declines_a_newer_offer(client, offered):
    case, old_offer = offered
    agent = factories.make_user(roles=["booking_agent"])
    client.post(_decline_url(old_offer), {"note": "Mornings only."})
    from medworks.bookings.services import booking_request_select_clinic

    booking_request_select_clinic(case=case, location=old_offer.location, actor=act(agent))
    new_offer = availability_offer_record(
        case=case, slots=[factories.slot_data(days=8)], actor=act(agent)
    )
    response = client.post(_decline_url(old_offer), {"note": "Again?"})
    assert response.status_code == 409
    new_offer.refresh_from_db()
    case.refresh_from_db()
    assert new_offer.status == OfferStatus.OPEN
    assert case.status == BookingStatus.DATES_OFFERED


def test_an_expired_link_is_refused_with_410(client, offered, settings):
    case, offer = offered
    url = _approve_url(offer.slots.first())
    settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS = -1  # every token is now older than allowed
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_a_tampered_link_is_refused_with_400(client, offered):
    case, offer = offered
    token = offer_link_token(kind="approve", pk=offer.slots.first().pk)
    for bad in (token[:-2] + "xx", "not-a-token"):
        response = client.post(reverse("web:offer_link", args=[bad]))
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    case.refresh_from_db()
    assert case.status == BookingStatus.DATES_OFFERED


def test_a_link_to_dates_that_no_longer_exist_says_so(client, db):
    response = client.get(reverse("web:offer_link", args=[offer_link_token(kind="approve", pk=99)]))
    assert response.status_code == 410
    assert "These dates no longer exist" in response.content.decode()


def test_the_email_links_open_these_pages(client, offered):
    """The "dates offered" email carries links this route accepts."""
    from medworks.notifications.models import OutboxMessage

    case, _ = offered
    message = OutboxMessage.objects.filter(template="dates_offered", related_id=str(case.pk)).get()
    path = message.body.split("/links/offer/", 1)[1].split()[0]
    response = client.get("/links/offer/" + path)
    assert response.status_code == 200
    assert case.order_id in response.content.decode()
