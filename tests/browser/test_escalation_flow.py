"""An escalation in a real browser (SOP "Escalation to Management", case 2): an agent takes a
case in Iqaluit, where no affiliate is reachable by road, and the desk escalates it; a manager
takes it from management's queue and records the provider found; the agent records the
provider's dates; the insurer cannot approve one before confirming the charges, confirms them
in its portal, then approves the date."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from medworks.accounts.models import RoleCode
from medworks.billing.models import Quote, QuoteStatus
from medworks.bookings.models import BookingStatus
from medworks.network.models import AffiliatePartner
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


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


def test_an_escalated_case_is_finished_by_management_and_confirmed_by_the_insurer(
    browser, live_server, insurer_user, booking_agent
):
    manager = factories.make_user(
        roles=[RoleCode.SENIOR_MANAGER], username="senior", email="senior@medworks.test"
    )
    ottawa = factories.make_location(postal_code="K1P 1J1", latitude=45.4215, longitude=-75.6972)
    factories.make_offering(location=ottawa, service_code="XRAY")
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_postal_code="X0A 0H0",
        patient_city="Iqaluit",
        patient_province="NU",
    )
    _agent_context, agent = sign_in(browser, live_server, booking_agent)
    _manager_context, boss = sign_in(browser, live_server, manager)
    _insurer_context, insurer = sign_in(browser, live_server, insurer_user)

    # The agent takes the case: no affiliate in the area, so the desk escalates it.
    agent.goto(f"/staff/bookings/{case.order_id}/")
    agent.get_by_role("button", name="Take").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Escalated")
    expect(agent.get_by_test_id("timeline")).to_contain_text("Matching found no affiliate")

    # The manager finds it in management's queue and takes it.
    boss.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").click()
    row = boss.locator(f'tr[data-order-id="{case.order_id}"]')
    expect(row.get_by_test_id("escalation-owner")).to_have_text("Nobody yet")
    row.get_by_role("button", name="Take").click()
    expect(boss.get_by_test_id("escalation").get_by_test_id("escalation-owner")).to_have_text(
        "senior"
    )

    # ... and records the provider found, which is chosen for the case.
    boss.get_by_text("Record the provider found").click()
    form = boss.get_by_test_id("provider-form")
    form.get_by_label("Provider name").fill("Qikiqtani Medical Imaging")
    form.get_by_label("Address").fill("1091 Niaqunngusiariaq")
    form.get_by_label("City").fill("Iqaluit")
    form.get_by_label("Province").select_option("NU")
    form.get_by_label("Postal code").fill("X0A 0H0")
    form.get_by_label("Phone").fill("867-555-0142")
    form.get_by_label("E-mail").fill("bookings@qikiqtani-imaging.example")
    form.get_by_label(re.compile("Clinic price")).fill("180.00")
    form.get_by_label("Card").check()
    form.get_by_label("EFT").check()
    form.get_by_role("button", name="Add the provider and choose it").click()
    expect(boss.get_by_test_id("case-status")).to_have_text("Awaiting dates")
    assert AffiliatePartner.objects.get(name="Qikiqtani Medical Imaging").is_affiliate is False

    # The agent records the provider's date.
    agent.reload()
    agent.get_by_label("Date 1", exact=True).fill(
        factories.slot_data(days=5)["starts_at"].date().isoformat()
    )
    agent.get_by_label("Time 1", exact=True).fill("10:00")
    agent.get_by_role("button", name="Send these dates to the insurer").click()
    expect(agent.get_by_test_id("case-status")).to_have_text("Dates offered")

    # The insurer must confirm the charges before the date can be approved.
    insurer.goto(f"/portal/requests/{case.order_id}/")
    expect(insurer.get_by_test_id("approve-waits")).to_contain_text("must confirm the charges")
    expect(insurer.get_by_role("button", name="Approve this date")).to_have_count(0)
    expect(insurer.get_by_test_id("quote")).to_contain_text("283.50")  # 180 + 90 fee + 5% GST

    insurer.get_by_role("button", name="Confirm these charges").click()
    expect(insurer.get_by_test_id("approve-waits")).to_have_count(0)
    assert Quote.objects.get(case=case).status == QuoteStatus.CONFIRMED
    insurer.get_by_role("button", name="Approve this date").first.click()
    expect(insurer.get_by_text("Booked for")).to_be_visible()
    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED
