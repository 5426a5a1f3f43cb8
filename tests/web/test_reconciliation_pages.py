"""The coordinator's reconciliation pages and finance's months (SOP case 4 step 6): the queue
with its discrepancies first and their amounts, an order's four checks evaluated now, reconciling
(a note for a discrepancy) and reopening (a reason), and finance closing and reopening a month.
The coordinator, finance, the Chief of Staff and the CEO read them; nobody else."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.bookings.models import BookingStatus
from medworks.core.audit import AuditEvent
from medworks.reconciliation.models import (
    MonthStatus,
    Reconciliation,
    ReconciliationMonth,
    ReconciliationStatus,
)
from medworks.reconciliation.services import (
    month_close,
    reconciliation_reconcile,
    reconciliation_refresh,
)
from tests import factories
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.factories import act
from tests.reconciliation.world import (
    in_past_month,
    insurer_invoiced,
    provider_invoice,
    provider_paid,
)
from tests.test_translations import _english_words

pytestmark = pytest.mark.django_db

R = ReconciliationStatus

PERSONAS = [
    "coordinator",
    "finance_user",
    "ceo",
    "booking_agent",
    "clinic_user",
    "insurer_user",
]
READERS = {"coordinator", "finance_user", "ceo"}

# The route x persona table of the reconciliation pages (tests/web/test_permissions.py reads
# its names): url name -> (target, {method: personas the view admits}). Targets: "case" (an
# Order Id), "month" (YYYY-MM), none. A POST admitted by the view is then decided by the use
# case (the coordinator reconciles, finance closes months): tested below.
RECONCILIATION_ROUTES = {
    "reconciliation_queue": (None, {"get": READERS}),
    "reconciliation_case": ("case", {"get": READERS}),
    "reconciliation_check": ("case", {"post": READERS}),
    "reconciliation_reconcile": ("case", {"post": READERS}),
    "reconciliation_reopen": ("case", {"post": READERS}),
    "reconciliation_months": (None, {"get": READERS}),
    "reconciliation_month_close": ("month", {"post": READERS}),
    "reconciliation_month_reopen": ("month", {"post": READERS}),
}


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


@pytest.fixture
def case(finance_user, booking_agent):
    """A direct-billing order ready for billing: clinic cost 120.00, MedWorks 60.00, HST."""
    insurer = make_insurer(finance_user, name="Maple Assist Insurance")
    return ready_case(insurer=insurer, location=clinic(), agent=booking_agent)


def _text(response) -> str:
    """The page's text as read: tags gone, spaces plain."""
    text = re.sub(r"(?s)<[^>]+>", " ", response.content.decode())
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _previous_month_key() -> str:
    first = timezone.localdate().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


def _url(name, target, *, case, month=None):
    if target is None:
        return reverse(f"web:{name}")
    if target == "case":
        return reverse(f"web:{name}", args=[case.order_id])
    return reverse(f"web:{name}", args=[month or _previous_month_key()])


def _discrepancy(case, booking_agent, finance_user, *, amount="130.00", tax="16.90"):
    """The provider billed more than agreed (approved and paid with a note), the insurer paid
    in full: every check settled but the provider's invoice, in discrepancy."""
    invoice = provider_invoice(case, booking_agent, amount=amount, tax=tax)
    provider_paid(invoice, finance_user, note="The clinic added a film fee, agreed by phone.")
    insurer_invoiced(case, finance_user, paid="all")
    return reconciliation_refresh(case=case, actor=act(finance_user))


def _state():
    return (
        sorted(Reconciliation.objects.values_list("case_id", "status")),
        sorted(ReconciliationMonth.objects.values_list("month", "status")),
    )


