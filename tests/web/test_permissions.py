"""Every route, every persona: who gets in, who gets the 403 page, who is sent to log in.

The table is the specification; `test_every_route_is_in_the_table` keeps it complete.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from medworks.core.models import AuditEvent
from tests.webhooks.test_pages import WEBHOOK_ROUTES

from .test_card_pages import CARD_ROUTES
from .test_dashboard_page import DASHBOARD_ROUTES
from .test_documents_permissions import DOCUMENT_ROUTES
from .test_eft_pages import EFT_ROUTES
from .test_insurer_settings import INSURER_SETTINGS_ROUTES
from .test_invoice_pages import INVOICE_ROUTES
from .test_payables_pages import PAYABLES_ROUTES
from .test_payment_request_pages import PAYMENT_ROUTES
from .test_privacy_pages import PRIVACY_ROUTES
from .test_reconciliation_pages import RECONCILIATION_ROUTES
from .test_reconciliation_table_page import RECONCILIATION_TABLE_ROUTES
from .test_staff_bookings import STAFF_BOOKING_ROUTES
from .test_tax_rate_pages import TAX_RATE_ROUTES

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "insurer_user",
    "clinic_user",
    "outsider",
]
STAFF_READERS = {"booking_agent", "coordinator", "finance_user"}
EDITORS = {"coordinator"}
MATCHERS = {"booking_agent", "coordinator"}
KEY_MANAGERS = {"coordinator"}  # API_KEYS_MANAGE: the directory editors, not the agents

# (url name, kwargs from the directory fixture, method, personas allowed)
ROUTES = [
    ("portal_home", None, "get", {"insurer_user"}),
    ("clinic_home", None, "get", {"clinic_user"}),
    ("clinic_prices", None, "get", {"clinic_user"}),
    ("staff_home", None, "get", STAFF_READERS),
    ("partner_list", None, "get", STAFF_READERS),
    ("partner_create", None, "get", EDITORS),
    ("partner_create", None, "post", EDITORS),
    ("escalation_queue", None, "get", STAFF_READERS),
    ("staff_booking_search", None, "get", STAFF_READERS),
    ("staff_booking_search", None, "post", STAFF_READERS),
    ("portal_search", None, "get", {"insurer_user"}),
    ("portal_search", None, "post", {"insurer_user"}),
    ("portal_invoices", None, "get", {"insurer_user"}),
    ("portal_statement_pdf", None, "get", {"insurer_user"}),
    ("partner_detail", "partner", "get", STAFF_READERS),
    ("partner_edit", "partner", "get", EDITORS),
    ("partner_edit", "partner", "post", EDITORS),
    ("partner_set_active", "partner", "post", EDITORS),
    ("location_create", "partner", "get", EDITORS),
    ("location_create", "partner", "post", EDITORS),
    ("location_edit", "location", "get", EDITORS),
    ("location_edit", "location", "post", EDITORS),
    ("offering_add", "location", "get", EDITORS),
    ("offering_add", "location", "post", EDITORS),
    ("offering_price", "offering", "get", EDITORS),
    ("offering_price", "offering", "post", EDITORS),
    ("offering_set_active", "offering", "post", EDITORS),
    ("find_clinic", None, "get", MATCHERS),
    ("find_clinic", None, "post", MATCHERS),
    ("directory_import", None, "get", EDITORS),
    ("directory_import", None, "post", EDITORS),
    ("directory_export", None, "get", EDITORS),
    ("api_keys", None, "get", KEY_MANAGERS),
    ("api_key_create", None, "get", KEY_MANAGERS),
    ("api_key_create", None, "post", KEY_MANAGERS),
    ("api_key_revoke", None, "post", KEY_MANAGERS),
]

# Data a refused POST would have written if the check were missing.
POST_DATA = {
    "partner_edit": {"name": "Renamed", "kind": "network", "is_active": "on"},
    "partner_create": {"name": "Brand New Clinic", "kind": "individual", "is_active": "on"},
    "partner_set_active": {"active": "no"},
    "location_create": {"name": "New", "province": "ON", "postal_code": "M5V 3L9"},
    "location_edit": {"name": "Renamed", "province": "ON", "postal_code": "M5V 3L9"},
    "offering_add": {"service": "MRI", "price": "900"},
    "offering_price": {"price": "1"},
    "offering_set_active": {"active": "no"},
    "find_clinic": {"where": "M5V 3L9", "service": "XRAY", "max_minutes": "60"},
    "directory_import": {},
}
# offer_link: the signed one-click email link, no login by design (tests/web/test_offer_links.py).
# language_set is for anyone (the header switch); profile for anyone signed in (their own).
PUBLIC = {"login", "logout", "home", "offer_link", "quote_link", "language_set", "profile"}
# clinic_link: the clinic's signed link to give dates (tests/web/test_clinic_signed_link.py).
PUBLIC |= {"clinic_link"}
# Two-step sign-in: each person's own, for anyone signed in (tests/web/test_two_factor_pages.py).
PUBLIC |= {
    "two_factor_verify",
    "two_factor",
    "two_factor_enrol",
    "two_factor_recovery_codes",
    "two_factor_disable",
}
# Portal booking routes need a case, not the directory: their route x persona tables are in
# tests/web/test_portal_bookings.py and tests/web/test_clinic_bookings.py.
PORTAL_BOOKING_ROUTES = {
    "portal_request_new",
    "portal_request",
    "portal_request_approve",
    "portal_request_decline",
    "portal_request_cancel",
    "portal_request_calendar",
    "portal_quote_confirm",
    "portal_quote_dispute",
    # One invoice and its PDF need an issued invoice: tests/web/test_portal_invoices.py.
    "portal_invoice",
    "portal_invoice_pdf",
    "clinic_request",
    "clinic_request_dates",
    "clinic_request_outcome",
    "clinic_request_decline",
    "clinic_request_ask",
    "clinic_request_calendar",
}


def _url(directory, name, target):
    if target is None:
        return reverse(f"web:{name}")
    obj = getattr(directory, target)
    return reverse(f"web:{name}", args=[obj.pk])


CASES = [
    pytest.param(name, target, method, persona, persona in allowed, id=f"{method}-{name}-{persona}")
    for name, target, method, allowed in ROUTES
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "target", "method", "persona", "allowed"), CASES)
def test_each_route_admits_only_the_roles_that_hold_its_capability(
    client, directory, request, name, target, method, persona, allowed
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    url = _url(directory, name, target)
    events_before = AuditEvent.objects.count()

    if method == "post":
        if allowed:
            return  # what an allowed POST does is tested with its feature
        response = client.post(url, POST_DATA.get(name, {}))
    else:
        response = client.get(url)

    if allowed:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == 403
        assert b"You can't open this page" in response.content
        assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("name", "target", "method"),
    [(name, target, method) for name, target, method, _ in ROUTES],
    ids=[f"{m}-{n}" for n, _, m, _ in ROUTES],
)
def test_an_anonymous_visitor_is_sent_to_log_in(client, directory, name, target, method):
    url = _url(directory, name, target)
    response = getattr(client, method)(url, POST_DATA.get(name, {}) if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_every_route_is_in_the_table_and_guarded_by_a_capability():
    patterns = get_resolver("medworks.web.urls").url_patterns
    names = {p.name for p in patterns}
    # Staff booking routes have their own table (tests/web/test_staff_bookings.py).
    staff_booking = set(STAFF_BOOKING_ROUTES)
    # Paperwork routes too (tests/web/test_documents_permissions.py).
    routed = names - PUBLIC - PORTAL_BOOKING_ROUTES - staff_booking - set(DOCUMENT_ROUTES)
    # Finance's settings too (tests/web/test_insurer_settings.py, test_tax_rate_pages.py).
    routed -= set(INSURER_SETTINGS_ROUTES) | set(TAX_RATE_ROUTES)
    routed -= set(INVOICE_ROUTES)  # finance's invoicing (tests/web/test_invoice_pages.py)
    routed -= set(PAYABLES_ROUTES)  # providers' invoices (tests/web/test_payables_pages.py)
    routed -= set(PAYMENT_ROUTES)  # pre-payments (tests/web/test_payment_request_pages.py)
    routed -= set(PRIVACY_ROUTES)  # the privacy office (tests/web/test_privacy_pages.py)
    routed -= set(EFT_ROUTES)  # EFT: bank accounts and files (tests/web/test_eft_pages.py)
    routed -= set(CARD_ROUTES)  # the insurer's card (tests/web/test_card_pages.py)
    routed -= set(WEBHOOK_ROUTES)  # webhook endpoints (tests/webhooks/test_pages.py)
    routed -= set(DASHBOARD_ROUTES)  # the management dashboard (tests/web/test_dashboard_page.py)
    routed -= set(RECONCILIATION_ROUTES)  # queue, checks, months (test_reconciliation_pages.py)
    routed -= set(RECONCILIATION_TABLE_ROUTES)  # the SOP table (test_reconciliation_table_page)
    assert routed == {name for name, *_ in ROUTES}
    for pattern in patterns:
        if pattern.name not in PUBLIC:
            assert hasattr(pattern.callback, "required_capability"), pattern.name


def test_edit_buttons_are_hidden_from_a_booking_agent(client, booking_agent, directory):
    client.force_login(booking_agent)
    page = client.get(reverse("web:partner_detail", args=[directory.partner.pk])).content.decode()
    assert "Edit partner" not in page
    assert "Add location" not in page
    assert reverse("web:offering_price", args=[directory.offering.pk]) not in page
    assert "$1,250.00" in page


def test_edit_buttons_are_shown_to_a_coordinator(client, coordinator, directory):
    client.force_login(coordinator)
    page = client.get(reverse("web:partner_detail", args=[directory.partner.pk])).content.decode()
    assert "Edit partner" in page
    assert reverse("web:offering_price", args=[directory.offering.pk]) in page


@pytest.mark.parametrize(
    ("persona", "nav_items", "hidden"),
    [
        ("booking_agent", ["Directory", "Find a clinic"], ["Import"]),
        ("coordinator", ["Directory", "Find a clinic", "Import"], []),
        ("finance_user", ["Directory"], ["Find a clinic", "Import"]),
    ],
)
def test_the_navigation_offers_only_what_the_user_can_do(
    client, db, request, persona, nav_items, hidden
):
    client.force_login(request.getfixturevalue(persona))
    page = client.get(reverse("web:staff_home")).content.decode()
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for item in nav_items:
        assert f">{item}</a>" in nav
    for item in hidden:
        assert f">{item}</a>" not in nav
