"""Every email links to the case on its reader's own page: the insurer to its portal case page,
the booking team and management to the staff case page, the clinic to its clinic portal page.
Patients have no login, so their emails carry no link to the desk."""

from __future__ import annotations

import re

import pytest
from django.template.loader import get_template

from medworks.bookings import emails, services
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

BASE = "https://desk.example"

# Which page each booking email's link opens (None: no link to the desk at all).
AUDIENCE = {
    "request_received": "insurer",
    "dates_offered": "insurer",
    "insurer_booked": "insurer",
    "results_direct": "insurer",
    "no_show": "insurer",
    "cancelled": "insurer",
    "team_new_request": "team",
    "team_escalated": "team",
    "team_escalation_assigned": "team",
    "team_dates_declined": "team",
    "team_no_show": "team",
    "clinic_booking": "clinic",
    "clinic_reminder": "clinic",
    "clinic_cancelled": None,  # "please cancel this appointment": nothing to open
    # The clinic portal's case page, or, for a clinic without portal users, its signed page
    # (tests/bookings/test_clinic_side.py).
    "clinic_ask": "clinic",
    "clinic_ask_again": "clinic",
    "team_clinic_declined": "team",
    "team_clinic_request": "team",
    "patient_booked": None,
    "patient_reminder": None,
}


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.MEDWORKS_BASE_URL = BASE + "/"  # a trailing slash is not doubled


def _pages(case) -> dict[str, str]:
    return {
        "insurer": f"{BASE}/portal/requests/{case.order_id}/",
        "team": f"{BASE}/staff/bookings/{case.order_id}/",
        "clinic": f"{BASE}/clinic/requests/{case.order_id}/",
    }


def _desk_links(message) -> set[str]:
    """The links in a message, less the one-click approve/decline links of an offer."""
    return {url for url in re.findall(r"https?://\S+", message.body) if "/links/offer/" not in url}


def _assert_links_to(message, case, audience) -> None:
    expected = {_pages(case)[audience]} if audience else set()
    assert _desk_links(message) == expected, (message.template, message.body)


def test_the_audience_table_covers_every_booking_email():
    from tests.notifications.test_templates import TEMPLATE_NAMES

    assert set(AUDIENCE) == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", sorted(n for n, a in AUDIENCE.items() if a))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_both_languages_of_an_email_link_to_the_case(name, language):
    source = get_template(f"notifications/email/{name}.txt").template.source
    assert "{{ case_url }}" in source
    assert "base_url" not in source


def test_the_insurer_and_the_team_are_sent_to_the_case_from_the_moment_it_arrives(insurer_user):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    _assert_links_to(OutboxMessage.objects.get(template="request_received"), case, "insurer")
    _assert_links_to(OutboxMessage.objects.get(template="team_new_request"), case, "team")


def test_an_escalation_sends_management_to_the_staff_case_page(
    clinic_near_patient, insurer_user, booking_agent
):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_escalate(case=case, actor=act(booking_agent), note="None nearby.")
    message = OutboxMessage.objects.get(template="team_escalated")
    # The case, and management's queue of escalations (no other case's page).
    assert _desk_links(message) == {_pages(case)["team"], BASE + "/staff/escalations/"}


def test_offered_dates_link_the_insurer_to_its_case_beside_the_one_click_links(offered):
    case, offer = offered
    message = OutboxMessage.objects.get(template="dates_offered")
    _assert_links_to(message, case, "insurer")
    one_click = [u for u in re.findall(r"https?://\S+", message.body) if "/links/offer/" in u]
    assert len(one_click) == offer.slots.count() + 1  # unchanged: each slot, then decline
    assert all(u.startswith(f"{BASE}/links/offer/") for u in one_click)


def test_each_party_to_a_booking_gets_its_own_case_page_and_the_patient_none(booked):
    case, _appointment = booked
    for template in ("clinic_booking", "insurer_booked", "patient_booked", "results_direct"):
        message = OutboxMessage.objects.get(template=template)
        _assert_links_to(message, case, AUDIENCE[template])


def test_reminders_no_shows_declines_and_cancellations_link_each_reader_to_the_case(booked):
    case, appointment = booked
    OutboxMessage.objects.all().delete()
    emails.reminder(case, appointment)
    emails.dates_declined(case, note="Too far.")
    emails.no_show(case)
    emails.cancelled(case, appointment, cancelled_by="insurer", note="Not needed.")
    sent = {m.template: m for m in OutboxMessage.objects.all()}
    assert set(sent) == {
        "patient_reminder",
        "clinic_reminder",
        "team_dates_declined",
        "no_show",
        "team_no_show",
        "cancelled",
        "clinic_cancelled",
    }
    for template, message in sent.items():
        _assert_links_to(message, case, AUDIENCE[template])


def test_a_french_speaking_clinic_gets_the_same_case_link(booked):
    case, appointment = booked
    appointment.location.languages = "French"
    appointment.location.save(update_fields=["languages"])
    OutboxMessage.objects.all().delete()
    emails.reminder(case, appointment)
    message = OutboxMessage.objects.get(template="clinic_reminder")
    assert message.language == "fr"
    _assert_links_to(message, case, "clinic")
