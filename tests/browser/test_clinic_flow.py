"""The clinic's side in a real browser: a clinic without portal users opens the link of its
"dates requested" email and gives two dates, and the agent sees them offered; a clinic user
says in its portal that it cannot offer dates, and the agent finds the case back in sourcing
with the clinic's decline noted on its row."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from medworks.bookings.models import BookingRequest, BookingStatus, OfferSlot
from medworks.notifications.models import OutboxMessage
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context, context.new_page()


def sign_in(browser, live_server, user):
    context, page = new_page(browser, live_server)
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_a_clinic_gives_two_dates_through_its_emailed_link_and_the_agent_sees_them_offered(
    browser, live_server, insurer_user, booking_agent
):
    location = factories.make_location(
        partner=factories.make_partner(name="Walk-in Imaging"),
        name="Walk-in Imaging Queen",
        email="desk@walkin.example",
    )
    factories.make_offering(location=location, service_code="XRAY")
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )
    email = OutboxMessage.objects.get(template="clinic_ask")
    (url,) = re.findall(r"https?://\S+/links/clinic/\S+/", email.body)

    # The clinic's front desk opens the link from its inbox: no login.
    clinic_context, clinic = new_page(browser, live_server)
    clinic.goto(urlsplit(url).path)
    expect(clinic.get_by_test_id("request")).to_contain_text("Jean Tremblay")
    expect(clinic.get_by_test_id("request")).to_contain_text("X-ray")
    day1 = factories.slot_data(days=5)["starts_at"].date().isoformat()
    day2 = factories.slot_data(days=6)["starts_at"].date().isoformat()
    clinic.get_by_label("Date 1", exact=True).fill(day1)
    clinic.get_by_label("Time 1", exact=True).fill("09:30")
    clinic.get_by_label("Practitioner 1").fill("Dr. Roy")
    clinic.get_by_label("Date 2", exact=True).fill(day2)
    clinic.get_by_label("Time 2", exact=True).fill("14:00")
    clinic.get_by_role("button", name="Send these dates to the insurer").click()
    expect(clinic.get_by_role("heading", name="Thank you: your dates are sent")).to_be_visible()
    expect(clinic.get_by_text("2 dates sent to the insurer for approval.")).to_be_visible()

    # The agent sees the dates offered to the insurer, given by the clinic's link.
    agent_context, agent = sign_in(browser, live_server, booking_agent)
    agent.goto(f"/staff/bookings/{case.order_id}/")
    expect(agent.get_by_test_id("case-status")).to_have_text("Dates offered")
    expect(agent.get_by_test_id("offer")).to_contain_text("09:30")
    expect(agent.get_by_test_id("offer")).to_contain_text("14:00")
    expect(agent.get_by_test_id("timeline")).to_contain_text("Clinic, by email link")

    assert BookingRequest.objects.get(pk=case.pk).status == BookingStatus.DATES_OFFERED
    assert OfferSlot.objects.filter(offer__request=case).count() == 2
    clinic_context.close()
    agent_context.close()


def test_a_clinic_user_declines_in_its_portal_and_the_agent_sees_the_case_back_in_sourcing(
    browser, live_server, insurer_user, clinic_user, booking_agent
):
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    factories.make_offering(location=location, service_code="XRAY")
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )

    # The clinic finds the request on its home and says it cannot offer dates, and why.
    clinic_context, clinic = sign_in(browser, live_server, clinic_user)
    clinic.locator("#awaiting").get_by_role("link", name="Enter dates").click()
    expect(clinic.get_by_role("heading", name=case.order_id)).to_be_visible()
    expect(clinic.get_by_text("Cancel this request")).to_have_count(0)
    clinic.get_by_text("We cannot offer dates", exact=True).click()
    clinic.get_by_label("Reason").fill("Our radiologist is away until January.")
    clinic.get_by_role("button", name="Tell MedWorks we cannot offer dates").click()
    expect(
        clinic.get_by_text(f"{case.order_id}: MedWorks is told you cannot offer dates")
    ).to_be_visible()
    expect(clinic.locator("#awaiting")).not_to_contain_text(case.order_id)

    # The agent finds the case back in sourcing, the clinic marked as having declined.
    agent_context, agent = sign_in(browser, live_server, booking_agent)
    agent.goto(f"/staff/bookings/{case.order_id}/")
    expect(agent.get_by_test_id("case-status")).to_have_text("Sourcing")
    expect(agent.get_by_test_id("declines")).to_contain_text(
        "Harbour Clinic King West: declined on"
    )
    row = agent.get_by_test_id("matches").locator("tbody tr", has_text="Harbour Clinic King West")
    expect(row.get_by_test_id("declined")).to_contain_text("Our radiologist is away until January.")
    expect(agent.get_by_test_id("timeline")).to_contain_text("The clinic cannot offer dates")

    case.refresh_from_db()
    assert (case.status, case.location_id) == (BookingStatus.SOURCING, None)
    clinic_context.close()
    agent_context.close()
