"""The management dashboard's figures on a small world whose every number is known: cases in
several states, one escalated, booked cases with known waits, invoices (one of two services,
one partly paid, one overdue, one credited, a monthly statement), an insurer's credit, and
providers' invoices owed (one overdue). Each figure is checked exactly, against the billing
reports it must agree with, and in a bounded number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from medworks.billing.invoices import (
    credit_note_issue,
    invoice_draft_statement,
    invoice_issue,
    payment_record,
)
from medworks.billing.models import LedgerAccount, LedgerEntry
from medworks.billing.payables import payables
from medworks.billing.provider_invoices import (
    LineIn,
    provider_invoice_approve,
    provider_invoice_record,
    provider_payment_record,
)
from medworks.billing.receivables import ageing
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus
from medworks.reconciliation.dashboard import dashboard
from tests import factories
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.documents import samples
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
THRESHOLDS = {
    "received": 2,
    "sourcing": 24,
    "escalated": 24,
    "awaiting_availability": 48,
    "dates_offered": 48,
    "booked": 720,
    "no_show": 24,
}


def _first_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _waited(case, hours: int) -> None:
    """The case was requested `hours` before its (first) booking."""
    booked_at = BookingEvent.objects.get(request=case, kind="approve_date").occurred_at
    BookingRequest.objects.filter(pk=case.pk).update(
        created_at=booked_at - dt.timedelta(hours=hours)
    )


def _provider_invoice(case, agent, finance_user, *, number, amount, invoice_date, due_date=None):
    recorded = provider_invoice_record(
        provider=case.location.partner,
        number=number,
        invoice_date=invoice_date,
        due_date=due_date,
        lines=[LineIn(case=case, amount=amount)],
        tax_total="0.00",
        total=amount,
        file=SimpleUploadedFile(f"{number}.pdf", samples.pdf(number)),
        filename=f"{number}.pdf",
        actor=act(agent),
    )
    return provider_invoice_approve(invoice=recorded, actor=act(finance_user))


@pytest.fixture
def world(settings, finance_user, booking_agent):
    settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS = THRESHOLDS
    today = timezone.localdate()
    toronto = clinic(prices={"XRAY": "120.00", "ULTRASOUND": "200.00"})
    alpha = make_insurer(finance_user, name="Alpha Assist")
    beta = make_insurer(finance_user, name="Beta Care")
    from medworks.billing.services import insurer_invoicing_update

    insurer_invoicing_update(actor=act(finance_user), insurer=beta, data={"invoicing": "monthly"})

    # Alpha, one invoice per case. Two services (fees 60 + 100), invoiced 40 days ago: overdue.
    two = ready_case(
        insurer=alpha, location=toronto, agent=booking_agent, services=("XRAY", "ULTRASOUND")
    )
    overdue = issued_invoice(
        case=two, finance_user=finance_user, issue_date=today - dt.timedelta(days=40)
    )
    # An X-ray invoiced today, 100.00 of its 203.40 paid.
    paid_part = ready_case(insurer=alpha, location=toronto, agent=booking_agent)
    partly = issued_invoice(case=paid_part, finance_user=finance_user)
    payment_record(
        insurer=alpha,
        amount="100.00",
        received_on=today,
        method="eft",
        reference="EFT-1",
        actor=act(finance_user),
        allocations=[(partly, D("100.00"))],
    )
    # An X-ray invoiced today and credited today: nothing earned, nothing owed.
    credited_case = ready_case(insurer=alpha, location=toronto, agent=booking_agent)
    credited = issued_invoice(case=credited_case, finance_user=finance_user)
    credit_note_issue(invoice=credited, actor=act(finance_user), reason="Wrong insurer reference.")

    # Beta pays 50.00 before it has any invoice (its credit), then its monthly statement of
    # last month (one X-ray case, a whole case on one line) is issued today.
    payment_record(
        insurer=beta,
        amount="50.00",
        received_on=today - dt.timedelta(days=41),
        method="cheque",
        reference="CHQ-7",
        actor=act(finance_user),
    )
    last_month = _first_of(_first_of(today) - dt.timedelta(days=1))
    monthly = ready_case(insurer=beta, location=toronto, agent=booking_agent, seen_on=last_month)
    run = invoice_draft_statement(insurer=beta, month=last_month, actor=act(finance_user))
    invoice_issue(invoice=run.invoices[0], actor=act(finance_user), issue_date=today)

    # Requested 10, 20, 30 and 60 hours before booking: median 25.
    for case, hours in ((two, 10), (paid_part, 20), (credited_case, 30), (monthly, 60)):
        _waited(case, hours)
    # A second approval later (a reschedule) does not make the case booked twice.
    again = BookingEvent.objects.record(
        request=two, kind="approve_date", actor=act(booking_agent), note="Rescheduled."
    )
    BookingEvent.objects.filter(pk=again.pk).update(
        occurred_at=again.occurred_at + dt.timedelta(hours=5)
    )

    # Escalated out of area, and one nobody has started on for three hours (threshold: 2).
    escalated = factories.make_booking_request(insurer=alpha)
    bookings.booking_request_take(case=escalated, actor=act(booking_agent))
    bookings.booking_request_escalate(
        case=escalated, actor=act(booking_agent), note="No affiliate within the hour."
    )
    waiting = factories.make_booking_request(insurer=alpha)
    BookingRequest.objects.filter(pk=waiting.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(hours=3)
    )

    # Providers: 320.00 approved and past due; 120.00 approved, 20.00 of it paid, not due.
    _provider_invoice(
        two,
        booking_agent,
        finance_user,
        number="HC-1",
        amount="320.00",
        invoice_date=today - dt.timedelta(days=45),
        due_date=today - dt.timedelta(days=15),
    )
    due_later = _provider_invoice(
        paid_part, booking_agent, finance_user, number="HC-2", amount="120.00", invoice_date=today
    )
    provider_payment_record(
        invoice=due_later,
        amount="20.00",
        paid_on=today,
        method="eft",
        reference="OUT-1",
        actor=act(finance_user),
    )
    return {
        "today": today,
        "alpha": alpha,
        "beta": beta,
        "overdue": overdue,
        "cases": [two, paid_part, credited_case, monthly, escalated, waiting],
    }


def test_requests_by_state_list_every_state_with_zeros(world):
    figures = dashboard(today=world["today"])

    counts = {row.status: row.count for row in figures.by_state}
    assert list(counts) == [s.value for s in BookingStatus]
    expected = {s.value: 0 for s in BookingStatus}
    for case in BookingRequest.objects.all():
        expected[case.status] += 1
    assert counts == expected
    assert counts["received"] == 1
    assert counts["escalated"] == 1
    assert figures.cases_total == 6
    assert dict((r.status, r.label) for r in figures.by_state)["no_show"] == "No-show"


def test_cases_waiting_beyond_their_thresholds_per_open_state(world):
    figures = dashboard(today=world["today"])

    waiting = {w.status: (w.waiting, w.overdue, w.threshold_hours) for w in figures.waiting}
    assert waiting["received"] == (1, 1, 2)
    assert waiting["escalated"] == (1, 0, 24)
    assert waiting["sourcing"] == (0, 0, 24)
    assert set(waiting) == {
        "received",
        "sourcing",
        "escalated",
        "awaiting_availability",
        "dates_offered",
        "booked",
        "no_show",
    }


def test_the_median_time_to_booking_counts_each_cases_first_booking(world):
    figures = dashboard(today=world["today"])

    assert figures.median_hours == D("25.0")
    this_month = figures.months[-1]
    assert this_month.month == _first_of(world["today"])
    assert this_month.booked == 4
    assert this_month.median_hours == D("25.0")
    assert figures.booked == 4
    assert all(m.median_hours is None for m in figures.months if m.booked == 0)


def test_the_share_escalated_is_of_the_cases_requested_in_the_window(world):
    figures = dashboard(today=world["today"])

    assert figures.requests == 6
    assert figures.escalated == 1
    assert figures.escalation_percent == D("16.7")
    assert sum(m.requests for m in figures.months) == 6


def test_revenue_and_margin_by_month_net_of_credit_notes(world):
    today = world["today"]
    figures = dashboard(today=today)

    by_month = {m.month: (m.revenue, m.margin) for m in figures.months}
    assert len(figures.months) == 12
    eleven_back = today.year * 12 + today.month - 1 - 11
    assert figures.months[0].month == dt.date(eleven_back // 12, eleven_back % 12 + 1, 1)
    # The two services, 40 days ago: 180 + 300 billed, fees 60 + 100.
    assert by_month[_first_of(today - dt.timedelta(days=40))] == (D("480.00"), D("160.00"))
    # Today: the part-paid X-ray, the credited one and its credit note, the statement's case.
    assert by_month[_first_of(today)] == (D("360.00"), D("120.00"))
    assert (figures.revenue, figures.margin) == (D("840.00"), D("280.00"))
    # The same revenue as the ledger's revenue account over the window.
    ledger = LedgerEntry.objects.filter(account=LedgerAccount.REVENUE)
    assert sum(e.credit - e.debit for e in ledger) == figures.revenue


def test_revenue_and_margin_by_insurer_most_first(world):
    figures = dashboard(today=world["today"])

    assert [(i.name, i.revenue, i.margin) for i in figures.insurers] == [
        ("Alpha Assist", D("660.00"), D("220.00")),
        ("Beta Care", D("180.00"), D("60.00")),
    ]


def test_an_invoice_before_the_window_is_left_out(world):
    # A window of one month leaves out the invoice issued 40 days ago.
    figures = dashboard(today=world["today"], months=1)

    assert len(figures.months) == 1
    assert (figures.revenue, figures.margin) == (D("360.00"), D("120.00"))
    # Alpha's 180 today is its part-paid X-ray (the credited one nets to nothing); equal
    # revenues are in the insurers' names' order.
    assert [(i.name, i.revenue, i.margin) for i in figures.insurers] == [
        ("Alpha Assist", D("180.00"), D("60.00")),
        ("Beta Care", D("180.00"), D("60.00")),
    ]


def test_receivables_and_payables_agree_with_the_billing_reports(world):
    today = world["today"]
    balances = dashboard(today=today).balances

    # 542.40 overdue (two services, with HST), 103.40 left on the part-paid one, 203.40 of
    # the statement; the credited invoice owes nothing.
    assert balances.receivable == D("849.20")
    assert balances.receivable_overdue == D("542.40")
    assert balances.insurer_credit == D("50.00")
    report = ageing(today=today, detail=False)
    assert balances.receivable == report.owed
    assert balances.receivable_overdue == report.owed - report.buckets["current"]
    assert balances.insurer_credit == report.credit

    assert balances.payable == D("420.00")
    assert balances.payable_overdue == D("320.00")
    owed = payables(today=today)
    assert balances.payable == sum(p.owed for p in owed)
    assert balances.payable_overdue == sum(p.overdue for p in owed)


def test_an_empty_desk_has_zeros_and_no_medians(db):
    figures = dashboard(today=timezone.localdate())

    assert figures.cases_total == 0
    assert figures.median_hours is None
    assert figures.escalation_percent is None
    assert figures.revenue == figures.margin == D("0.00")
    assert figures.insurers == ()
    assert figures.balances.receivable == figures.balances.payable == D("0.00")


def test_months_are_the_local_calendar_months(db):
    """A case requested or booked a minute before local midnight on the 1st is in the month
    before; one at midnight is in the new month (the zone's months, not UTC's); a case first
    booked before the window is not booked in it, even when it is approved again inside."""
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    midnight = dt.datetime.combine(_first_of(today), dt.time.min, tzinfo=zone)
    minute, hour = dt.timedelta(minutes=1), dt.timedelta(hours=1)

    def case(created_at, *booked_at):
        made = factories.make_booking_request()
        BookingRequest.objects.filter(pk=made.pk).update(created_at=created_at)
        for at in booked_at:
            BookingEvent.objects.create(request=made, kind="approve_date", occurred_at=at)

    case(midnight - 11 * hour, midnight - minute)  # waited 10 h 59 min, last month
    case(midnight, midnight + 5 * hour)  # requested and booked this month: 5 h
    case(midnight - 60 * 24 * hour, midnight - 40 * 24 * hour, midnight + hour)

    figures = dashboard(today=today, months=2)

    before, this = figures.months
    assert (before.requests, before.booked, before.median_hours) == (1, 1, D("11.0"))
    assert (this.requests, this.booked, this.median_hours) == (1, 1, D("5.0"))
    assert figures.median_hours == D("8.0")  # (10.98 + 5) / 2


def test_the_dashboard_is_a_few_queries_whatever_the_size(world, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):
        figures = dashboard(today=world["today"])
    assert figures.cases_total == 6


def test_today_must_be_a_date(db):
    with pytest.raises(TypeError):
        dashboard(today=timezone.now())
