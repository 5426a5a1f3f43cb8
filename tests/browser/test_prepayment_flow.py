"""SOP case 4 in a real browser: the insurer enters its corporate card in its portal, the
booking team prepares the pre-payment to the clinic from the case's page, the Chief of Staff
reviews it, the CEO approves it (each signing in), the booking team records the payment
made, then finance issues the insurer's invoice and charges the insurer's card from the
invoice page, and the case's invoice balance reaches $0.00."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from medworks.accounts.models import RoleCode
from medworks.billing.models import Invoice, InvoiceStatus
from medworks.network.models import BillingArrangement
from medworks.payments.gateway import OfflineGateway
from medworks.payments.models import (
    CardCharge,
    ChargeStatus,
    PaymentRequest,
    PaymentRequestStatus,
    StoredCard,
)
from tests import factories
from tests.billing.invoicing import ready_case

# Transactional: the live server runs in another thread and must see committed data. The
# serialized rollback restores the seeded roles, service catalogue and tax table.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _fresh_gateway():
    OfflineGateway.reset()
    yield
    OfflineGateway.reset()


@pytest.fixture
def chief(db):
    return factories.make_user(
        roles=[RoleCode.CHIEF_OF_STAFF], username="chief", email="chief@medworks.example"
    )


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


def test_a_prepayment_from_preparation_to_the_insurers_card_charged_and_a_zero_balance(
    page, log_in, insurer_user, booking_agent, chief, ceo, finance_user
):
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.CREDIT_CARD, BillingArrangement.INSURER_CARD],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    case = ready_case(insurer=insurer_user.organisation, location=location, agent=booking_agent)

    def sign_out():
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()

    # The insurer, in its portal: its corporate card for the case, by the secure form.
    log_in(insurer_user)
    page.goto(f"/portal/requests/{case.order_id}/")
    panel = page.get_by_test_id("card-panel")
    expect(panel).to_contain_text("This provider is paid in advance")
    panel.get_by_role("link", name="Enter your corporate card").click()
    form = page.get_by_test_id("card-form")
    form.get_by_label("Card number").fill("4111 1111 1111 1111")
    form.get_by_label("Name on card").fill("Isabel Insurer")
    form.get_by_label("Expiry month (MM)").fill("08")
    form.get_by_label("Expiry year (YYYY)").fill(str(timezone.localdate().year + 2))
    form.get_by_label("Security code").fill("123")
    form.get_by_role("button", name="Keep the card on file").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Visa ending in 1111 is on file for {case.order_id}"
    )
    expect(page.get_by_test_id("card-panel")).to_contain_text("On file: Visa ending in 1111.")
    assert "4111" not in page.content()
    sign_out()

    # The booking team prepares the request from the case's page and sends it on.
    log_in(booking_agent)
    page.goto(f"/staff/bookings/{case.order_id}/")
    prepayment = page.get_by_test_id("prepayment")
    expect(prepayment.get_by_test_id("staff-card-link")).to_have_text(
        "Insurer's card: Visa ending in 1111"
    )
    prepayment.get_by_role("link", name="Prepare the payment request").click()
    form = page.get_by_test_id("payment-request-form")
    expect(form.get_by_label("Order Ids")).to_have_value(case.order_id)
    form.get_by_label("Paid by").select_option(label="MedWorks corporate card")
    form.get_by_role("button", name="Prepare the request").click()
    expect(page.get_by_role("status")).to_contain_text("prepared")
    number = (
        page.get_by_test_id("payment-request-number").inner_text().removeprefix("Payment request ")
    )
    expect(page.get_by_test_id("sop-table")).to_contain_text(case.patient.full_name)
    expect(page.get_by_test_id("sop-clinic-cost")).to_have_text("$120.00")
    expect(page.get_by_test_id("sop-total")).to_have_text("$180.00")
    page.get_by_role("button", name="Send to the Chief of Staff").click()
    expect(page.get_by_role("status")).to_contain_text(f"{number} sent to the Chief of Staff.")
    sign_out()

    # The Chief of Staff finds it in the queue and reviews it.
    log_in(chief)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pre-payments").click()
    page.get_by_test_id("payments-waiting").get_by_role("link", name=number).click()
    page.get_by_role("button", name="Reviewed: send to the CEO").click()
    expect(page.get_by_role("status")).to_contain_text(f"{number} reviewed: sent to the CEO.")
    sign_out()

    # The CEO approves it.
    log_in(ceo)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pre-payments").click()
    page.get_by_test_id("payments-waiting").get_by_role("link", name=number).click()
    expect(page.get_by_test_id("payment-request-approvals")).to_contain_text("chief")
    page.get_by_role("button", name="Approve the pre-payment").click()
    expect(page.get_by_role("status")).to_contain_text(f"{number} approved")
    sign_out()

    # The booking team records the payment made on the call with the clinic.
    log_in(booking_agent)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Pre-payments").click()
    page.get_by_test_id("payments-waiting").get_by_role("link", name=number).click()
    paid = page.get_by_test_id("payment-made-form")
    expect(paid.get_by_label("Amount (CAD)")).to_have_value("120.00")
    paid.get_by_label("Who took part in the call").fill(
        "Alex, Chris (Chief of Staff), Dana at the clinic"
    )
    paid.get_by_label("The clinic's confirmation or authorisation number").fill("AUTH-5521")
    paid.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Payment of 120.00 to Lakeview Physio recorded."
    )
    expect(page.get_by_test_id("payment-made")).to_contain_text("confirmation AUTH-5521")
    assert PaymentRequest.objects.get().status == PaymentRequestStatus.PAID
    sign_out()

    # Finance issues the insurer's invoice and charges the insurer's card from it.
    log_in(finance_user)
    page.goto(f"/staff/bookings/{case.order_id}/")
    page.get_by_test_id("invoice-panel").get_by_role("button", name="Draft the invoice").click()
    expect(page.get_by_role("status")).to_contain_text("Draft invoice made")
    page.get_by_role("button", name="Issue the invoice").click()
    invoice_number = f"INV-{timezone.localdate().year}-000001"
    expect(page.get_by_test_id("invoice-number")).to_have_text(f"Invoice {invoice_number}")
    expect(page.get_by_test_id("invoice-total")).to_have_text("$203.40")
    charge = page.get_by_test_id("invoice-card-charge")
    charge.get_by_role("button", name="Charge $203.40 to Visa ending in 1111").click()
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Visa ending in 1111 charged 203\.40 \(authorisation OFF-[0-9A-F]{10}\)\.")
    )
    expect(page.get_by_test_id("invoice-card-charge")).to_have_count(0)

    page.goto(f"/staff/bookings/{case.order_id}/")
    expect(page.get_by_test_id("case-invoice-balance")).to_have_text("$0.00")
    expect(page.get_by_test_id("invoice-panel").get_by_test_id("invoice-status")).to_have_text(
        "Paid"
    )
    assert Invoice.objects.get(display_number=invoice_number).status == InvoiceStatus.PAID
    charged = CardCharge.objects.get()
    assert (charged.status, str(charged.amount)) == (ChargeStatus.SUCCEEDED, "203.40")
    card = StoredCard.objects.get()
    assert card.number_sealed is None and card.security_code_sealed is None
