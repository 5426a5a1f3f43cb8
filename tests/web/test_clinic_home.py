"""The clinic's home: first today's and the coming days' appointments, day by day (a week, with
the weeks before and after a link away), then the requests waiting for its dates; its price
list on a page of its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from medworks.bookings.models import Appointment
from medworks.bookings.services import appointment_complete, availability_offer_approve
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act
from tests.test_translations import _english_words


@pytest.fixture
def location(clinic_user):
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic Queen St")
    factories.make_offering(location=location, service_code="XRAY", price="95.50")
    return location


def _booked_on(location, insurer_user, day: dt.date, hour: int, **patient):
    """A case booked at `location` for `day` at `hour` (local), for a patient named `patient`."""
    case, offer = factories.make_case_with_offer(
        location=location,
        insurer=insurer_user.organisation,
        slots=[factories.slot_data(days=3)],
        **patient,
    )
    appointment = availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))
    # The appointment's time as the test needs it (offers are made in the future only).
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
    Appointment.objects.filter(pk=appointment.pk).update(starts_at=starts)
    case.refresh_from_db()
    return case


def _day(offset: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)


def _section(html: str, testid: str) -> str:
    return html.split(f'data-testid="{testid}"', 1)[1].split("</section>", 1)[0]


def test_the_home_lists_the_weeks_appointments_day_by_day_with_time_patient_service_and_order(
    client, clinic_user, insurer_user, location
):
    today = _booked_on(location, insurer_user, _day(0), 15, patient_first_name="Ana")
    in_three = _booked_on(location, insurer_user, _day(3), 9, patient_first_name="Bea")
    next_week = _booked_on(location, insurer_user, _day(9), 10, patient_first_name="Cy")
    elsewhere = factories.make_case_with_offer(insurer=insurer_user.organisation)[0]

    client.force_login(clinic_user)
    html = client.get(reverse("web:clinic_home")).content.decode()
    week = _section(html, "week")

    first_day = week.split(f'data-testid="day-{_day(0).isoformat()}"', 1)[1].split(
        'data-testid="day-', 1
    )[0]
    assert "Today" in first_day
    assert "3 p.m." in first_day and "Ana Tremblay" in first_day and "X-ray" in first_day
    case_url = reverse("web:clinic_request", args=[today.order_id])
    assert f'<a href="{case_url}">{today.order_id}</a>' in first_day
    fourth_day = week.split(f'data-testid="day-{_day(3).isoformat()}"', 1)[1].split(
        'data-testid="day-', 1
    )[0]
    assert "9 a.m." in fourth_day and "Bea Tremblay" in fourth_day
    assert in_three.order_id in fourth_day
    assert week.count('data-testid="day-') == 7
    assert week.count("No appointments.") == 5
    assert next_week.order_id not in week and "Cy Tremblay" not in html
    assert elsewhere.order_id not in html
    # Each case named on the page is a recorded read.
    reads = AuditEvent.objects.filter(action="booking_request.viewed", actor=clinic_user)
    assert {r.object_id for r in reads} == {str(today.pk), str(in_three.pk)}


def test_the_next_and_previous_week_links_move_the_list_by_a_week(
    client, clinic_user, insurer_user, location
):
    later = _booked_on(location, insurer_user, _day(9), 10, patient_first_name="Cy")
    client.force_login(clinic_user)
    home = client.get(reverse("web:clinic_home")).content.decode()
    assert f'href="?from={_day(7).isoformat()}"' in home
    assert f'href="?from={_day(-7).isoformat()}"' in home

    page = client.get(reverse("web:clinic_home"), {"from": _day(7).isoformat()}).content.decode()
    week = _section(page, "week")
    assert later.order_id in week and "Cy Tremblay" in week
    assert f"From {date_format(_day(7), 'DATE_FORMAT')} to" in week
    assert "This week" in week  # the way back to today's week
    assert f'data-testid="day-{_day(0).isoformat()}"' not in week

    unreadable = client.get(reverse("web:clinic_home"), {"from": "soon"}).content.decode()
    assert f'data-testid="day-{_day(0).isoformat()}"' in unreadable


def test_earlier_appointments_without_an_outcome_wait_below_the_week_and_leave_once_marked(
    client, clinic_user, insurer_user, location
):
    missed = _booked_on(location, insurer_user, _day(-2), 11, patient_first_name="Dee")
    client.force_login(clinic_user)
    html = client.get(reverse("web:clinic_home")).content.decode()
    earlier = _section(html, "earlier")
    assert missed.order_id in earlier and "Dee Tremblay" in earlier
    assert "Completed" in earlier and "No-show" in earlier
    assert missed.order_id not in _section(html, "week")

    appointment_complete(case=missed, actor=act(clinic_user))
    html = client.get(reverse("web:clinic_home")).content.decode()
    assert 'data-testid="earlier"' not in html


def test_the_requests_waiting_for_dates_come_after_the_appointments(
    client, clinic_user, insurer_user, location
):
    _booked_on(location, insurer_user, _day(1), 10)
    waiting = factories.make_case_awaiting_dates(location=location)
    client.force_login(clinic_user)
    html = client.get(reverse("web:clinic_home")).content.decode()
    assert html.index('id="appointments"') < html.index('id="awaiting"')
    awaiting = html.split('id="awaiting"', 1)[1].split("</section>", 1)[0]
    assert waiting.order_id in awaiting and "Enter dates" in awaiting
    assert waiting.order_id not in _section(html, "week")


def test_the_price_list_is_its_own_page_linked_from_the_home_and_the_navigation(
    client, clinic_user, location
):
    client.force_login(clinic_user)
    home = client.get(reverse("web:clinic_home")).content.decode()
    prices_url = reverse("web:clinic_prices")
    assert home.count(f'href="{prices_url}"') == 2  # the navigation and the home
    assert "$95.50" not in home and "Clinic price" not in home

    page = client.get(prices_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Harbour Clinic Queen St" in html and "X-ray" in html and "$95.50" in html
    nav = html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert f'href="{prices_url}" aria-current="page"' in nav


def test_another_clinic_sees_neither_the_appointments_nor_the_prices(
    client, insurer_user, location
):
    booked = _booked_on(location, insurer_user, _day(1), 10)
    other = factories.make_user(roles=["clinic_user"], username="hill")
    client.force_login(other)
    home = client.get(reverse("web:clinic_home")).content.decode()
    prices = client.get(reverse("web:clinic_prices")).content.decode()
    assert booked.order_id not in home and "Tremblay" not in home
    assert "Harbour Clinic Queen St" not in prices and "$95.50" not in prices


def test_the_home_and_the_price_list_read_in_french(client, clinic_user, insurer_user, location):
    _booked_on(location, insurer_user, _day(1), 10)
    clinic_user.first_name, clinic_user.last_name = "Julie", "Roy"  # not the username
    clinic_user.save()
    client.cookies["django_language"] = "fr"
    client.force_login(clinic_user)
    for name in ("web:clinic_home", "web:clinic_prices"):
        html = client.get(reverse(name)).content.decode()
        assert _english_words(html, allowed=set()) == {}, name
