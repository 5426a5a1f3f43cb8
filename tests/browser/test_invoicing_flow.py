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


def test_the_clinic_invoices_finance_pays_it_bills_the_insurer_and_both_balances_reach_zero(
    page, log_in, finance_user, booking_agent, clinic_user
):
    """SOP case 3 end to end: the clinic sends its invoice from its portal, finance approves
    it and pays the clinic, issues the insurer's invoice, records the insurer's payment."""
    from tests import factories
    from tests.documents import samples

    insurer = make_insurer(finance_user, name="Maple Assist")
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    case = ready_case(insurer=insurer, location=location, agent=booking_agent)

    # The clinic, in its portal: the amount starts at its agreed price.
    log_in(clinic_user)
    page.goto(f"/clinic/requests/{case.order_id}/")
    form = page.get_by_test_id("invoice-form")
    form.locator('input[name="invoice-file"]').set_input_files(
        files=[{"name": "HC-2041.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()}]
    )
    form.get_by_label("Your invoice number").fill("HC-2041")
    form.get_by_label("Invoice date").fill(timezone.localdate().isoformat())
    expect(form.get_by_label("X-ray, before tax (CAD)")).to_have_value("120.00")
    form.get_by_role("textbox", name="Tax (CAD)", exact=True).fill("0.00")
    form.get_by_label("Total (CAD)").fill("120.00")
    form.get_by_role("button", name="Send the invoice").click()
    expect(page.get_by_role("status")).to_contain_text("Invoice HC-2041 received")
    page.get_by_role("button", name="Sign out").click()

    # Finance: the provider's invoice, unflagged, approved and paid by EFT.
    log_in(finance_user)
    page.goto("/staff/payables/")
    page.get_by_role("link", name="HC-2041").click()
    expect(page.get_by_test_id("provider-invoice-flags")).to_have_count(0)
    page.get_by_role("button", name="Approve for payment").click()
    expect(page.get_by_test_id("provider-invoice-balance")).to_have_text("$120.00")
    payment = page.get_by_test_id("provider-payment-form")
    payment.get_by_label("Amount (CAD)").fill("120.00")
    payment.get_by_label("Reference").fill("EFT-0042")
    payment.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_test_id("provider-invoice-balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("provider-invoice-status")).to_have_text("Paid")

    # Then the insurer's invoice, issued and paid.
    page.goto(f"/staff/bookings/{case.order_id}/")
    expect(page.get_by_test_id("case-provider-invoices")).to_contain_text("Paid")
    page.get_by_test_id("invoice-panel").get_by_role("button", name="Draft the invoice").click()
    page.get_by_role("button", name="Issue the invoice").click()
    number = f"INV-{timezone.localdate().year}-000001"
    expect(page.get_by_test_id("invoice-number")).to_have_text(f"Invoice {number}")
    page.get_by_role("navigation", name="Invoicing").get_by_role(
        "link", name="Record a payment"
    ).click()
    page.get_by_label("Insurer").select_option(label="Maple Assist")
    page.get_by_label("Amount (CAD)").fill("203.40")
    page.get_by_label("Method").select_option(label="Electronic funds transfer")
    page.get_by_label("Reference").fill("EFT-7781")
    page.get_by_role("button", name="Record the payment").click()
    page.goto(f"/staff/bookings/{case.order_id}/")
    expect(page.get_by_test_id("case-invoice-balance")).to_have_text("$0.00")
    assert Invoice.objects.get(display_number=number).status == InvoiceStatus.PAID
