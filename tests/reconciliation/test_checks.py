"""The coordinator's four checks (SOP case 4 step 6), each met, missing or in discrepancy with
the amounts that disagree, on orders taken through the real use cases; reconciling, the case
closed only once reconciled, and the month closed and reopened."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medworks.billing.provider_invoices import provider_invoice_approve, provider_payment_record
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingEvent, BookingStatus
from medworks.core.audit import AuditEvent
from medworks.core.errors import DomainError, PermissionDenied
from medworks.reconciliation.checks import evaluate
from medworks.reconciliation.models import (
    CheckState,
    MonthStatus,
    Reconciliation,
    ReconciliationStatus,
)
from medworks.reconciliation.services import (
    month_close,
    month_reopen,
    reconciliation_reconcile,
    reconciliation_refresh,
    reconciliation_reopen,
    reconciliation_sweep,
)
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.factories import act
from tests.reconciliation.world import (
    in_past_month,
    insurer_invoiced,
    prepaid,
    provider_invoice,
    provider_paid,
)

D = Decimal
C = CheckState
R = ReconciliationStatus


@pytest.fixture
def direct_case(db, booking_agent, finance_user):
    """At an affiliate billing MedWorks directly: clinic cost 120.00, MedWorks 60.00, HST."""
    insurer = make_insurer(finance_user)
    return ready_case(insurer=insurer, location=clinic(), agent=booking_agent)


def _states(case):
    return {c.name: c.state for c in evaluate(case).checks}


def test_a_direct_billing_order_goes_from_missing_to_met(direct_case, booking_agent, finance_user):
    assert _states(direct_case) == {
        "order_email": C.NOT_NEEDED,
        "payment_process": C.MISSING,
        "provider_invoice": C.MISSING,
        "insurer_payment": C.MISSING,
    }
    invoice = provider_invoice(direct_case, booking_agent)
    assert _states(direct_case)["provider_invoice"] == C.MET
    assert _states(direct_case)["payment_process"] == C.MISSING  # finance has not approved
    provider_paid(invoice, finance_user)
    insurer_invoiced(direct_case, finance_user, paid="all")
    assert set(_states(direct_case).values()) <= {C.MET, C.NOT_NEEDED}


def test_a_provider_invoice_higher_than_agreed_is_a_discrepancy_with_both_amounts(
    direct_case, booking_agent
):
    provider_invoice(direct_case, booking_agent, amount="150.00", tax="19.50")
    check = evaluate(direct_case).of("provider_invoice")
    assert check.state == C.DISCREPANCY
    assert check.amounts == {"invoiced": "150.00", "agreed": "120.00"}
    assert "150.00" in check.message and "120.00" in check.message


def test_a_partial_insurer_payment_is_a_discrepancy_with_what_is_owed(direct_case, finance_user):
    invoice = insurer_invoiced(direct_case, finance_user, paid="100.00")
    check = evaluate(direct_case).of("insurer_payment")
    assert check.state == C.DISCREPANCY
    assert check.amounts == {
        "billed": f"{invoice.total:.2f}",
        "received": "100.00",
        "owing": f"{invoice.total - D('100.00'):.2f}",
    }


def test_an_unpaid_insurer_invoice_is_missing_not_a_discrepancy(direct_case, finance_user):
    insurer_invoiced(direct_case, finance_user)
    assert evaluate(direct_case).of("insurer_payment").state == C.MISSING


def test_a_prepaid_order_without_its_order_email_is_missing_that_check(
    prepaid_case, booking_agent, chief, ceo
):
    prepaid(prepaid_case, booking_agent, chief, ceo, order=False)
    states = _states(prepaid_case)
    assert states["order_email"] == C.MISSING
    assert states["payment_process"] == C.MET
    assert states["provider_invoice"] == C.NOT_NEEDED


def test_a_prepaid_order_paid_through_its_approvals_meets_the_checks(
    prepaid_case, booking_agent, chief, ceo, finance_user
):
    prepaid(prepaid_case, booking_agent, chief, ceo)
    insurer_invoiced(prepaid_case, finance_user, paid="all")
    assert set(_states(prepaid_case).values()) <= {C.MET, C.NOT_NEEDED}


def test_a_card_payment_without_an_approval_is_a_discrepancy(
    prepaid_case, booking_agent, finance_user
):
    # The pre-paid clinic sent an invoice and finance paid it by card: no payment request,
    # so no Chief of Staff and no CEO approved the payment.
    invoice = provider_invoice(prepaid_case, booking_agent)
    invoice = provider_invoice_approve(invoice=invoice, actor=act(finance_user))
    from django.utils import timezone

    provider_payment_record(
        invoice=invoice,
        amount=invoice.total,
        paid_on=timezone.localdate(),
        method="card",
        reference="VISA-AUTH-9",
        actor=act(finance_user),
    )
    check = evaluate(prepaid_case).of("payment_process")
    assert check.state == C.DISCREPANCY
    assert check.amounts == {"paid": f"{invoice.total:.2f}", "approved": None}
    assert "without a pre-payment approved by the CEO" in check.message


def test_refresh_stores_the_checks_and_flags_then_clears_a_discrepancy(
    direct_case, booking_agent, finance_user
):
    invoice = provider_invoice(direct_case, booking_agent, amount="150.00", tax="19.50")
    row = reconciliation_refresh(case=direct_case, actor=act(finance_user))
    assert row.status == R.DISCREPANCY
    assert row.provider_invoice == C.DISCREPANCY
    assert (row.clinic_cost, row.medworks_cost, row.total_to_bill) == (
        D("120.00"),
        D("60.00"),
        D("180.00"),
    )
    assert BookingEvent.objects.filter(request=direct_case, kind="reconciliation_flagged").exists()
    # The provider's invoice is rejected and a right one comes: the discrepancy is gone.
    from medworks.billing.provider_invoices import provider_invoice_reject

    provider_invoice_reject(invoice=invoice, actor=act(finance_user), note="Wrong amount.")
    provider_invoice(direct_case, booking_agent, number="PV-101")
    row = reconciliation_refresh(case=direct_case, actor=act(finance_user))
    assert row.status == R.OPEN
    assert row.provider_invoice == C.MET


def test_the_sweep_creates_rows_for_booked_orders_only(direct_case, db):
    assert reconciliation_sweep() == 1
    assert Reconciliation.objects.get().case == direct_case


def test_reconciling_needs_every_check_and_a_note_for_a_discrepancy_then_closes_the_case(
    direct_case, booking_agent, finance_user, coordinator
):
    with pytest.raises(DomainError) as missing:
        reconciliation_reconcile(case=direct_case, actor=act(coordinator))
    assert "still missing" in missing.value.message
    invoice = provider_invoice(direct_case, booking_agent, amount="130.00", tax="16.90")
    provider_paid(invoice, finance_user, note="The clinic added a film fee, agreed by phone.")
    insurer_invoiced(direct_case, finance_user, paid="all")
    with pytest.raises(DomainError) as no_note:
        reconciliation_reconcile(case=direct_case, actor=act(coordinator))
    assert no_note.value.code == "note_required"
    row = reconciliation_reconcile(
        case=direct_case, actor=act(coordinator), note="Film fee agreed with the clinic."
    )
    assert row.status == R.RECONCILED
    assert row.accepted["provider_invoice"]["amounts"] == {"invoiced": "130.00", "agreed": "120.00"}
    assert row.reconciled_by == coordinator
    direct_case.refresh_from_db()
    assert direct_case.status == BookingStatus.CLOSED
    assert AuditEvent.objects.filter(action="reconciliation.reconciled").exists()


def test_only_the_coordinator_reconciles(direct_case, finance_user, booking_agent):
    for person in (finance_user, booking_agent):
        with pytest.raises(PermissionDenied):
            reconciliation_reconcile(case=direct_case, actor=act(person))


def test_a_case_is_closed_only_once_reconciled(direct_case, booking_agent):
    with pytest.raises(DomainError) as refused:
        bookings.booking_request_step(case=direct_case, name="close", actor=act(booking_agent))
    assert "not reconciled" in refused.value.message


def _reconciled(case, agent, finance_user, coordinator):
    provider_paid(provider_invoice(case, agent), finance_user)
    insurer_invoiced(case, finance_user, paid="all")
    return reconciliation_reconcile(case=case, actor=act(coordinator))


def test_a_closed_month_locks_its_reconciled_orders_until_finance_reopens_it(
    direct_case, booking_agent, finance_user, coordinator
):
    in_past_month(direct_case)
    row = _reconciled(direct_case, booking_agent, finance_user, coordinator)
    with pytest.raises(PermissionDenied):
        month_close(month=row.month, actor=act(coordinator))
    closed = month_close(month=row.month, actor=act(finance_user))
    assert closed.status == MonthStatus.CLOSED and closed.closed_by == finance_user
    with pytest.raises(DomainError) as locked:
        reconciliation_reopen(case=direct_case, actor=act(coordinator), note="Wrong fee.")
    assert "is closed" in locked.value.message
    with pytest.raises(DomainError) as no_reason:
        month_reopen(month=row.month, actor=act(finance_user), note="")
    assert no_reason.value.code == "note_required"
    month_reopen(month=row.month, actor=act(finance_user), note="The clinic credited $10.")
    reopened = reconciliation_reopen(case=direct_case, actor=act(coordinator), note="Credit.")
    assert reopened.status == R.OPEN
    actions = list(
        AuditEvent.objects.filter(action__startswith="reconciliation_month.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["reconciliation_month.close", "reconciliation_month.reopen"]


def test_the_current_month_cannot_be_closed(finance_user):
    from django.utils import timezone

    with pytest.raises(DomainError) as refused:
        month_close(month=timezone.localdate(), actor=act(finance_user))
    assert refused.value.code == "month_not_over"


def test_one_order_that_cannot_be_checked_does_not_stop_the_sweep(
    db, booking_agent, finance_user, monkeypatch, caplog
):
    insurer = make_insurer(finance_user)
    broken, fine = (
        ready_case(insurer=insurer, location=clinic(), agent=booking_agent) for _ in range(2)
    )
    from medworks.reconciliation import services

    real = services.evaluate

    def evaluate_or_fail(case):
        if case.pk == broken.pk:
            raise RuntimeError("a corrupt record")
        return real(case)

    monkeypatch.setattr(services, "evaluate", evaluate_or_fail)
    assert reconciliation_sweep() == 1
    assert list(Reconciliation.objects.values_list("case_id", flat=True)) == [fine.pk]
    assert f"case {broken.pk} could not be checked" in caplog.text


def test_a_prepaid_order_whose_invoice_is_also_paid_is_paid_twice(
    prepaid_case, booking_agent, chief, ceo, finance_user
):
    prepaid(prepaid_case, booking_agent, chief, ceo)
    invoice = provider_invoice(prepaid_case, booking_agent)
    provider_paid(invoice, finance_user)
    check = evaluate(prepaid_case).of("payment_process")
    assert check.state == C.DISCREPANCY
    assert check.amounts == {"prepaid": "120.00", "paid": f"{invoice.total:.2f}"}
    assert check.message.startswith("Paid twice")
