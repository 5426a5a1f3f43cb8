"""Orders taken the whole way through the real use cases, for the reconciliation tests: a
direct-billing order (the clinic invoices MedWorks) and a pre-paid one (order to finance,
payment request approved and paid), then invoiced to the insurer and paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone

from medworks.billing.invoices import payment_record
from medworks.billing.orders import order_send
from medworks.billing.provider_invoices import (
    LineIn,
    provider_invoice_approve,
    provider_invoice_record,
    provider_payment_record,
)
from medworks.payments.models import PaymentMethod
from medworks.payments.requests import (
    payment_made_record,
    payment_request_prepare,
    payment_request_step,
)
from tests.billing.invoicing import issued_invoice
from tests.documents import samples
from tests.factories import act

D = Decimal


def provider_invoice(case, actor, *, amount="120.00", tax="15.60", number="PV-100"):
    """The provider's invoice for the case, recorded with its PDF."""
    return provider_invoice_record(
        provider=case.location.partner,
        number=number,
        invoice_date=timezone.localdate(),
        lines=[LineIn(case=case, amount=amount)],
        tax_total=tax,
        total=f"{D(amount) + D(tax):.2f}",
        file=ContentFile(samples.pdf(f"Invoice {number}")),
        filename=f"{number}.pdf",
        actor=act(actor),
    )


def provider_paid(invoice, finance_user, *, note: str = ""):
    """Finance approves the provider's invoice and pays it in full by EFT."""
    invoice = provider_invoice_approve(invoice=invoice, actor=act(finance_user), note=note)
    provider_payment_record(
        invoice=invoice,
        amount=invoice.total,
        paid_on=timezone.localdate(),
        method="eft",
        reference="EFT-1",
        actor=act(finance_user),
    )
    invoice.refresh_from_db()
    return invoice


def insurer_invoiced(case, finance_user, *, paid: Decimal | str | None = None):
    """The insurer invoiced for the case; `paid`: an amount received on it ("all": in full)."""
    invoice = issued_invoice(case=case, finance_user=finance_user)
    if paid is not None:
        amount = invoice.total if paid == "all" else D(paid)
        payment_record(
            insurer=case.insurer,
            amount=amount,
            received_on=timezone.localdate(),
            method="eft",
            reference=f"WIRE-{invoice.pk}",
            actor=act(finance_user),
            allocations=[(invoice, amount)],
        )
    invoice.refresh_from_db()
    return invoice


def prepaid(case, agent, chief, ceo, *, method=PaymentMethod.MEDWORKS_CARD, order=True):
    """The pre-paid order's case 4: the order to finance, the request reviewed, approved and
    paid (the approved amount)."""
    if order:
        order_send(case=case, actor=act(agent))
    request = payment_request_prepare(cases=[case], method=method, actor=act(agent))
    payment_request_step(request=request, name="submit", actor=act(agent))
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_step(request=request, name="approve", actor=act(ceo))
    payment_made_record(
        request=request,
        paid_on=timezone.localdate(),
        amount=request.clinic_cost,
        participants="Alex (booking), Chris (Chief of Staff), the clinic",
        confirmation="AUTH-1",
        actor=act(agent),
    )
    request.refresh_from_db()
    return request


def in_past_month(case, *, months_back: int = 1):
    """Move the order's date into an earlier month (a month finance may close)."""
    first = timezone.localdate().replace(day=1)
    day = first
    for _ in range(months_back):
        day = (day - dt.timedelta(days=1)).replace(day=1)
    when = dt.datetime.combine(
        day.replace(day=10), dt.time(9), tzinfo=timezone.get_current_timezone()
    )
    type(case).objects.filter(pk=case.pk).update(created_at=when)
    case.refresh_from_db()
    return case
