"""A request end to end in a real browser: an insurer submits it in the portal, an agent takes
it from the work queue, picks a clinic and records its dates, the insurer approves one, and
the agent sees the case booked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.network import geo
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def clinic_at(postal_code: str, partner: str):
    point = geo.geocode(postal_code)
    location = factories.make_location(
        partner=factories.make_partner(name=partner),
        name=f"{partner} {point.place}",
        postal_code=point.postal_code,
        province=point.province,
        city=point.place,
        latitude=point.latitude,
        longitude=point.longitude,
    )
    factories.make_offering(location=location, service_code="XRAY")
    return location


def sign_in(browser, live_server, user):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_an_insurer_request_is_taken_sourced_offered_approved_and_booked(
    browser, live_server, insurer_user, booking_agent
):
    clinic_at("M4W 1A5", "Yorkville X-ray")
    clinic_at("L5B 1M2", "Mississauga Imaging")
    insurer_context, insurer = sign_in(browser, live_server, insurer_user)
    agent_context, agent = sign_in(browser, live_server, booking_agent)

    # The insurer submits a request in the portal.
    insurer.get_by_role("link", name="New booking request").first.click()
    data = factories.booking_request_data()
    for label, key in [
        ("Your case / claim reference", "insurer_reference"),
        ("Contact name", "insurer_contact_name"),
        ("Contact email", "insurer_contact_email"),
        ("Patient first name", "patient_first_name"),
        ("Patient last name", "patient_last_name"),
        ("Street address", "patient_address"),
        ("City", "patient_city"),
        ("Postal code", "patient_postal_code"),
    ]:
        insurer.get_by_role("textbox", name=label).fill(data[key])
    insurer.get_by_label("Date of birth").fill("1980-04-12")
    insurer.get_by_label("X-ray").check()
    insurer.get_by_role("button", name="Send the request to MedWorks").click()
    expect(
        insurer.get_by_text(re.compile(r"Request MW-\d{4}-\d{6} sent to MedWorks"))
    ).to_be_visible()
    order_id = BookingRequest.objects.get().order_id

    # The agent finds it in the work queue, unassigned, and takes it.
    agent.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()
    agent.get_by_label("Owner").select_option(label="Unassigned")
    row = agent.locator(f'tr[data-order-id="{order_id}"]')
    expect(row).to_contain_text("Received")
    row.get_by_role("link", name=order_id).click()
    agent.get_by_role("button", name="Take").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Sourcing")

    # The nearest clinic offering the service is first; the agent chooses it.
    matches = agent.get_by_test_id("matches").locator("tbody tr")
    expect(matches.nth(0)).to_contain_text("Yorkville X-ray")
    matches.nth(0).get_by_role("button", name=re.compile("Choose")).click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Awaiting dates")

    # The clinic gave two dates on the phone; the agent records them.
    day1 = factories.slot_data(days=5)["starts_at"].date().isoformat()
    day2 = factories.slot_data(days=6)["starts_at"].date().isoformat()
    agent.get_by_label("Date 1", exact=True).fill(day1)
    agent.get_by_label("Time 1", exact=True).fill("09:30")
    agent.get_by_label("Practitioner 1").fill("Dr. Roy")
    agent.get_by_label("Date 2", exact=True).fill(day2)
    agent.get_by_label("Time 2", exact=True).fill("14:00")
    agent.get_by_role("button", name="Send these dates to the insurer").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Dates offered")

    # The insurer approves the first date in the portal.
    insurer.goto("/portal/")
    insurer.get_by_role("link", name="Dates to approve").click()
    insurer.get_by_role("button", name="Approve this date").first.click()
    expect(insurer.get_by_text("Booked for")).to_be_visible()

    # The agent sees the case booked, with the appointment and its next steps.
    agent.reload()
    expect(agent.get_by_test_id("case-status")).to_have_text("Booked")
    expect(agent.get_by_test_id("appointment")).to_contain_text("Yorkville X-ray")
    expect(agent.get_by_test_id("appointment")).to_contain_text("09:30")
    # Attended or missed is said only once the appointment time has come.
    expect(agent.get_by_role("button", name="Mark completed")).to_have_count(0)
    expect(agent.get_by_role("button", name="Reschedule")).to_be_visible()
    expect(agent.get_by_test_id("timeline")).to_contain_text("Approve a date")
    agent.get_by_role("link", name="Work queue").first.click()
    expect(agent.locator(f'tr[data-order-id="{order_id}"]')).to_contain_text("Booked")

    assert BookingRequest.objects.get().status == BookingStatus.BOOKED
    insurer_context.close()
    agent_context.close()
