"""Every case findable, in a real browser: an agent finds a cancelled case by the patient's
name (the name never in the address bar), and an insurer finds its own by policy number."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from medworks.bookings.services import booking_request_cancel
from tests import factories
from tests.factories import act

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_agent_and_an_insurer_find_a_cancelled_case(
    page, log_in, live_server, insurer_user, booking_agent
):
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_first_name="Éloïse",
        patient_last_name="Bouchard-Nguyen",
        policy_number="POL-4242",
    )
    booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="Claim withdrawn"
    )

    log_in(booking_agent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Work queue").click()
    page.get_by_role("link", name="Find a case").click()
    page.get_by_role("searchbox").fill("bouchard-nguyen")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_test_id("search-results").locator(f'tr[data-order-id="{case.order_id}"]')
    expect(row).to_contain_text("Éloïse Bouchard-Nguyen")
    expect(row).to_contain_text("Cancelled")
    assert "Bouchard" not in page.url
    row.get_by_role("link", name=case.order_id).click()
    expect(page.get_by_test_id("case-status")).to_have_text("Cancelled")

    page.context.clear_cookies()
    log_in(insurer_user)
    page.get_by_role("link", name="Search your cases").click()
    page.get_by_role("searchbox").fill("POL-4242")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("search-results")).to_contain_text(case.order_id)
