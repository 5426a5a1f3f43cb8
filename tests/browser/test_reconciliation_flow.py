"""SOP case 4 step 6 in a real browser: the corporate booking coordinator finds an order of last
month in discrepancy in the queue (the clinic billed more than agreed; finance approved and paid
it with a note; the insurer paid in full), opens it, is told a discrepancy needs a note, writes
one and reconciles it, which closes the case; then finance closes the month."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medworks.bookings.models import BookingStatus
from medworks.reconciliation.models import (
    MonthStatus,
    Reconciliation,
    ReconciliationMonth,
    ReconciliationStatus,
)
from medworks.reconciliation.services import reconciliation_sweep
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.reconciliation.world import (
    in_past_month,
    insurer_invoiced,
    provider_invoice,
    provider_paid,
)

# Transactional: the live server runs in another thread and must see committed data. The
# serialized rollback restores the seeded roles, service catalogue and tax table.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_coordinator_reconciles_a_discrepancy_with_a_note_and_finance_closes_the_month(
    page, log_in, coordinator, finance_user, booking_agent
):
    insurer = make_insurer(finance_user, name="Maple Assist")
    case = ready_case(insurer=insurer, location=clinic(), agent=booking_agent)
    in_past_month(case)
    invoice = provider_invoice(case, booking_agent, amount="150.00", tax="19.50")
    provider_paid(invoice, finance_user, note="A second view was needed, agreed by phone.")
    insurer_invoiced(case, finance_user, paid="all")
    assert reconciliation_sweep() == 1  # the worker's sweep checks the order
    month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    key = f"{month:%Y-%m}"

    # The coordinator: the queue shows the discrepancy with both amounts.
    log_in(coordinator)
    page.goto("/staff/reconciliation/queue/")
    row = page.get_by_test_id("queue-row").filter(has_text=case.order_id)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("queue-status")).to_have_text("Discrepancy")
    amounts = row.get_by_test_id("amounts-provider_invoice")
    expect(amounts).to_contain_text("Invoiced $150.00")
    expect(amounts).to_contain_text("Agreed clinic cost $120.00")
    row.get_by_role("link", name=case.order_id).click()

    # The order's page: the provider's invoice disagrees, now as stored.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Reconciliation of {case.order_id}")
    check = page.get_by_test_id("check-provider_invoice")
    expect(check.get_by_test_id("check-state")).to_have_text("Discrepancy")
    expect(check).to_contain_text("the agreed clinic cost is 120.00")

    # Reconciling without a note is refused on the form; nothing changes.
    form = page.get_by_test_id("reconcile-form")
    form.get_by_role("button", name="Reconcile").click()
    note = page.get_by_test_id("reconcile-form").get_by_label("Note")
    expect(page.get_by_test_id("reconcile-form")).to_contain_text(
        "Say why you accept the discrepancy."
    )
    expect(page.get_by_test_id("reconciliation-status")).to_have_text("Discrepancy")
    assert Reconciliation.objects.get(case=case).status == ReconciliationStatus.DISCREPANCY

    # With a note, it is reconciled and the case closed.
    note.fill("The clinic took a second view; agreed with the adjuster.")
    page.get_by_test_id("reconcile-form").get_by_role("button", name="Reconcile").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"{case.order_id} reconciled. The case is closed."
    )
    expect(page.get_by_test_id("reconciliation-status")).to_have_text("Reconciled")
    expect(page.get_by_test_id("reconciliation-note")).to_have_text(
        "The clinic took a second view; agreed with the adjuster."
    )
    expect(page.get_by_test_id("accepted")).to_contain_text("$150.00")
    case.refresh_from_db()
    assert case.status == BookingStatus.CLOSED
    page.get_by_test_id("case-link").click()
    expect(page.get_by_test_id("reconciliation-panel-status")).to_have_text("Reconciled")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()

    # Finance closes last month.
    log_in(finance_user)
    page.goto("/staff/reconciliation/months/")
    section = page.get_by_test_id(f"month-{key}")
    expect(section.get_by_test_id("month-status")).to_have_text("Open")
    expect(section.get_by_test_id("month-count-reconciled")).to_have_text("1")
    section.get_by_role("button", name="Close the month").click()
    expect(page.get_by_role("status")).to_contain_text(f"{key} closed")
    section = page.get_by_test_id(f"month-{key}")
    expect(section.get_by_test_id("month-status")).to_have_text("Closed")
    expect(section.get_by_test_id("month-closed-by")).to_contain_text("Closed by finance on")
    expect(section.get_by_test_id("month-reopen-form")).to_be_visible()
    record = ReconciliationMonth.objects.get(month=month.replace(day=1))
    assert record.status == MonthStatus.CLOSED and record.closed_by == finance_user
