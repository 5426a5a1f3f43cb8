"""The management dashboard page: management, the Chief of Staff, the CEO and finance read it;
the booking team, clinics and insurers do not. Its charts are inline SVG with no script and
nothing fetched from elsewhere, each beside a table of its numbers; it reads in French."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.bookings.models import BookingStatus
from tests import factories
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case

pytestmark = pytest.mark.django_db

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "manager",
    "chief",
    "ceo",
    "insurer_user",
    "clinic_user",
    "outsider",
]
READERS = {"finance_user", "manager", "chief", "ceo"}

# The route x persona table of the dashboard (tests/web/test_permissions.py reads its names).
DASHBOARD_ROUTES = {"dashboard": (None, {"get": READERS})}

URL = "/staff/dashboard/"
# What an SVG may name: its XML namespaces, never a resource to fetch.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


@pytest.fixture
def chief(db):
    return factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF], username="chief")


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo")


@pytest.fixture
def invoiced(finance_user, booking_agent):
    """An X-ray case of Maple Assist Insurance invoiced today: 180.00 before tax, fee 60.00."""
    insurer = make_insurer(finance_user, name="Maple Assist Insurance")
    case = ready_case(
        insurer=insurer, location=clinic(prices={"XRAY": "120.00"}), agent=booking_agent
    )
    return issued_invoice(case=case, finance_user=finance_user)


def _text(response) -> str:
    """The page's words as read, charts left out (their labels repeat the tables')."""
    page = re.sub(r"<svg\b.*?</svg>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"[\s\u00a0\u202f]+", " ", re.sub(r"<[^>]+>", " ", page)).strip()


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def test_the_route_is_named_as_the_table_says():
    assert reverse("web:dashboard") == URL


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_management_and_finance_read_the_dashboard(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == (200 if persona in READERS else 403)


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("web:login") in response["Location"]


def test_the_dashboard_is_read_only(client, finance_user):
    client.force_login(finance_user)
    assert client.post(URL).status_code == 405


@pytest.mark.parametrize("persona", ["finance_user", "ceo", "manager"])
def test_the_charts_are_inline_svg_without_script_or_anything_fetched(
    client, request, invoiced, persona
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    page = response.content.decode()

    svgs = _svgs(page)
    assert len(svgs) == 7
    for svg in svgs:
        assert "<script" not in svg
        assert "<style" not in svg  # the site's CSP forbids inline style: attributes instead
        assert " style=" not in svg
        assert re.search(r"<title id=\"[^\"]+\">[^<]+</title><desc id=", svg)
        assert 'role="img"' in svg
        assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) <= NAMESPACES
    # The page's one script is the site's own htmx, and nothing comes from a CDN.
    assert re.findall(r"<script[^>]*>", page) == [
        f'<script src="{_static("web/htmx.min.js")}" defer>'
    ]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.replace(_footer_links(page), ""))
    # Each chart has its table beside it.
    assert page.count("<table") == 7 - 1  # time to booking and escalations share one table
    assert 'scope="row"' in page and 'scope="col"' in page


def test_the_tables_show_the_figures(client, finance_user, invoiced):
    client.force_login(finance_user)
    text = _text(client.get(URL))

    assert "Maple Assist Insurance $180.00 $60.00" in text
    # Receivable: the invoice's total with HST, not yet due.
    assert "Receivables (insurers owe) $203.40 $0.00" in text
    case = invoiced.lines.get().case
    case.refresh_from_db()
    assert f"{BookingStatus(case.status).label} 1" in text
    assert "Cancelled 0" in text  # every state is listed, zeros included
    # This month: one request, none escalated, one booked (the month's row).
    month = timezone.localdate().strftime("%b %Y")
    assert re.search(rf"{month} 1 0 0\.0 1 \d+\.\d", text)
    assert "Insurers' unapplied credit, not deducted above: $0.00." in text


def test_no_patient_is_named_on_the_dashboard(client, finance_user, invoiced):
    client.force_login(finance_user)
    page = client.get(URL).content.decode()
    case = invoiced.lines.get().case
    assert case.patient.last_name not in page
    assert case.order_id not in page


def test_the_dashboard_reads_in_french(client, finance_user, invoiced):
    finance_user.preferred_language = "fr"
    finance_user.save(update_fields=["preferred_language"])
    client.force_login(finance_user)
    client.cookies["django_language"] = "fr"

    response = client.get(URL)
    assert response["Content-Language"] == "fr"
    text = _text(response)
    assert "Tableau de bord" in text
    assert "Demandes par état" in text
    assert "Revenus et marge par assureur" in text
    assert "Maple Assist Insurance 180,00 $ 60,00 $" in text
    svgs = "".join(_svgs(response.content.decode()))
    assert "Demandes par état" in svgs


def test_the_nav_links_the_dashboard_for_its_readers_only(client, finance_user, booking_agent):
    client.force_login(finance_user)
    assert f'href="{URL}"' in client.get(reverse("web:staff_home")).content.decode()
    client.force_login(booking_agent)
    assert f'href="{URL}"' not in client.get(reverse("web:staff_home")).content.decode()


def _static(path: str) -> str:
    from django.templatetags.static import static

    return static(path)


def _footer_links(page: str) -> str:
    """The footer's attribution (GeoNames, CC BY): links a person follows, nothing fetched."""
    found = re.search(r"<footer.*?</footer>", page, flags=re.S)
    return found.group(0) if found else ""
