"""The insurer and clinic portals in a real browser: the request form checks fields as they
change (htmx), a clinic enters dates, the insurer approves one."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.services import booking_request_select_clinic, booking_request_take
from tests import factories
from tests.factories import act

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("MEDWORKS_SCREENSHOTS_DIR")  # set to look at the pages while developing


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_an_insurer_is_told_of_a_bad_postal_code_as_they_type_then_submits(
    page, log_in, insurer_user
):
    log_in(insurer_user)
    page.get_by_role("link", name="New booking request").first.click()
    page.get_by_label("Your case / claim reference").fill("CLM-1")
    page.get_by_label("Postal code").fill("Q1Q 1Q1")
    page.get_by_role("textbox", name="City").click()  # leaving the field sends it for checking
    postal = page.locator("#f-patient_postal_code")
    expect(postal.locator(".error")).to_be_visible()
    _shot(page, "portal-request-new-error")

    data = factories.booking_request_data()
    for label, key in [
        ("Contact name", "insurer_contact_name"),
        ("Contact email", "insurer_contact_email"),
        ("Patient first name", "patient_first_name"),
        ("Patient last name", "patient_last_name"),
        ("Street address", "patient_address"),
        ("City", "patient_city"),
        ("Postal code", "patient_postal_code"),
    ]:
        page.get_by_role("textbox", name=label).fill(data[key])
    page.get_by_label("Date of birth").fill("1980-04-12")
    page.get_by_label("X-ray").check()
    page.get_by_label("Contact email").click()
    expect(postal.locator(".error")).to_have_count(0)
    page.get_by_role("button", name="Send the request to MedWorks").click()

    expect(page.get_by_text(re.compile(r"Request MW-\d{4}-\d{6} sent to MedWorks"))).to_be_visible()
    case = BookingRequest.objects.get()
    assert case.insurer_reference == "CLM-1"
    assert case.patient.postal_code == "M5V 3L9"
    _shot(page, "portal-request")


def test_a_clinic_enters_dates_and_the_insurer_approves_one(
    browser, live_server, page, log_in, insurer_user, clinic_user
):
    partner = factories.make_partner(name="Harbour Imaging", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Imaging Queen St")
    factories.make_offering(location=location)
    agent = factories.make_user(roles=["booking_agent"])
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    booking_request_take(case=case, actor=act(agent))
    booking_request_select_clinic(case=case, location=location, actor=act(agent))

    log_in(clinic_user)
    _shot(page, "clinic-home")
    page.get_by_role("link", name="Enter dates").click()
    day = factories.slot_data(days=6)["starts_at"].date().isoformat()
    page.get_by_label("Date 1", exact=True).fill(day)
    page.get_by_label("Time 1", exact=True).fill("09:30")
    page.get_by_label("Practitioner 1").fill("Dr. Roy")
    page.get_by_role("button", name="Send these dates to the insurer").click()
    # Said with the Order Id, never an internal record number.
    expect(page.get_by_text(f"1 date for {case.order_id} sent to the insurer")).to_be_visible()

    context = browser.new_context(base_url=live_server.url)
    insurer_page = context.new_page()
    insurer_page.goto("/login/")
    insurer_page.get_by_label("Username").fill(insurer_user.username)
    insurer_page.get_by_label("Password").fill(factories.PASSWORD)
    insurer_page.get_by_role("button", name="Sign in").click()
    expect(insurer_page.get_by_text("1 request with dates to approve")).to_be_visible()
    insurer_page.get_by_role("link", name="Dates to approve").click()
    _shot(insurer_page, "portal-dates-offered")
    insurer_page.get_by_role("button", name="Approve this date").click()
    expect(insurer_page.get_by_text("Booked for")).to_be_visible()
    expect(insurer_page.get_by_role("link", name="Add to calendar (.ics)")).to_be_visible()
    _shot(insurer_page, "portal-booked")
    context.close()

    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED
    page.goto("/clinic/")
    expect(page.get_by_text(case.patient.full_name)).to_be_visible()
    _shot(page, "clinic-booked")