# --- Who may see and do what -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "method", "persona"),
    [
        (name, method, persona)
        for name, (_target, methods) in RECONCILIATION_ROUTES.items()
        for method in methods
        for persona in PERSONAS
    ],
)
def test_each_reconciliation_route_admits_only_its_roles(
    client, request, case, booking_agent, finance_user, name, method, persona
):
    in_past_month(case)
    _discrepancy(case, booking_agent, finance_user)
    target, methods = RECONCILIATION_ROUTES[name]
    allowed = persona in methods[method]
    client.force_login(request.getfixturevalue(persona))
    url = _url(name, target, case=case)
    before = _state()
    if method == "post":
        response = client.post(
            url,
            {
                "reconcile-note": "Film fee agreed.",
                "reopen-note": "A correction.",
                f"close-{_previous_month_key()}-note": "",
                f"reopen-{_previous_month_key()}-note": "A correction.",
            },
        )
    else:
        response = client.get(url)
    if not allowed:
        assert response.status_code == 403
        assert _state() == before
    elif method == "get":
        assert response.status_code == 200
    else:
        # Admitted by the view: done (a redirect) or refused by the use case on the page
        # (400), never a server error.
        assert response.status_code in (302, 400)


@pytest.mark.parametrize("name", list(RECONCILIATION_ROUTES))
def test_an_anonymous_visitor_is_sent_to_log_in_from_the_reconciliation_pages(client, case, name):
    target, methods = RECONCILIATION_ROUTES[name]
    method = next(iter(methods))
    response = getattr(client, method)(_url(name, target, case=case))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login") + "?next=")


def test_only_the_coordinator_reconciles_and_the_refusal_keeps_the_note(
    client, case, booking_agent, finance_user, ceo
):
    _discrepancy(case, booking_agent, finance_user)
    for person in (finance_user, ceo):
        client.force_login(person)
        page = _text(client.get(reverse("web:reconciliation_case", args=[case.order_id])))
        assert "Reconcile: only the booking coordinator reconciles." in page
        refused = client.post(
            reverse("web:reconciliation_reconcile", args=[case.order_id]),
            {"reconcile-note": "Film fee agreed with the clinic."},
        )
        assert refused.status_code == 400
        assert "Only the booking coordinator reconciles orders." in _text(refused)
        assert "Film fee agreed with the clinic." in refused.content.decode()  # nothing lost
    assert Reconciliation.objects.get(case=case).status == R.DISCREPANCY


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_shows_discrepancies_first_with_their_amounts(
    client, case, booking_agent, finance_user, coordinator
):
    older = ready_case(
        insurer=case.insurer, location=clinic(), agent=booking_agent, services=("XRAY",)
    )
    in_past_month(older, months_back=2)  # the older order, only missing its checks
    reconciliation_refresh(case=older, actor=act(finance_user))
    provider_invoice(case, booking_agent, amount="150.00", tax="19.50")
    reconciliation_refresh(case=case, actor=act(finance_user))

    client.force_login(coordinator)
    response = client.get(reverse("web:reconciliation_queue"))
    assert response.status_code == 200
    html = response.content.decode()
    orders = re.findall(r'data-testid="queue-row" data-order="([^"]+)" data-status="(\w+)"', html)
    assert orders == [(case.order_id, "discrepancy"), (older.order_id, "open")]
    first, second = (html.index(f'data-order="{c.order_id}"') for c in (case, older))
    row = html[first:second]
    check = row[row.index('data-check="provider_invoice"') :]
    check = check[: check.index("</td>")]
    assert 'data-state="discrepancy"' in check
    assert re.search(r'data-amount="invoiced">\$150\.00<', check)
    assert re.search(r'data-amount="agreed">\$120\.00<', check)
    text = _text(response)
    assert "Invoiced $150.00" in text and "Agreed clinic cost $120.00" in text
    counts = html[html.index('data-testid="reconciliation-counts"') :]
    assert re.search(r'data-testid="count-discrepancy"><dt>[^<]+</dt><dd>1<', counts)
    assert re.search(r'data-testid="count-open"><dt>[^<]+</dt><dd>1<', counts)
    assert reverse("web:reconciliation_case", args=[case.order_id]) in html
    # It names patients: a read of each case listed.
    listed = AuditEvent.objects.filter(action="booking_request.listed", actor=coordinator)
    assert listed.count() == 2
    assert {e.payload["list"] for e in listed} == {"reconciliation queue"}


