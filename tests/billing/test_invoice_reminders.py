"""The reminder before the due date: the overdue sweep also queues one email for each invoice
still unpaid and due in MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE days or fewer (5 by default;
0: none), in the insurer's language, with the balance left and the PDF attached; never twice,
however often the sweep runs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from medworks.billing.invoices import (
    credit_note_issue,
    invoices_mark_overdue,
    invoices_remind_before_due,
    payment_record,
)
from medworks.billing.models import Invoice, InvoiceStatus
from medworks.billing.services import insurer_invoicing_update
from medworks.notifications.models import OutboxMessage
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

NOV_20 = dt.date(2026, 11, 20)  # issued then at 30 days' terms: due Dec. 20
DUE = dt.date(2026, 12, 20)


@pytest.fixture(autouse=True)
def five_days(settings):
    settings.MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE = 5
    settings.MEDWORKS_INVOICE_TERMS_DAYS = 30


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist")


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $180.00 with the fee, HST 13%: $203.40


@pytest.fixture
def invoice(insurer, toronto, booking_agent, finance_user):
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    return issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)


def reminders(invoice: Invoice) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(
            template="invoice_due_soon", related_type="billing.invoice", related_id=str(invoice.pk)
        )
    )


def plain(text: str) -> str:
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


def test_the_sweep_reminds_an_invoice_due_in_five_days_once(invoice):
    assert invoices_mark_overdue(today=DUE - dt.timedelta(days=6)) == 0
    assert reminders(invoice) == []  # six days before: not yet

    invoices_mark_overdue(today=DUE - dt.timedelta(days=5))
    invoices_mark_overdue(today=DUE - dt.timedelta(days=5))
    invoices_mark_overdue(today=DUE - dt.timedelta(days=2))
    invoices_mark_overdue(today=DUE)

    (message,) = reminders(invoice)
    assert message.to == [invoice.lines.get().case.insurer_contact_email.lower()]
    assert message.subject == f"Reminder: invoice {invoice.display_number} is due on Dec. 20, 2026"
    body = plain(message.body)
    assert "Left to pay: $203.40 (total, taxes included: $203.40)." in body
    assert f"Please quote {invoice.display_number} with your payment." in body
    assert message.attachments[0][0] == f"{invoice.display_number}.pdf"
    assert message.attachments[0][2] == {"source": "invoice_pdf", "ref": str(invoice.pk)}
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED  # a reminder moves nothing


def test_a_partly_paid_invoice_is_reminded_of_what_is_left(invoice, insurer, finance_user):
    payment_record(
        insurer=insurer,
        amount="100.00",
        received_on=dt.date(2026, 11, 25),
        method="eft",
        reference="EFT 1",
        actor=act(finance_user),
        allocations=[invoice],
    )

    assert invoices_remind_before_due(today=dt.date(2026, 12, 16)) == 1

    (message,) = reminders(invoice)
    assert "Left to pay: $103.40 (total, taxes included: $203.40)." in plain(message.body)


def test_a_paid_or_credited_invoice_is_not_reminded(
    invoice, insurer, finance_user, toronto, booking_agent
):
    credited = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    credit_note_issue(invoice=credited, actor=act(finance_user), reason="Billed twice.")
    payment_record(
        insurer=insurer,
        amount="203.40",
        received_on=dt.date(2026, 11, 25),
        method="cheque",
        reference="CHQ 9",
        actor=act(finance_user),
        allocations=[invoice],
    )

    assert invoices_remind_before_due(today=dt.date(2026, 12, 16)) == 0
    assert reminders(invoice) == [] and reminders(credited) == []


def test_the_reminder_goes_to_the_billing_email_in_the_insurers_language(
    finance_user, toronto, booking_agent
):
    insurer = make_insurer(finance_user, name="Assurance Érable", language="fr")
    insurer_invoicing_update(
        actor=act(finance_user), insurer=insurer, data={"billing_email": "cp@erable.example"}
    )
    invoice = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )

    invoices_mark_overdue(today=dt.date(2026, 12, 18))

    (message,) = reminders(invoice)
    assert message.to == ["cp@erable.example"]
    assert message.language == "fr"
    assert plain(message.subject) == (
        f"Rappel : la facture {invoice.display_number} est payable le 20 décembre 2026"
    )
    body = plain(message.body)
    assert "Reste à payer : 203,40 $" in body
    assert "Reminder" not in body and "Left to pay" not in body


def test_the_insurers_own_terms_set_the_day_and_not_on_the_day_of_issue(
    finance_user, insurer, toronto, booking_agent
):
    insurer_invoicing_update(
        actor=act(finance_user), insurer=insurer, data={"payment_terms_days": 3}
    )
    invoice = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    assert invoice.due_date == dt.date(2026, 11, 23)

    invoices_remind_before_due(today=NOV_20)  # the issue email has just said when it is due
    assert reminders(invoice) == []
    invoices_remind_before_due(today=dt.date(2026, 11, 21))
    assert len(reminders(invoice)) == 1


def test_an_overdue_invoice_gets_the_overdue_reminder_not_this_one(invoice):
    assert invoices_mark_overdue(today=DUE + dt.timedelta(days=1)) == 1

    assert reminders(invoice) == []
    assert OutboxMessage.objects.filter(
        template="invoice_overdue", related_id=str(invoice.pk)
    ).exists()


def test_zero_days_turns_the_reminder_off(invoice, settings):
    settings.MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE = 0

    assert invoices_remind_before_due(today=DUE - dt.timedelta(days=1)) == 0
    invoices_mark_overdue(today=DUE)
    assert reminders(invoice) == []


def test_the_default_is_five_days_and_the_worker_runs_the_sweep():
    from django.conf import settings as django_settings

    from medworks.settings import MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE

    assert MEDWORKS_INVOICE_REMINDER_DAYS_BEFORE_DUE == 5
    assert "medworks.billing.invoices.invoices_mark_overdue" in (
        django_settings.MEDWORKS_PERIODIC_JOBS
    )
