"""The API docs page (Swagger UI, served by the app itself) works under the app's strict
Content-Security-Policy: a signed-in booking agent sees every operation, and the browser
reports no violation of the policy and no error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from medworks.api.v1 import api
from medworks.web.security import CONTENT_SECURITY_POLICY

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Installed before any of the page's scripts: the browser tells the page of each refusal.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def _operation_count() -> int:
    return sum(
        1
        for item in api.get_openapi_schema()["paths"].values()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    )


def test_a_booking_agent_reads_the_api_docs_under_the_strict_policy(
    page, live_server, log_in, booking_agent
):
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(booking_agent)

    response = page.goto("/api/v1/docs")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    expect(page.get_by_text("MedWorks Booking Desk API")).to_be_visible()
    expect(page.get_by_text("Submit a booking request")).to_be_visible()
    expect(page.locator(".opblock")).to_have_count(_operation_count())

    # Open one operation: its error answers are listed with the one error schema.
    page.get_by_text("Submit a booking request").click()
    expect(page.locator(".responses-table").get_by_text("413", exact=True)).to_be_visible()

    assert page.evaluate("window.cspViolations") == []
    assert console_errors == []
    assert not [url for url in outside if not url.startswith(("data:", "blob:"))]
