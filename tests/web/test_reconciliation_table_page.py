"""The SOP's reconciliation table page (issue 12): the booking coordinator, finance, the Chief
of Staff and the CEO read it; the booking team, clinics and insurers do not. It filters by
insurer, provider, order dates and status, shows the filtered totals, pages by keyset with the
S.No running on, records the rows it shows as read, shows a bad filter's errors, and downloads
the same table as CSV and XLSX; it reads in French."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from medworks.accounts.models import RoleCode
from medworks.core.models import AuditEvent
from medworks.reconciliation.models import ReconciliationStatus
from medworks.reconciliation.selectors import TableFilter, table_page, table_totals
from medworks.reconciliation.services import reconciliation_refresh
from tests import factories
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.reconciliation.test_exports import SYSTEM, bulk_orders, expected_csv, read_csv

pytestmark = pytest.mark.django_db

PERSONAS = [
    "booking_agent",
    "coordinator",
    "finance_user",
    "chief",
    "ceo",
    "insurer_user",
    "clinic_user",
    "outsider",
]
READERS = {"coordinator", "finance_user", "chief", "ceo"}

# The route x persona table of the table page (tests/web/test_permissions.py reads its names):
# url name -> (kwargs, {method: personas allowed}).
RECONCILIATION_TABLE_ROUTES = {
    "reconciliation_table": ({}, {"get": READERS}),
    "reconciliation_export": ({"fmt": "csv"}, {"get": READERS}),
}
URL = "/staff/reconciliation/"


@pytest.fixture
def chief(db):
    return factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF], username="chief")


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo")


@pytest.fixture
def orders(booking_agent, finance_user):
    """Two orders of Maple Assist Insurance and one of Northern Life, booked at one clinic at
    120.00 (MedWorks 60.00, HST 23.40), each checked."""
    maple = make_insurer(finance_user, name="Maple Assist Insurance")
    northern = make_insurer(finance_user, name="Northern Life")
    location = clinic()
    cases = [
        ready_case(insurer=maple, location=location, agent=booking_agent),
        ready_case(insurer=maple, location=location, agent=booking_agent),
        ready_case(insurer=northern, location=location, agent=booking_agent),
    ]
    for case in cases:
        reconciliation_refresh(case=case, actor=SYSTEM)
    return {"maple": maple, "northern": northern, "cases": cases, "location": location}


def _text(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", html.unescape(response.content.decode()))


def _numbers(response) -> list[int]:
    return [
        int(n) for n in re.findall(r'data-testid="row-number">(\d+)<', response.content.decode())
    ]


def _orders(response) -> list[str]:
    return re.findall(r'data-testid="row-order">([^<]+)<', response.content.decode())


# --- who may read it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "persona"),
    [(name, persona) for name in RECONCILIATION_TABLE_ROUTES for persona in PERSONAS],
)
def test_each_route_admits_only_the_readers_of_the_table(client, request, orders, name, persona):
    kwargs, methods = RECONCILIATION_TABLE_ROUTES[name]
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(f"web:{name}", kwargs=kwargs))

    if persona in methods["get"]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert not AuditEvent.objects.filter(
            action__in=["booking_request.listed", "reconciliation.exported"]
        ).exists()


@pytest.mark.parametrize("name", list(RECONCILIATION_TABLE_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in(client, name):
    kwargs, _methods = RECONCILIATION_TABLE_ROUTES[name]
    response = client.get(reverse(f"web:{name}", kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_the_nav_links_the_table_for_its_readers_only(client, coordinator, booking_agent):
    client.force_login(coordinator)
    page = client.get(URL).content.decode()
    assert re.search(r'href="/staff/reconciliation/"\s+aria-current="page"', page)
    client.force_login(booking_agent)
    assert 'href="/staff/reconciliation/"' not in client.get("/staff/").content.decode()


# --- the table ------------------------------------------------------------------------------


def test_the_coordinator_sees_the_sops_columns_figures_and_totals(client, coordinator, orders):
    client.force_login(coordinator)

    response = client.get(URL)
    text = _text(response)

    assert response.status_code == 200
    for heading in [
        "S.No",
        "Order Id",
        "Patient's Name",
        "Service Requested",
        "Order Date",
        "Appointment Date",
        "Appointment Location, Clinic",
        "Clinic Cost (for credit card payment)",
        "MedWorks Cost",
        "Total Cost to bill the insurer (Clinic Cost + MedWorks Cost)",
        "Tax",
        "Total with tax",
        "Payment method",
        "Reconciliation status",
        "Insurer",
    ]:
        assert f">{heading}</th>" in text, heading
    # Newest order first; each links to its case and to its reconciliation.
    newest = orders["cases"][2]
    assert _orders(response) == [c.order_id for c in reversed(orders["cases"])]
    assert _numbers(response) == [1, 2, 3]
    assert reverse("web:staff_booking_detail", kwargs={"order_id": newest.order_id}) in text
    assert reverse("web:reconciliation_case", kwargs={"order_id": newest.order_id}) in text
    assert "Jean Tremblay" in text and "Direct billing" in text and "Northern Life" in text
    assert "$120.00" in text and "$203.40" in text
    totals = re.search(r'data-testid="reconciliation-totals">(.*?)</tr>', text).group(1)
    assert "$360.00" in totals  # 3 x 120.00
    assert "$540.00" in totals  # 3 x 180.00
    assert "$610.20" in totals  # 3 x 203.40
    assert "3 orders" in text


@pytest.mark.parametrize("persona", ["finance_user", "chief", "ceo"])
def test_finance_and_the_executives_read_the_table_too(client, request, orders, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    assert len(_orders(response)) == 3


def test_the_rows_shown_are_recorded_as_read(client, coordinator, orders):
    client.force_login(coordinator)

    client.get(URL, {"insurer": orders["maple"].pk}, REMOTE_ADDR="10.1.2.3")

    listed = AuditEvent.objects.filter(action="booking_request.listed")
    assert sorted(e.object_id for e in listed) == sorted(str(c.pk) for c in orders["cases"][:2])
    assert {(e.actor_id, e.payload["list"], e.payload["origin"]) for e in listed} == {
        (coordinator.pk, "reconciliation table", "10.1.2.3")
    }
    assert {e.payload["patient_id"] for e in listed} == {c.patient_id for c in orders["cases"][:2]}


def test_the_filters_narrow_the_rows_and_the_totals(client, coordinator, orders):
    client.force_login(coordinator)
    bulk_orders(4, insurer=orders["northern"], start=timezone.localdate() - dt.timedelta(days=90))

    by_insurer = client.get(URL, {"insurer": orders["maple"].pk})
    by_provider = client.get(URL, {"provider": orders["location"].partner_id})
    today = timezone.localdate().isoformat()
    by_dates = client.get(URL, {"date_from": today, "date_to": today})
    old = client.get(URL, {"date_to": (timezone.localdate() - dt.timedelta(days=60)).isoformat()})
    by_status = client.get(URL, {"status": ReconciliationStatus.RECONCILED})

    assert _orders(by_insurer) == [c.order_id for c in reversed(orders["cases"][:2])]
    assert "2 orders" in _text(by_insurer)
    assert "$240.00" in _text(by_insurer)  # the two clinic costs
    assert sorted(_orders(by_provider)) == sorted(c.order_id for c in orders["cases"])
    assert sorted(_orders(by_dates)) == sorted(c.order_id for c in orders["cases"])
    assert len(_orders(old)) == 4
    assert all(o.startswith("MW-2099-") for o in _orders(old))
    expected = table_page(TableFilter(status=ReconciliationStatus.RECONCILED)).rows
    assert _orders(by_status) == [r.order_id for r in expected]
    # The export links carry the filters.
    assert f"export.csv?insurer={orders['maple'].pk}" in by_insurer.content.decode()


def test_the_next_page_continues_the_table_and_its_numbers(client, coordinator, orders):
    client.force_login(coordinator)
    bulk_orders(60, insurer=orders["maple"], start=timezone.localdate() - dt.timedelta(days=1))
    where = TableFilter(insurer_id=orders["maple"].pk)

    first = client.get(URL, {"insurer": orders["maple"].pk})
    link = re.search(r'data-testid="next-page"', first.content.decode())
    href = re.search(r'href="\?([^"]+)" data-testid="next-page"', first.content.decode()).group(1)
    second = client.get(URL + "?" + href.replace("&amp;", "&"))

    assert link
    assert _numbers(first) == list(range(1, 51))
    assert _numbers(second) == list(range(51, 63))
    assert f"insurer={orders['maple'].pk}" in href and "after=" in href
    page_two = table_page(where, after=table_page(where).next_cursor)
    assert _orders(second) == [r.order_id for r in page_two.rows]
    assert 'data-testid="next-page"' not in second.content.decode()
    assert 'data-testid="first-page"' in second.content.decode()
    assert set(_orders(first)).isdisjoint(_orders(second))
    # The totals are the filter's, on every page.
    totals = table_totals(where)
    assert f"{totals.orders} orders" in _text(second)


def test_the_page_costs_the_same_queries_at_any_size(client, coordinator, orders):
    client.force_login(coordinator)
    client.get(URL)  # the session and the permissions read once
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    bulk_orders(120, insurer=orders["maple"])
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL)

    assert len(_orders(response)) == 50
    assert len(large) == len(small)


def test_a_bad_cursor_starts_the_table_over(client, coordinator, orders):
    client.force_login(coordinator)
    response = client.get(URL, {"after": "not-a-cursor"})
    assert response.status_code == 200
    assert _numbers(response) == [1, 2, 3]


def test_bad_filters_show_the_fields_errors_with_status_400(client, coordinator, orders):
    client.force_login(coordinator)

    response = client.get(
        URL, {"date_from": "2026-12-01", "date_to": "2026-11-01", "status": "lost"}
    )
    text = _text(response)

    assert response.status_code == 400
    assert "The end date is before the start date (2026-12-01)." in text
    assert "Select a valid choice." in text
    assert "Please correct the fields marked below." in text
    assert 'data-testid="reconciliation-table"' not in text
    assert not AuditEvent.objects.filter(action="booking_request.listed").exists()


def test_an_export_with_bad_filters_shows_the_errors_and_writes_nothing(
    client, coordinator, orders
):
    client.force_login(coordinator)

    response = client.get(reverse("web:reconciliation_export", args=["csv"]), {"date_from": "soon"})

    assert response.status_code == 400
    assert "Enter a valid date." in _text(response)
    assert not AuditEvent.objects.filter(action="reconciliation.exported").exists()


def test_an_unknown_export_format_is_not_found(client, coordinator):
    client.force_login(coordinator)
    assert client.get("/staff/reconciliation/export.pdf").status_code == 404


# --- downloads --------------------------------------------------------------------------------


def test_the_csv_download_is_the_filtered_table(client, coordinator, orders):
    client.force_login(coordinator)

    response = client.get(
        reverse("web:reconciliation_export", args=["csv"]), {"insurer": orders["maple"].pk}
    )
    written = read_csv(b"".join(response.streaming_content).decode("utf-8"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="reconciliation-{day}.csv"'
    where = TableFilter(insurer_id=orders["maple"].pk)
    assert written[1:] == [expected_csv(row) for row in table_page(where).rows]
    exported = AuditEvent.objects.get(action="reconciliation.exported")
    assert (exported.actor_id, exported.payload["format"], exported.payload["rows"]) == (
        coordinator.pk,
        "csv",
        2,
    )
    assert exported.payload["filters"]["insurer_id"] == orders["maple"].pk


def test_the_xlsx_download_is_the_table_with_its_totals(client, finance_user, orders):
    client.force_login(finance_user)

    response = client.get(reverse("web:reconciliation_export", args=["xlsx"]))
    body = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    day = timezone.localdate().isoformat()
    assert f'filename="reconciliation-{day}.xlsx"' in response["Content-Disposition"]
    assert [r[1] for r in rows[1:-1]] == [c.order_id for c in reversed(orders["cases"])]
    assert rows[-1][0] == "Total"
    assert round(rows[-1][7], 2) == 360.00
    listed = AuditEvent.objects.filter(action="booking_request.listed")
    assert {e.payload["list"] for e in listed} == {"reconciliation export xlsx"}
    assert listed.count() == 3


# --- in French -------------------------------------------------------------------------------


def test_the_page_and_its_export_read_in_french(client, coordinator, orders):
    coordinator.preferred_language = "fr"
    coordinator.save(update_fields=["preferred_language"])
    client.force_login(coordinator)
    client.cookies["django_language"] = "fr"

    text = _text(client.get(URL, HTTP_ACCEPT_LANGUAGE="fr"))
    response = client.get(
        reverse("web:reconciliation_export", args=["csv"]), HTTP_ACCEPT_LANGUAGE="fr"
    )
    headings = next(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))

    assert "Tableau de rapprochement" in text
    assert "N° de demande" in text
    assert "Nom du patient" in text
    assert "120,00 $" in text
    assert "Facturation directe" in text
    assert "Page suivante" not in text  # one page only
    assert headings[:3] == ["N°", "N° de demande", "Nom du patient"]
