"""What insurers owe by age on a fixed date (current, 1-30, 31-60, 61-90, over 90 days past
the due date), read from the ledger as of that date; and the sweep that marks invoices
overdue from their terms, as often as it runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from medworks.billing.invoices import invoices_mark_overdue, payment_record
from medworks.billing.models import Invoice, InvoiceStatus
from medworks.billing.receivables import BUCKETS, ageing, bucket_of
from medworks.billing.workflow import INVOICE_WORKFLOW
from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
S = InvoiceStatus
JUNE_15 = dt.date(2026, 6, 15)
FULL = D("203.40")  # an X-ray at $120: $180 with the fee, HST 13%


def test_the_buckets_and_their_edges():
    assert [bucket_of(days) for days in (-20, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current",
        "current",
        "1_30",
        "1_30",
        "31_60",
        "31_60",
        "61_90",
        "61_90",
        "over_90",
        "over_90",
    ]


@pytest.fixture
def book(finance_user, booking_agent):
    """Invoices of Maple Assist issued on fixed dates (30 days' terms), in date order, and
    one of Other Assist; a part payment on D, F paid with $50 more than owed."""
    maple = make_insurer(finance_user, name="Maple Assist")
    other = make_insurer(finance_user, name="Other Assist")
    location = clinic(prices={"XRAY": "120.00"})
    issued = {}
    for name, insurer, day in (
        ("A", maple, dt.date(2026, 1, 10)),  # due Feb. 9: 126 days late on June 15
        ("B", maple, dt.date(2026, 3, 10)),  # due Apr. 9: 67 days
        ("X", other, dt.date(2026, 3, 20)),  # due Apr. 19: 57 days
        ("C", maple, dt.date(2026, 4, 10)),  # due May 10: 36 days
        ("D", maple, dt.date(2026, 5, 1)),  # due May 31: 15 days
        ("G", maple, dt.date(2026, 5, 16)),  # due June 15: due today, current
        ("E", maple, dt.date(2026, 6, 1)),  # due July 1: current
        ("F", maple, dt.date(2026, 6, 10)),  # paid
    ):
        case = ready_case(insurer=insurer, location=location, agent=booking_agent)
        issued[name] = issued_invoice(case=case, finance_user=finance_user, issue_date=day)

    def pay(amount, on, invoice):
        payment_record(
            insurer=maple,
            amount=amount,
            received_on=on,
            method="eft",
            reference=f"EFT {on}",
            actor=act(finance_user),
            allocations=[invoice],
        )

    pay("100.00", dt.date(2026, 6, 5), issued["D"])
    pay("253.40", dt.date(2026, 6, 12), issued["F"])
    return maple, other, issued


def test_ageing_on_a_fixed_date_puts_each_balance_in_its_bucket(book):
    _maple, _other, issued = book
    report = ageing(today=JUNE_15)

    assert [row.insurer.name for row in report.insurers] == ["Maple Assist", "Other Assist"]
    mine = report.insurers[0]
    assert {aged.invoice.pk: (aged.bucket, aged.days_late) for aged in mine.invoices} == {
        issued["A"].pk: ("over_90", 126),
        issued["B"].pk: ("61_90", 67),
        issued["C"].pk: ("31_60", 36),
        issued["D"].pk: ("1_30", 15),
        issued["G"].pk: ("current", 0),
        issued["E"].pk: ("current", -16),
    }
    assert mine.buckets == {
        "current": FULL * 2,
        "1_30": FULL - D("100.00"),
        "31_60": FULL,
        "61_90": FULL,
        "over_90": FULL,
    }
    assert mine.credit == D("50.00")  # F's overpayment, shown beside what is owed
    assert mine.owed == FULL * 6 - D("100.00")
    assert report.insurers[1].buckets["31_60"] == FULL
    assert report.buckets["31_60"] == FULL * 2
    assert report.owed == mine.owed + FULL
    assert report.credit == D("50.00")
    assert list(report.buckets) == list(BUCKETS)


def test_ageing_as_of_an_earlier_date_ignores_what_came_after(book):
    maple, _other, issued = book
    report = ageing(today=dt.date(2026, 6, 4), insurer=maple)

    assert [row.insurer.name for row in report.insurers] == ["Maple Assist"]
    mine = report.insurers[0]
    by_invoice = {aged.invoice.pk: aged for aged in mine.invoices}
    assert by_invoice[issued["D"].pk].balance == FULL  # the June 5 payment not yet received
    assert by_invoice[issued["D"].pk].bucket == "1_30"  # 4 days late
    assert issued["F"].pk not in by_invoice  # issued June 10
    assert by_invoice[issued["G"].pk].bucket == "current"
    assert mine.credit == 0
    assert ageing(today=dt.date(2025, 12, 31)).insurers == []


def test_the_overdue_sweep_marks_what_is_past_due_once(book, finance_user):
    maple, _other, issued = book

    assert invoices_mark_overdue(today=JUNE_15) == 5  # A, B, X, C and D (partly paid)
    assert invoices_mark_overdue(today=JUNE_15) == 0  # idempotent

    state = {name: Invoice.objects.get(pk=inv.pk).status for name, inv in issued.items()}
    assert state == {
        "A": S.OVERDUE,
        "B": S.OVERDUE,
        "X": S.OVERDUE,
        "C": S.OVERDUE,
        "D": S.OVERDUE,
        "G": S.ISSUED,  # due today
        "E": S.ISSUED,
        "F": S.PAID,
    }
    assert BookingEvent.objects.filter(kind="invoice_overdue").count() == 5
    # Late stays late until paid: a part payment keeps it overdue, the rest pays it.
    for amount in ("3.40", "200.00"):
        payment_record(
            insurer=maple,
            amount=amount,
            received_on=JUNE_15,
            method="cheque",
            reference=f"CHQ {amount}",
            actor=act(finance_user),
            allocations=[issued["A"]],
        )
        if amount == "3.40":
            assert Invoice.objects.get(pk=issued["A"].pk).status == S.OVERDUE
    assert Invoice.objects.get(pk=issued["A"].pk).status == S.PAID
    assert invoices_mark_overdue(today=dt.date(2026, 7, 2)) == 2  # G and E now


def test_only_the_scheduled_sweep_marks_an_invoice_overdue(book, finance_user):
    _maple, _other, issued = book
    with pytest.raises(DomainError) as refused:
        INVOICE_WORKFLOW.fire(record=issued["A"], name="mark_overdue", actor=act(finance_user))
    assert refused.value.code == "transition_forbidden"


def test_the_sweep_is_one_of_the_workers_periodic_jobs(book):
    from medworks.notifications.management.commands.worker import run_periodic_jobs

    path = "medworks.billing.invoices.invoices_mark_overdue"
    assert path in django_settings.MEDWORKS_PERIODIC_JOBS
    assert run_periodic_jobs([path]) == {path: 7}  # today, every unpaid one is past due
