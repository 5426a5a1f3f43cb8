"""Finance invoices a case ready for billing, records the insurer's payment, and the case's
balance reaches zero, in a real browser."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medworks.billing.models import Invoice, InvoiceStatus
from tests.billing.invoicing import clinic, make_insurer, ready_case

# Transactional: the live server runs in another thread and must see committed data. The
# serialized rollback restores the seeded roles, service catalogue and tax table.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_finance_issues_the_invoice_records_the_payment_and_the_case_balance_is_zero(
    page, log_in, finance_user, booking_agent
):
    insurer = make_insurer(finance_user, name="Maple Assist")
    case = ready_case(
        insurer=insurer, location=clinic(prices={"XRAY": "120.00"}), agent=booking_agent
    )

    log_in(finance_user)
    page.goto(f"/staff/bookings/{case.order_id}/")
    panel = page.get_by_test_id("invoice-panel")
    expect(panel).to_contain_text("Not invoiced yet.")
    panel.get_by_role("button", name="Draft the invoice").click()

    expect(page.get_by_role("status")).to_contain_text("Draft invoice made")
    page.get_by_role("button", name="Issue the invoice").click()
    number = f"INV-{timezone.localdate().year}-000001"
    expect(page.get_by_test_id("invoice-number")).to_have_text(f"Invoice {number}")
    expect(page.get_by_test_id("invoice-total")).to_have_text("$203.40")

    page.get_by_role("navigation", name="Invoicing").get_by_role(
        "link", name="Record a payment"
    ).click()
    page.get_by_label("Insurer").select_option(label="Maple Assist")
    page.get_by_label("Amount (CAD)").fill("203.40")
    page.get_by_label("Method").select_option(label="Electronic funds transfer")
    page.get_by_label("Reference").fill("EFT-7781")
    page.get_by_role("button", name="Record the payment").click()

    result = page.get_by_test_id("payment-result")
    expect(result).to_contain_text(number)
    expect(page.get_by_test_id("payment-credit-left")).to_contain_text(
        "Left over from this payment: $0.00"
    )

    page.goto(f"/staff/bookings/{case.order_id}/")
    expect(page.get_by_test_id("case-invoice-balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("invoice-panel").get_by_test_id("invoice-status")).to_have_text(
        "Paid"
    )
    assert Invoice.objects.get(display_number=number).status == InvoiceStatus.PAID
