"""Charging the insurer's card for what it owes on the case's invoice (SOP case 4 step 5):
through the payment gateway, once per idempotency key; declined, nothing is posted and the
case still owes; retried, it is charged once; paid, the card's secrets are destroyed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from medworks.billing.models import InvoiceStatus, PaymentReceived
from medworks.billing.receivables import invoice_balance
from medworks.core.errors import DomainError, PermissionDenied
from medworks.payments.charges import card_charge
from medworks.payments.gateway import OfflineGateway
from medworks.payments.models import CardCharge, ChargeStatus
from medworks.payments.vault import card_store
from tests.billing.invoicing import issued_invoice
from tests.factories import act

D = Decimal


@pytest.fixture(autouse=True)
def _fresh_gateway():
    OfflineGateway.reset()
    yield
    OfflineGateway.reset()


def _card(case, agent, number="4111 1111 1111 1111"):
    return card_store(
        case=case,
        number=number,
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(timezone.localdate().year + 2),
        security_code="123",
        actor=act(agent),
    )


@pytest.fixture
def invoice(prepaid_case, finance_user):
    return issued_invoice(case=prepaid_case, finance_user=finance_user)


def test_the_card_is_charged_the_balance_and_the_payment_recorded(
    prepaid_case, invoice, booking_agent, finance_user
):
    card = _card(prepaid_case, booking_agent)
    charge = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="k" * 32)
    assert (charge.status, charge.amount) == (ChargeStatus.SUCCEEDED, D("203.40"))
    assert charge.gateway_reference.startswith("OFF-")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice_balance(invoice) == D("0.00")
    payment = PaymentReceived.objects.get()
    assert payment.method == "card" and charge.gateway_reference in payment.reference
    assert "4111111111111111" not in payment.reference
    card.refresh_from_db()
    assert card.number_sealed is None and card.security_code_sealed is None
    assert prepaid_case.events.filter(kind="card_charged").exists()


def test_the_same_key_twice_is_one_charge(prepaid_case, invoice, booking_agent, finance_user):
    _card(prepaid_case, booking_agent)
    first = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="a" * 32)
    again = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="a" * 32)
    assert first.pk == again.pk
    assert CardCharge.objects.count() == 1 and PaymentReceived.objects.count() == 1
    assert OfflineGateway.calls == ["a" * 32]  # the processor was asked once


def test_a_declined_charge_posts_nothing_and_a_retry_charges_once(
    prepaid_case, invoice, booking_agent, finance_user
):
    _card(prepaid_case, booking_agent)
    OfflineGateway.decline_all = True
    declined = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="d" * 32)
    assert declined.status == ChargeStatus.DECLINED
    assert "insufficient funds" in declined.decline_reason
    assert not PaymentReceived.objects.exists()
    assert invoice_balance(invoice) == D("203.40")
    assert prepaid_case.events.filter(kind="card_declined").exists()
    # Retrying the declined one's key gives the same answer, and asks for nothing new.
    assert (
        card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="d" * 32).status
        == ChargeStatus.DECLINED
    )
    OfflineGateway.decline_all = False
    retried = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="r" * 32)
    assert retried.status == ChargeStatus.SUCCEEDED
    assert PaymentReceived.objects.count() == 1
    with pytest.raises(DomainError) as nothing_left:
        card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="z" * 32)
    assert nothing_left.value.code in {"card_charge_nothing_owed", "card_destroyed"}


def test_a_card_ending_in_0002_is_declined(prepaid_case, invoice, booking_agent, finance_user):
    _card(prepaid_case, booking_agent, number="4000 0000 0000 0002")
    charge = card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="x" * 32)
    assert charge.status == ChargeStatus.DECLINED


def test_only_finance_charges_and_a_card_must_be_on_file(
    prepaid_case, invoice, booking_agent, finance_user
):
    with pytest.raises(DomainError) as no_card:
        card_charge(invoice=invoice, actor=act(finance_user), idempotency_key="n" * 32)
    assert no_card.value.code == "card_none"
    _card(prepaid_case, booking_agent)
    with pytest.raises(PermissionDenied):
        card_charge(invoice=invoice, actor=act(booking_agent), idempotency_key="p" * 32)
    assert not CardCharge.objects.exists()