def test_a_reconciled_order_leaves_the_queue(
    client, case, booking_agent, finance_user, coordinator
):
    _discrepancy(case, booking_agent, finance_user)
    reconciliation_reconcile(case=case, actor=act(coordinator), note="Film fee agreed.")
    client.force_login(coordinator)
    response = client.get(reverse("web:reconciliation_queue"))
    assert case.order_id not in response.content.decode()
    assert 'data-testid="queue-empty"' in response.content.decode()


# --- An order's reconciliation -----------------------------------------------------------------


def test_the_order_page_shows_the_checks_evaluated_now_and_records_the_read(
    client, case, booking_agent, finance_user, coordinator
):
    reconciliation_refresh(case=case, actor=act(finance_user))  # stored: the invoice missing
    provider_invoice(case, booking_agent, amount="150.00", tax="19.50")  # then it came
    client.force_login(coordinator)
    url = reverse("web:reconciliation_case", args=[case.order_id])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    check = html[html.index('data-testid="check-provider_invoice"') :]
    check = check[: check.index("</tr>")]
    assert 'data-state="discrepancy"' in check  # now, not as stored
    assert "bills 150.00; the agreed clinic cost is 120.00" in check
    assert 'data-testid="checks-stale"' in html
    text = _text(response)
    assert "$120.00" in _text(response) and "$180.00" in text  # the SOP row's figures
    assert reverse("web:staff_booking_detail", args=[case.order_id]) in html
    assert AuditEvent.objects.filter(
        action="booking_request.viewed", actor=coordinator, object_id=str(case.pk)
    ).exists()

    checked = client.post(reverse("web:reconciliation_check", args=[case.order_id]))
    assert checked.status_code == 302
    assert Reconciliation.objects.get(case=case).status == R.DISCREPANCY
    assert 'data-testid="checks-stale"' not in client.get(url).content.decode()


def test_reconciling_a_discrepancy_needs_a_note_then_closes_the_case(
    client, case, booking_agent, finance_user, coordinator
):
    _discrepancy(case, booking_agent, finance_user)
    client.force_login(coordinator)
    url = reverse("web:reconciliation_reconcile", args=[case.order_id])

    refused = client.post(url, {"reconcile-note": "  "})
    assert refused.status_code == 400
    html = refused.content.decode()
    field = html[html.index('id="id_reconcile-note_error"') :]
    assert field[: field.index("</p>")].endswith("Say why you accept the discrepancy.")
    assert Reconciliation.objects.get(case=case).status == R.DISCREPANCY
    case.refresh_from_db()
    assert case.status == BookingStatus.READY_FOR_BILLING

    done = client.post(url, {"reconcile-note": "Film fee agreed with the clinic."})
    assert done.status_code == 302
    row = Reconciliation.objects.get(case=case)
    assert row.status == R.RECONCILED and row.reconciled_by == coordinator
    assert row.accepted["provider_invoice"]["amounts"] == {"invoiced": "130.00", "agreed": "120.00"}
    case.refresh_from_db()
    assert case.status == BookingStatus.CLOSED
    page = client.get(done["Location"])
    text = _text(page)
    assert "reconciled. The case is closed." in text
    assert "Film fee agreed with the clinic." in text
    accepted = page.content.decode()
    accepted = accepted[accepted.index('data-testid="accepted"') :]
    assert re.search(r'data-amount="invoiced">\$130\.00<', accepted)
    assert 'data-testid="reopen-form"' in page.content.decode()


def test_an_order_with_a_missing_check_is_not_offered_to_reconcile(
    client, case, finance_user, coordinator
):
    reconciliation_refresh(case=case, actor=act(finance_user))
    client.force_login(coordinator)
    page = _text(client.get(reverse("web:reconciliation_case", args=[case.order_id])))
    assert "Reconcile: still missing:" in page
    refused = client.post(
        reverse("web:reconciliation_reconcile", args=[case.order_id]),
        {"reconcile-note": "Nothing to see."},
    )
    assert refused.status_code == 400
    assert "still missing" in _text(refused)
    assert "Nothing to see." in refused.content.decode()
    assert Reconciliation.objects.get(case=case).status == R.OPEN


