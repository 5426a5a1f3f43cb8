"""The invoice emails: an invoice or credit note issued goes to the insurer's billing contact
in the insurer's language with its PDF attached (read from the stored, sealed PDF at send
time), through the outbox and a real SMTP server; an invoice that becomes overdue gets one
reminder, however often the sweep runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pytest
from pypdf import PdfReader

from medworks.accounts.models import RoleCode
from medworks.billing.invoice_emails import invoice_recipients
from medworks.billing.invoices import (
    credit_note_issue,
    invoice_draft_statement,
    invoice_issue,
    invoices_mark_overdue,
)
from medworks.billing.models import Invoice, InvoicePdf
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import outbox_message_deliver
from tests import factories
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act
from tests.notifications.conftest import SMTPServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(settings):
    """A real SMTP server (aiosmtpd, tests/notifications/conftest.py) for the insurer's mail."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $180.00 with the fee, HST 13%: $203.40


def plain(text: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def emails_of(invoice: Invoice, template: str = "invoice_issued"):
    return list(
        OutboxMessage.objects.filter(
            template=template, related_type="billing.invoice", related_id=str(invoice.pk)
        )
    )


def test_the_issued_invoice_reaches_the_insurer_contact_with_its_pdf(
    finance_user, booking_agent, toronto, inbox, settings
):
    insurer = make_insurer(finance_user, name="Maple Assist")
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)

    invoice = issued_invoice(case=case, finance_user=finance_user)

    (message,) = emails_of(invoice)
    assert message.to == [case.insurer_contact_email.lower()]
    assert outbox_message_deliver(message_id=message.pk) == "sent"
    (received,) = inbox.received
    assert received.rcpt_tos == [case.insurer_contact_email.lower()]
    assert received.subject == f"Invoice {invoice.display_number} from MedWorks"
    body = plain(received.body)
    assert invoice.display_number in body
    assert "Total, taxes included: $203.40" in body
    assert f"Due date: {invoice.due_date:%b}" in body
    assert settings.MEDWORKS_BASE_URL.rstrip("/") in body
    attachment = next(received.message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.display_number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert hashlib.sha256(data).hexdigest() == InvoicePdf.objects.get(invoice=invoice).sha256
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert invoice.display_number in text


def test_a_french_insurer_gets_its_invoice_in_french(finance_user, booking_agent, toronto, inbox):
    insurer = make_insurer(finance_user, name="Assurance Érable", language="fr")
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)

    invoice = issued_invoice(case=case, finance_user=finance_user)

    (message,) = emails_of(invoice)
    assert message.language == "fr"
    outbox_message_deliver(message_id=message.pk)
    (received,) = inbox.received
    assert received.subject == f"Facture {invoice.display_number} de MedWorks"
    body = plain(received.body)
    assert "Total, taxes comprises : 203,40 $" in body
    assert "Le PDF est joint." in body
    assert next(received.message.iter_attachments()).get_filename().endswith(".pdf")


def test_a_credit_note_is_emailed_with_its_reason_and_its_own_pdf(
    finance_user, booking_agent, toronto
):
    insurer = make_insurer(finance_user, name="Maple Assist")
    invoice = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
    )

    note = credit_note_issue(invoice=invoice, actor=act(finance_user), reason="Wrong service.")

    (message,) = emails_of(note)
    assert message.subject == f"Credit note {note.display_number} from MedWorks"
    assert invoice.display_number in message.body
    assert "Reason: Wrong service." in message.body
    assert message.attachments[0][0] == f"{note.display_number}.pdf"
    assert message.attachments[0][2] == {"source": "invoice_pdf", "ref": str(note.pk)}


def test_a_statement_goes_to_the_insurers_own_users(finance_user, booking_agent, toronto):
    insurer = make_insurer(finance_user, name="Maple Assist")
    factories.make_user(
        roles=[RoleCode.INSURER_USER],
        organisation=insurer,
        username="claims",
        email="Claims@maple.example",
    )
    seen = dt.date(2026, 11, 10)
    for _ in range(2):
        ready_case(insurer=insurer, location=toronto, agent=booking_agent, seen_on=seen)
    (draft,) = invoice_draft_statement(
        insurer=insurer, month=seen, actor=act(finance_user)
    ).invoices

    assert invoice_recipients(draft) == ["claims@maple.example"]
    invoice = invoice_issue(invoice=draft, actor=act(finance_user))
    (message,) = emails_of(invoice)
    assert message.to == ["claims@maple.example"]


def test_an_overdue_invoice_gets_one_reminder_however_often_the_sweep_runs(
    finance_user, booking_agent, toronto, inbox
):
    insurer = make_insurer(finance_user, name="Maple Assist")
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    invoice = issued_invoice(case=case, finance_user=finance_user)
    late = invoice.due_date + dt.timedelta(days=1)

    assert invoices_mark_overdue(today=invoice.due_date) == 0
    assert emails_of(invoice, "invoice_overdue") == []
    assert invoices_mark_overdue(today=late) == 1
    assert invoices_mark_overdue(today=late + dt.timedelta(days=7)) == 0

    (reminder,) = emails_of(invoice, "invoice_overdue")
    assert reminder.subject == f"Reminder: invoice {invoice.display_number} is overdue"
    assert outbox_message_deliver(message_id=reminder.pk) == "sent"
    (received,) = inbox.received
    assert "is not paid in full yet" in received.body
    assert next(received.message.iter_attachments()).get_filename() == (
        f"{invoice.display_number}.pdf"
    )
