"""What an insurer reads of its own invoices, in its portal and through the API (SOP case 3:
"the insurer finds the invoice in its portal and through the API, with its status and
balance").

- `insurer_invoices(actor=, ...)`: the caller's organisation's invoices and credit notes once
  issued (never a draft: it has no number and was not sent), newest first. The queryset is the
  permission: an actor of no insurer gets none, so a detail read can only load its own.
- `insurer_invoice_get(actor=, invoice_id= | number=)`: one of them, NotFound
  (`invoice_not_found`) otherwise: another insurer's invoice is not disclosed.
- `invoice_payments_received(invoice)`: what each payment paid on it (the allocations).
- `case_invoice(case)`: the latest issued invoice billing a case (its page shows it).
- `invoice_pdf_download(invoice=, actor=, origin=)`: the stored PDF (billing.invoices'
  `invoice_pdf_bytes`), the read recorded with an audit row (`invoice.pdf_downloaded`).

Balances are the ledger's (`receivables`), never stored.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from medworks.accounts.models import OrganisationKind
from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.errors import NotFound

from .invoices import invoice_pdf_bytes
from .models import Invoice, InvoiceKind, InvoiceStatus, PaymentAllocation

# What an insurer may filter its invoices by: every status an issued document can have.
INSURER_STATUSES = tuple(s for s in InvoiceStatus if s != InvoiceStatus.DRAFT)


def _insurer_id_of(actor: Actor) -> int | None:
    """The insurer the actor reads for: its portal user or its API key; None for anyone else."""
    if not (
        actor_can(actor, Capability.INSURER_PORTAL) or actor_can(actor, Capability.BOOKING_SUBMIT)
    ):
        return None
    organisation = getattr(actor.principal, "organisation", None)
    if organisation is None or organisation.kind != OrganisationKind.INSURER:
        return None
    return organisation.pk


def insurer_invoices(
    *,
    actor: Actor,
    status: str | None = None,
    issued_from: dt.date | None = None,
    issued_to: dt.date | None = None,
) -> QuerySet[Invoice]:
    """The actor's insurer's issued invoices and credit notes, newest first (issue date, then
    the order they were issued in)."""
    insurer_id = _insurer_id_of(actor)
    if insurer_id is None:
        return Invoice.objects.none()
    invoices = Invoice.objects.filter(insurer_id=insurer_id, number__isnull=False).exclude(
        status=InvoiceStatus.DRAFT
    )
    if status:
        invoices = invoices.filter(status=status)
    if issued_from is not None:
        invoices = invoices.filter(issue_date__gte=issued_from)
    if issued_to is not None:
        invoices = invoices.filter(issue_date__lte=issued_to)
    return invoices.select_related("credits").order_by("-issue_date", "-issued_at", "-pk")


def insurer_invoice_get(
    *, actor: Actor, invoice_id: int | None = None, number: str | None = None
) -> Invoice:
    """One issued invoice or credit note of the actor's insurer, its lines (with their cases
    and services) and taxes loaded; NotFound `invoice_not_found` otherwise."""
    invoices = insurer_invoices(actor=actor).prefetch_related(
        "lines__case", "lines__service", "taxes"
    )
    if invoice_id is not None:
        invoice = invoices.filter(pk=invoice_id).first()
    elif number:
        invoice = invoices.filter(display_number=number).first()
    else:
        invoice = None
    if invoice is None:
        raise NotFound("invoice_not_found", _("No such invoice for you."))
    return invoice


def invoice_payments_received(invoice: Invoice) -> list[PaymentAllocation]:
    """What each payment paid on the invoice, in the order applied (each allocation with its
    payment: the date applied, the method, the amount, the payment's reference)."""
    return list(
        PaymentAllocation.objects.filter(invoice=invoice)
        .select_related("payment")
        .order_by("applied_on", "pk")
    )


def case_invoice(case) -> Invoice | None:
    """The latest issued invoice billing the case (a voided one too: it says so), or None."""
    return (
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, number__isnull=False, lines__case=case)
        .order_by("-issue_date", "-issued_at", "-pk")
        .distinct()
        .first()
    )


def invoice_pdf_download(*, invoice: Invoice, actor: Actor, origin: str) -> bytes:
    """The invoice's stored PDF for its insurer or finance; the read is recorded (who, where
    from: "portal", "api")."""
    with transaction.atomic():
        content = invoice_pdf_bytes(invoice=invoice, actor=actor)
        audit_record(
            actor=actor,
            action="invoice.pdf_downloaded",
            obj=invoice,
            summary=f"{invoice.display_number} PDF downloaded",
            payload={"origin": origin, "number": invoice.display_number},
        )
    return content
