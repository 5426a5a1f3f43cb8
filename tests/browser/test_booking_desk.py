"""A booking agent finds a clinic; a coordinator changes a price: in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from medworks.network import geo
from tests import factories

# Transactional: the live server runs in another thread and must see committed data. The
# serialized rollback restores the seeded roles and service catalogue that a flush removes.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def clinic_at(postal_code: str, partner: str, *, service: str = "XRAY", price: str = "120"):
    point = geo.geocode(postal_code)
    location = factories.make_location(
        partner=factories.make_partner(name=partner),
        name=f"{partner} — {point.place}",
        postal_code=point.postal_code,
        province=point.province,
        city=point.place,
        latitude=point.latitude,
        longitude=point.longitude,
    )
    return factories.make_offering(location=location, service_code=service, price=price)


def test_a_booking_agent_finds_the_nearest_clinics_for_a_patient(page, log_in, booking_agent):
    clinic_at("L5B 1M2", "Mississauga Imaging")  # ~25 km from the patient
    clinic_at("M4W 1A5", "Yorkville X-ray")  # ~3 km
    clinic_at("K1P 1J1", "Ottawa Imaging")  # ~350 km: outside the hour
    clinic_at("M6P 1A1", "Junction Physio", service="PHYSIO")  # near, wrong service

    log_in(booking_agent)
    expect(page.get_by_role("heading", name="Back office")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a clinic").click()

    page.get_by_label("Patient's postal code").fill("m5v 3l9")
    page.get_by_role("combobox", name="Service", exact=True).select_option(label="X-ray")
    page.get_by_role("button", name="Find clinics").click()

    rows = page.get_by_test_id("matches").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Yorkville X-ray")
    expect(rows.nth(1)).to_contain_text("Mississauga Imaging")
    expect(rows.nth(2)).to_contain_text("Ottawa Imaging")
    expect(rows.nth(0)).to_contain_text("Within area")
    expect(rows.nth(1)).to_contain_text("Within area")
    expect(rows.nth(2)).to_contain_text("Outside area")
    expect(rows.nth(0)).to_contain_text("(approximate)")
    expect(page.get_by_test_id("escalate")).to_have_count(0)
    # htmx pushed a URL with the postal code and service only.
    assert "postal_code=M5V+3L9" in page.url and "service=XRAY" in page.url


def test_a_coordinator_changes_a_clinic_price_and_sees_it(page, log_in, coordinator):
    offering = clinic_at("M4W 1A5", "Yorkville X-ray", price="120.00")
    clinic_at("K1P 1J1", "Ottawa Imaging")

    log_in(coordinator)
    page.goto("/staff/partners/")
    page.get_by_label("Search").press_sequentially("yorkv")  # filters as you type, no submit
    table = page.locator("#partner-table")
    expect(table).not_to_contain_text("Ottawa Imaging")
    table.get_by_role("link", name="Yorkville X-ray").click()

    row = page.locator(f"#offering-{offering.pk}")
    expect(row.get_by_test_id("price")).to_have_text("$120.00")
    price = row.get_by_label("New clinic price for X-ray")
    price.fill("1,300.5")
    row.get_by_role("button", name="Save").click()

    row = page.locator(f"#offering-{offering.pk}")
    expect(row.get_by_test_id("price")).to_have_text("$1,300.50")
    expect(row.get_by_role("status")).to_have_text("Saved")

    page.reload()
    expect(page.locator(f"#offering-{offering.pk}").get_by_test_id("price")).to_have_text(
        "$1,300.50"
    )
    expect(page.get_by_text("X-ray at Yorkville X-ray — Toronto: 120.00 → 1300.50")).to_be_visible()