def test_reopening_needs_a_reason(client, case, booking_agent, finance_user, coordinator):
    _discrepancy(case, booking_agent, finance_user)
    reconciliation_reconcile(case=case, actor=act(coordinator), note="Film fee agreed.")
    client.force_login(coordinator)
    url = reverse("web:reconciliation_reopen", args=[case.order_id])
    refused = client.post(url, {"reopen-note": ""})
    assert refused.status_code == 400
    assert "This field is required." in _text(refused)
    assert Reconciliation.objects.get(case=case).status == R.RECONCILED
    done = client.post(url, {"reopen-note": "The clinic credited $10."})
    assert done.status_code == 302
    # Its checks are evaluated again at once: the provider's invoice still disagrees.
    assert Reconciliation.objects.get(case=case).status == R.DISCREPANCY
    assert "reopened for a correction" in _text(client.get(done["Location"]))


def test_a_closed_month_refuses_the_reopening_of_its_orders_with_the_reason(
    client, case, booking_agent, finance_user, coordinator
):
    in_past_month(case)
    row = _discrepancy(case, booking_agent, finance_user)
    reconciliation_reconcile(case=case, actor=act(coordinator), note="Film fee agreed.")
    month_close(month=row.month, actor=act(finance_user))
    client.force_login(coordinator)
    page = _text(client.get(reverse("web:reconciliation_case", args=[case.order_id])))
    assert "is closed: finance reopens the month first." in page
    refused = client.post(
        reverse("web:reconciliation_reopen", args=[case.order_id]),
        {"reopen-note": "Wrong fee."},
    )
    assert refused.status_code == 400
    assert "finance reopens the month first" in _text(refused)
    assert Reconciliation.objects.get(case=case).status == R.RECONCILED


def test_the_case_page_links_to_the_reconciliation_for_its_readers_only(
    client, case, booking_agent, coordinator
):
    url = reverse("web:staff_booking_detail", args=[case.order_id])
    link = reverse("web:reconciliation_case", args=[case.order_id])
    client.force_login(coordinator)
    page = client.get(url).content.decode()
    assert link in page and 'data-testid="reconciliation-panel"' in page
    client.force_login(booking_agent)
    assert link not in client.get(url).content.decode()


def test_an_unknown_order_is_not_found(client, coordinator):
    client.force_login(coordinator)
    assert client.get(reverse("web:reconciliation_case", args=["MW-2000-999999"])).status_code == (
        404
    )


# --- Months ------------------------------------------------------------------------------------


def test_finance_closes_a_past_month_and_reopens_it_with_a_reason(
    client, case, booking_agent, finance_user, coordinator
):
    in_past_month(case)
    _discrepancy(case, booking_agent, finance_user)
    reconciliation_reconcile(case=case, actor=act(coordinator), note="Film fee agreed.")
    key = _previous_month_key()
    client.force_login(finance_user)
    page = client.get(reverse("web:reconciliation_months"))
    html = page.content.decode()
    section = html[html.index(f'data-testid="month-{key}"') :]
    assert 'data-month-status="open"' in section[:200]
    assert 'data-testid="month-close-form"' in section
    assert re.search(r'data-testid="month-count-reconciled">1<', section)

    closed = client.post(
        reverse("web:reconciliation_month_close", args=[key]), {f"close-{key}-note": ""}
    )
    assert closed.status_code == 302
    record = ReconciliationMonth.objects.get()
    assert record.status == MonthStatus.CLOSED and record.closed_by == finance_user
    html = client.get(closed["Location"]).content.decode()
    section = html[html.index(f'data-testid="month-{key}"') :]
    assert 'data-month-status="closed"' in section[:200]
    assert "Closed by finance on" in _text(client.get(reverse("web:reconciliation_months")))

    url = reverse("web:reconciliation_month_reopen", args=[key])
    refused = client.post(url, {f"reopen-{key}-note": ""})
    assert refused.status_code == 400
    assert "This field is required." in _text(refused)
    assert ReconciliationMonth.objects.get().status == MonthStatus.CLOSED
    assert client.post(url, {f"reopen-{key}-note": "The clinic credited $10."}).status_code == 302
    assert ReconciliationMonth.objects.get().status == MonthStatus.OPEN
    assert AuditEvent.objects.filter(action="reconciliation_month.reopen").exists()


