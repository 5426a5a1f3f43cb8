"""Two-step sign-in in a real browser: a staff member who must have a second factor sets up an
app from the QR page at their first sign-in, keeps the recovery codes, and the next time signs
in with the password and then the app's code."""

from __future__ import annotations

import os
import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from medworks.accounts.models import RoleCode
from tests import factories
from tests.otp import app_code

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("MEDWORKS_SCREENSHOTS_DIR")  # set to look at the pages while developing


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_staff_member_sets_up_an_app_then_signs_in_with_its_code(page, log_in, settings):
    settings.MEDWORKS_STAFF_REQUIRE_2FA = True
    agent = factories.make_user(roles=[RoleCode.BOOKING_AGENT], username="agent2fa")

    menu = page.locator("nav.mainnav")

    # First sign-in: the password, then straight to setting up an app.
    log_in(agent)
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    qr = page.get_by_test_id("qr-code")
    expect(qr).to_be_visible()
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 100  # the SVG is drawn, not broken
    _shot(page, "two-factor-enrol")
    key = page.get_by_test_id("setup-key").inner_text().replace(" ", "")
    # The phone: the key typed in by hand, as the page offers.
    code = f"{TOTP(b32decode(key + '=' * (-len(key) % 8))).token():06d}"
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Turn on two-step sign-in").click()

    codes = page.get_by_test_id("recovery-codes").locator("li")
    expect(codes).to_have_count(10)
    assert re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", codes.first.inner_text().strip())
    _shot(page, "two-factor-recovery-codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(menu.get_by_role("link", name="Work queue")).to_be_visible()

    # Next time: the password, then the app's code, then the back office.
    page.get_by_role("button", name="Sign out").click()
    log_in(agent)
    expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    expect(menu.get_by_role("link", name="Work queue")).to_have_count(0)
    _shot(page, "two-factor-verify")
    device = TOTPDevice.objects.get(user=agent, confirmed=True)
    page.get_by_label("Code").fill(app_code(device))
    page.get_by_role("button", name="Verify").click()
    expect(menu.get_by_role("link", name="Work queue")).to_be_visible()
    assert page.url.endswith("/staff/")
