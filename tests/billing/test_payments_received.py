"""Payments received from insurers (a card charge, an EFT, a cheque), full or partial: each
with its date, amount, method and reference; applied to the invoices named, else the oldest
first; an overpayment is the insurer's credit, shown and used later, never lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medworks.billing.invoices import insurer_credit_apply, payment_record
from medworks.billing.models import (
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    PaymentAllocation,
    PaymentReceived,
)
from medworks.billing.receivables import (
    insurer_balance,
    insurer_credit,
    invoice_balance,
    invoices_open,
    unbalanced_journals,
)
from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
S = InvoiceStatus
NOV_10, NOV_20, NOV_25 = dt.date(2026, 11, 10), dt.date(2026, 11, 20), dt.date(2026, 11, 25)


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist")


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $203.40 an invoice, HST included


@pytest.fixture
def two_invoices(insurer, toronto, booking_agent, finance_user):
    """The older issued on Nov. 10, the newer on Nov. 20; the newer's case came first."""
    newer_case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    older_case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    older = issued_invoice(case=older_case, finance_user=finance_user, issue_date=NOV_10)
    newer = issued_invoice(case=newer_case, finance_user=finance_user, issue_date=NOV_20)
    return older, newer


def pay(insurer, finance_user, amount, *, on=NOV_25, method="eft", reference="TRACE-1", **kw):
    return payment_record(
        insurer=insurer,
        amount=amount,
        received_on=on,
        method=method,
        reference=reference,
        actor=act(finance_user),
        **kw,
    )


def status(invoice) -> str:
    return Invoice.objects.get(pk=invoice.pk).status


def test_a_part_payment_leaves_the_rest_to_pay_and_a_second_one_settles_it(
    two_invoices, insurer, finance_user
):
    older, _newer = two_invoices
    first = pay(insurer, finance_user, "100.00", allocations=[older])

    assert (first.display_number, first.received_on, first.amount) == (
        "RCT-2026-000001",
        NOV_25,
        D("100.00"),
    )
    assert (first.method, first.reference, first.recorded_by) == ("eft", "TRACE-1", finance_user)
    assert status(older) == S.PARTLY_PAID
    assert invoice_balance(older) == D("103.40")
    rows = [(e.account, e.debit, e.credit, e.invoice_id) for e in first.ledger_entries.all()]
    assert rows == [
        ("cash", D("100.00"), D("0.00"), None),
        ("receivable", D("0.00"), D("100.00"), older.pk),
    ]

    second = pay(
        insurer, finance_user, "103.40", method="cheque", reference="CHQ 77", allocations=[older]
    )
    assert second.display_number == "RCT-2026-000002"
    assert status(older) == S.PAID and invoice_balance(older) == 0
    case_events = BookingEvent.objects.filter(request=older.lines.first().case_id)
    assert list(case_events.filter(kind__startswith="invoice_").values_list("kind", flat=True)) == [
        "invoice_issued",
        "invoice_partly_paid",
        "invoice_paid",
    ]
    assert insurer_credit(insurer) == 0


def test_a_payment_in_full_moves_the_invoice_straight_to_paid(two_invoices, insurer, finance_user):
    older, newer = two_invoices
    pay(insurer, finance_user, "203.40", method="card", reference="AUTH 0042", allocations=[newer])
    assert status(newer) == S.PAID
    assert status(older) == S.ISSUED


def test_a_payment_goes_to_the_oldest_invoices_first(two_invoices, insurer, finance_user):
    older, newer = two_invoices
    payment = pay(insurer, finance_user, "250.00")
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [
        (older.pk, D("203.40")),
        (newer.pk, D("46.60")),
    ]
    assert (status(older), status(newer)) == (S.PAID, S.PARTLY_PAID)
    assert invoice_balance(newer) == D("156.80")
    assert insurer_credit(insurer) == 0


def test_a_payment_received_before_an_invoice_was_issued_does_not_pay_it(
    two_invoices, insurer, finance_user
):
    older, newer = two_invoices
    pay(insurer, finance_user, "300.00", on=dt.date(2026, 11, 15))
    assert status(older) == S.PAID and status(newer) == S.ISSUED
    assert insurer_credit(insurer) == D("96.60")


def test_an_overpayment_is_the_insurers_credit_shown_and_used_later(
    two_invoices, insurer, finance_user
):
    older, newer = two_invoices
    payment = pay(insurer, finance_user, "250.00", allocations=[older])
    assert status(older) == S.PAID and status(newer) == S.ISSUED
    assert insurer_credit(insurer) == D("46.60")
    assert insurer_balance(insurer) == invoice_balance(newer) - D("46.60") == D("156.80")
    credit_row = LedgerEntry.objects.get(payment=payment, account="receivable", invoice=None)
    assert credit_row.credit == D("46.60")

    made = insurer_credit_apply(insurer=insurer, actor=act(finance_user))

    assert [(a.payment_id, a.invoice_id, a.amount) for a in made] == [
        (payment.pk, newer.pk, D("46.60"))
    ]
    assert insurer_credit(insurer) == 0
    assert invoice_balance(newer) == D("156.80")
    assert status(newer) == S.PARTLY_PAID
    with pytest.raises(DomainError) as none_left:
        insurer_credit_apply(insurer=insurer, actor=act(finance_user))
    assert none_left.value.code == "insurer_credit_none"
    assert unbalanced_journals() == []