def test_the_coordinator_cannot_close_a_month_and_is_told_why(
    client, case, finance_user, coordinator
):
    in_past_month(case)
    reconciliation_refresh(case=case, actor=act(finance_user))
    key = _previous_month_key()
    client.force_login(coordinator)
    page = _text(client.get(reverse("web:reconciliation_months")))
    assert "Close the month: only finance closes and reopens a month." in page
    refused = client.post(
        reverse("web:reconciliation_month_close", args=[key]), {f"close-{key}-note": ""}
    )
    assert refused.status_code == 400
    assert "Only finance closes a month." in _text(refused)
    assert not ReconciliationMonth.objects.filter(status=MonthStatus.CLOSED).exists()


def test_the_current_month_is_not_offered_for_closing(client, case, finance_user):
    reconciliation_refresh(case=case, actor=act(finance_user))
    client.force_login(finance_user)
    html = client.get(reverse("web:reconciliation_months")).content.decode()
    key = f"{timezone.localdate():%Y-%m}"
    section = html[html.index(f'data-testid="month-{key}"') :]
    assert 'data-testid="month-not-over"' in section
    assert 'data-testid="month-close-form"' not in section
    refused = client.post(
        reverse("web:reconciliation_month_close", args=[key]), {f"close-{key}-note": ""}
    )
    assert refused.status_code == 400
    assert "is not over yet" in _text(refused)


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", "0000-01"])
def test_a_month_that_is_not_one_is_not_found(client, finance_user, month):
    client.force_login(finance_user)
    for name in ("reconciliation_month_close", "reconciliation_month_reopen"):
        response = client.post(reverse(f"web:{name}", args=[month]), {})
        assert response.status_code == 404
    assert not ReconciliationMonth.objects.exists()


# --- French ------------------------------------------------------------------------------------


def test_the_reconciliation_pages_read_in_french(
    client, case, booking_agent, finance_user, coordinator
):
    # The clinic's names are data: French ones, so any English word found is the page's.
    location = case.location
    location.name = "Clinique du Port, centre-ville"
    location.save(update_fields=["name"])
    location.partner.name = "Clinique du Port"
    location.partner.save(update_fields=["name"])
    in_past_month(case)
    _discrepancy(case, booking_agent, finance_user)
    client.cookies["django_language"] = "fr"
    client.force_login(coordinator)
    for url in (
        reverse("web:reconciliation_queue"),
        reverse("web:reconciliation_case", args=[case.order_id]),
        reverse("web:reconciliation_months"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Language"] == "fr"
        assert _english_words(response.content.decode(), allowed=set()) == {}, url
    queue = _text(client.get(reverse("web:reconciliation_queue")))
    assert "N° de demande" in queue and "130,00 $" in queue
    page = _text(client.get(reverse("web:reconciliation_case", args=[case.order_id])))
    assert "rapprochement" in page.lower()


def test_the_queue_costs_the_same_queries_for_more_orders(
    client, booking_agent, finance_user, coordinator
):
    insurer = make_insurer(finance_user, name="Maple Assist Insurance")

    def queue_queries() -> int:
        client.force_login(coordinator)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("web:reconciliation_queue")).status_code == 200
        return len(queries)

    first = ready_case(insurer=insurer, location=clinic(), agent=booking_agent)
    reconciliation_refresh(case=first, actor=act(finance_user))
    one = queue_queries()
    for _ in range(3):
        more = ready_case(insurer=insurer, location=clinic(), agent=booking_agent)
        reconciliation_refresh(case=more, actor=act(finance_user))
    assert queue_queries() == one
