"""The emails of invoicing: an invoice or credit note issued, the reminder of an invoice soon
due, and the reminder of an invoice that became overdue, each to the insurer's billing
contact, in the invoice's language (the insurer's correspondence language, as its PDF), with
the PDF attached by reference (read and unsealed at send time from `InvoicePdf`, stored once:
`invoice_pdf_attachment`).

Who gets them (`invoice_recipients`):
- the insurer's billing email when finance set one (`InsurerPricing.billing_email`, on the
  insurer's settings page): invoices, credit notes and reminders all go there;
- else, an invoice of one case: that case's insurer contact, the person who asked for the
  booking and whom the quote was sent to for confirmation (as `emails.insurer_quote`);
- else, a statement of several cases: the insurer's own users (active, with the insurer role),
  since no one case's contact speaks for the month; if it has none, each case's contact.

Queued inside the issuing transaction (`invoices._issue`) and the overdue sweep's
(`invoices.invoices_mark_overdue`): the email commits with the change or not at all. The
reminder is sent once per invoice: the sweep moves an invoice to overdue once (nothing leads
back to issued), and `invoice_overdue_reminder` also skips an invoice already reminded.

Before the due date (`invoice_due_reminder`, queued by the same sweep through
`invoices.invoices_remind_before_due`): one reminder per invoice still unpaid and due in
MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE days or fewer (0: none), template
`invoice_due_soon.txt` with the balance left. "Reminded" is the outbox row itself (this
template, related to the invoice), as for the overdue reminder: no field of the invoice
records it. The sweep holds the invoice's row (FOR UPDATE) while it checks and queues, so two
workers sweeping at once queue one reminder.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from medworks.accounts.models import RoleCode, User
from medworks.core.money import format_money
from medworks.documents.storage import unseal
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import attachment_ref, email_queue

from .models import Invoice, InvoiceKind, InvoicePdf
from .receivables import invoice_balance
from .selectors import insurer_pricing_of

ISSUED_TEMPLATE = "invoice_issued"
DUE_SOON_TEMPLATE = "invoice_due_soon"
OVERDUE_TEMPLATE = "invoice_overdue"
ATTACHMENT_SOURCE = "invoice_pdf"


def invoice_pdf_attachment(ref: str) -> bytes:
    """The attachment reader registered from `apps.ready()`: the stored PDF of invoice `ref`
    (its id), unsealed at send time."""
    stored = InvoicePdf.objects.get(invoice_id=int(ref))
    return unseal(bytes(stored.sealed))


def invoice_recipients(invoice: Invoice) -> list[str]:
    """Who gets the invoice's emails (see the module's docstring)."""
    billing_email = insurer_pricing_of(invoice.insurer).billing_email.strip().lower()
    if billing_email:
        return [billing_email]
    target = invoice.credits if invoice.kind == InvoiceKind.CREDIT_NOTE else invoice
    contacts = sorted(
        {
            email.strip().lower()
            for email in target.lines.filter(case__isnull=False).values_list(
                "case__insurer_contact_email", flat=True
            )
            if email and email.strip()
        }
    )
    if len(contacts) == 1 and target.statement_month is None:
        return contacts
    users = sorted(
        {
            email.strip().lower()
            for email in User.objects.filter(
                organisation_id=invoice.insurer_id,
                is_active=True,
                roles__code=RoleCode.INSURER_USER,
            ).values_list("email", flat=True)
            if email and email.strip()
        }
    )
    return users or contacts


def _portal_url() -> str:
    # The insurer portal's invoices page (web:portal_invoices) is being built beside this; until
    # it exists the email links to the portal's home page.
    try:
        path = reverse("web:portal_invoices")
    except NoReverseMatch:
        path = reverse("web:portal_home")
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path


def _queue(invoice: Invoice, *, template: str, extra: dict | None = None) -> OutboxMessage | None:
    to = invoice_recipients(invoice)
    if not to:
        return None  # no one to write to: the invoice is in the portal all the same
    language = invoice.language or "en"
    credited = invoice.credits if invoice.kind == InvoiceKind.CREDIT_NOTE else None
    return email_queue(
        to=to,
        template=template,
        language=language,
        context={
            "number": invoice.display_number,
            "credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
            "credited_number": credited.display_number if credited else "",
            "reason": invoice.reason,
            "insurer": invoice.insurer.name,
            "total": format_money(invoice.total, language),
            "issue_date": invoice.issue_date,
            "due_date": invoice.due_date,
            "portal_url": _portal_url(),
            **(extra or {}),
        },
        related=invoice,
        attachments=[
            (
                f"{invoice.display_number}.pdf",
                "application/pdf",
                attachment_ref(source=ATTACHMENT_SOURCE, ref=str(invoice.pk)),
            )
        ],
    )


def invoice_issued_email(invoice: Invoice) -> OutboxMessage | None:
    """Queue the email of an issued invoice or credit note (its PDF stored already). Call
    inside the issuing transaction."""
    return _queue(invoice, template=ISSUED_TEMPLATE)


def invoice_reminded(invoice: Invoice, *, template: str) -> bool:
    """Whether the invoice's email of `template` is in the outbox already (queued, sent or
    failed: it was written once)."""
    return OutboxMessage.objects.filter(
        template=template,
        related_type=Invoice._meta.label_lower,
        related_id=str(invoice.pk),
    ).exists()


def invoice_overdue_reminder(invoice: Invoice) -> OutboxMessage | None:
    """Queue the reminder of an invoice just marked overdue, once: an invoice already
    reminded is skipped. Call inside the sweep's transaction."""
    if invoice_reminded(invoice, template=OVERDUE_TEMPLATE):
        return None
    return _queue(invoice, template=OVERDUE_TEMPLATE)


def invoice_due_reminder(invoice: Invoice) -> OutboxMessage | None:
    """Queue the reminder of an unpaid invoice soon due (its balance left, its due date),
    once: an invoice already reminded is skipped. Call inside the sweep's transaction, the
    invoice's row locked."""
    if invoice_reminded(invoice, template=DUE_SOON_TEMPLATE):
        return None
    language = invoice.language or "en"
    balance = invoice_balance(invoice)
    return _queue(
        invoice,
        template=DUE_SOON_TEMPLATE,
        extra={"balance": format_money(balance, language)},
    )