def test_allocations_name_invoices_and_amounts_within_their_balances(
    two_invoices, insurer, finance_user
):
    older, newer = two_invoices
    payment = pay(
        insurer, finance_user, "100.00", allocations=[(newer, D("60.00")), (older, "40.00")]
    )
    assert [(a.invoice_id, a.amount) for a in payment.allocations.all()] == [
        (newer.pk, D("60.00")),
        (older.pk, D("40.00")),
    ]
    for allocations, code in (
        ([(older, D("200.00"))], "payment_allocation_exceeds_balance"),  # 163.40 left
        ([(older, D("60.00")), (newer, D("50.00"))], "payment_allocation_exceeds_payment"),
        ([older, older], "payment_allocation_repeated"),
        ([(older, D("0.00"))], "allocation_invalid"),
    ):
        with pytest.raises(DomainError) as refused:
            pay(insurer, finance_user, "100.00", allocations=allocations)
        assert refused.value.code == code
    assert PaymentReceived.objects.count() == 1


def test_a_payment_pays_only_this_insurers_open_invoices(
    two_invoices, insurer, finance_user, toronto, booking_agent
):
    older, _newer = two_invoices
    other = make_insurer(finance_user, name="Other Assist")
    theirs = issued_invoice(
        case=ready_case(insurer=other, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    with pytest.raises(NotFound):
        pay(insurer, finance_user, "10.00", allocations=[theirs])
    pay(insurer, finance_user, "203.40", allocations=[older])
    with pytest.raises(DomainError) as paid:
        pay(insurer, finance_user, "10.00", allocations=[older])
    assert paid.value.code == "payment_invoice_not_open"
    assert invoice_balance(theirs) == D("203.40")


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("0", "amount_invalid"),
        ("-5.00", "amount_invalid"),
        ("12.345", "amount_invalid"),
        ("1e3", "amount_invalid"),
    ],
)
def test_an_amount_is_more_than_zero_to_the_cent(insurer, finance_user, amount, code):
    with pytest.raises(DomainError) as refused:
        pay(insurer, finance_user, amount)
    assert refused.value.code == code
    assert list(refused.value.fields) == ["amount"]


def test_a_payment_is_refused_what_it_cannot_be(insurer, finance_user, booking_agent):
    with pytest.raises(TypeError):
        pay(insurer, finance_user, 12.5)
    for kwargs, code in (
        ({"on": dt.date(2099, 1, 1)}, "received_on_future"),
        ({"method": "cash"}, "payment_method_unknown"),
        ({"reference": "  "}, "payment_reference_missing"),
        ({"reference": "card 4111-1111-1111-1111"}, "card_number"),
    ):
        with pytest.raises(DomainError) as refused:
            pay(insurer, finance_user, "10.00", **kwargs)
        assert refused.value.code == code
    with pytest.raises(PermissionDenied):
        pay(insurer, booking_agent, "10.00")
    assert not PaymentReceived.objects.exists()


def test_money_with_no_invoice_open_is_all_credit(insurer, finance_user):
    payment = pay(insurer, finance_user, "75.00")
    assert not payment.allocations.exists()
    assert insurer_credit(insurer) == D("75.00")
    assert insurer_balance(insurer) == D("-75.00")


# --- Any sequence of payments keeps the books straight -----------------------------------------

payments = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=30000).map(lambda cents: D(cents) / 100),
        st.sampled_from(["oldest", "older", "newer"]),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=payments)
def test_any_payments_keep_the_balance_equal_to_what_is_open_less_the_credit(
    two_invoices, insurer, finance_user, sequence
):
    older, newer = two_invoices
    with transaction.atomic():
        received = D("0.00")
        for amount, target in sequence:
            named = {"oldest": None, "older": [older], "newer": [newer]}[target]
            if named and invoice_balance(named[0]) == 0:
                named = None  # a settled invoice is not named again
            pay(insurer, finance_user, amount, allocations=named)
            received += amount
        balances = {i.pk: invoice_balance(i) for i in (older, newer)}
        credit = insurer_credit(insurer)
        assert insurer_balance(insurer) == sum(balances.values()) - credit
        assert sum(balances.values()) + received == D("406.80") + credit
        assert all(b >= 0 for b in balances.values()) and credit >= 0
        for invoice in (older, newer):
            current = status(invoice)
            balance = balances[invoice.pk]
            assert (current == S.PAID) == (balance == 0)
            if current == S.PARTLY_PAID:
                assert 0 < balance < invoice.total
        allocated = sum(a.amount for a in PaymentAllocation.objects.all())
        assert allocated == D("406.80") - sum(balances.values())
        assert [i.pk for i in invoices_open(insurer)] == [
            i.pk for i in (older, newer) if balances[i.pk] > 0
        ]
        assert unbalanced_journals() == []
        transaction.set_rollback(True)
