"""An insurer's statement of account: its open invoices on a date with what was paid on each,
their balances and days overdue, its unapplied credit, the ageing and the total owed, all read
from the ledger as of that date; drawn as a PDF in the insurer's language, for finance and for
the insurer itself only."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from medworks.billing import statement_pdf
from medworks.billing.invoices import credit_note_issue, payment_record
from medworks.billing.receivables import insurer_balance, statement_of_account
from medworks.billing.services import insurer_invoicing_update
from medworks.billing.statement_pdf import statement_pdf_bytes
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, NotFound
from medworks.core.models import AuditEvent
from tests import factories
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
AUG_1, OCT_1, NOV_20 = dt.date(2026, 8, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 20)
NOV_30, OCT_15 = dt.date(2026, 11, 30), dt.date(2026, 10, 15)


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0\u202f]+", " ", text)


@pytest.fixture
def book(finance_user, booking_agent):
    """Maple Assist's invoices of $203.40 (30 days' terms): A of Aug. 1 (due Aug. 31) paid
    $100.00 on Sept. 10; B of Oct. 1 (due Oct. 31) paid by a $250.00 EFT on Nov. 25, which
    leaves $46.60 of credit; C of Nov. 20 (due Dec. 20) open; D of Oct. 1 credited (voided).
    And another insurer's invoice, never on Maple's statement."""
    maple = make_insurer(finance_user, name="Maple Assist")
    insurer_invoicing_update(
        actor=act(finance_user),
        insurer=maple,
        data={"billing_address": "Accounts payable\n200 Bay Street\nToronto ON M5J 2J5"},
    )
    other = make_insurer(finance_user, name="Other Assist")
    location = clinic(prices={"XRAY": "120.00"})

    def invoice(insurer, day):
        case = ready_case(insurer=insurer, location=location, agent=booking_agent)
        return issued_invoice(case=case, finance_user=finance_user, issue_date=day)

    issued = {"A": invoice(maple, AUG_1), "B": invoice(maple, OCT_1), "D": invoice(maple, OCT_1)}
    issued["X"] = invoice(other, OCT_1)
    issued["C"] = invoice(maple, NOV_20)
    credit_note_issue(
        invoice=issued["D"], actor=act(finance_user), reason="Billed twice.", issue_date=OCT_1
    )

    def pay(amount, on, target):
        payment_record(
            insurer=maple,
            amount=amount,
            received_on=on,
            method="eft",
            reference=f"EFT {on}",
            actor=act(finance_user),
            allocations=[target],
        )

    pay("100.00", dt.date(2026, 9, 10), (issued["A"], "100.00"))
    pay("250.00", dt.date(2026, 11, 25), issued["B"])
    return maple, other, issued


def test_the_open_items_paid_balance_days_overdue_credit_and_total_on_a_fixed_date(book):
    maple, _other, issued = book

    statement = statement_of_account(maple, as_of=NOV_30)

    rows = [
        (i.invoice.pk, i.total, i.paid, i.balance, i.days_overdue, i.bucket)
        for i in statement.items
    ]
    assert rows == [
        (issued["A"].pk, D("203.40"), D("100.00"), D("103.40"), 91, "over_90"),
        (issued["C"].pk, D("203.40"), D("0.00"), D("203.40"), 0, "current"),
    ]
    assert statement.credit == D("46.60")
    assert statement.open_total == D("306.80")
    assert statement.owed == D("260.20") == insurer_balance(maple, as_of=NOV_30)
    assert statement.buckets == {
        "current": D("203.40"),
        "1_30": D("0.00"),
        "31_60": D("0.00"),
        "61_90": D("0.00"),
        "over_90": D("103.40"),
    }


def test_an_earlier_date_says_what_was_open_then(book):
    maple, _other, issued = book

    statement = statement_of_account(maple, as_of=OCT_15)

    rows = [(i.invoice.pk, i.paid, i.balance, i.days_overdue) for i in statement.items]
    # D is not: its credit note is of Oct. 1 too.
    assert rows == [
        (issued["A"].pk, D("100.00"), D("103.40"), 45),
        (issued["B"].pk, D("0.00"), D("203.40"), 0),
    ]
    assert statement.credit == D("0.00")  # the overpayment came on Nov. 25
    assert statement.owed == D("306.80")
    assert statement.buckets["31_60"] == D("103.40")
    assert statement.buckets["current"] == D("203.40")


def test_the_pdf_shows_the_figures_of_the_date(book, finance_user):
    maple, _other, issued = book

    statement, pdf = statement_pdf_bytes(insurer=maple, actor=act(finance_user), as_of=NOV_30)

    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    assert "Statement of account" in text
    assert "Maple Assist" in text and "200 Bay Street" in text  # its billing address
    assert "Nov. 30, 2026" in text
    open_rows = " ".join(text.split("Open invoices", 1)[1].split("Summary", 1)[0].split())
    a_row = open_rows.split(issued["A"].display_number, 1)[1].strip()
    assert a_row.startswith("Aug. 1, 2026 Aug. 31, 2026 $203.40 $100.00 $103.40 91")
    c_row = open_rows.split(issued["C"].display_number, 1)[1].strip()
    assert c_row.startswith("Nov. 20, 2026 Dec. 20, 2026 $203.40 $0.00 $203.40 —")
    assert "Total of the open invoices $306.80" in open_rows
    for absent in ("B", "D", "X"):
        assert issued[absent].display_number not in text, absent
    summary = " ".join(text.split("Summary", 1)[1].split())
    assert "Open invoices $306.80" in summary
    assert "Unapplied credit -$46.60" in summary
    assert "Total owed $260.20" in summary
    ageing = " ".join(text.split("Ageing of the open invoices", 1)[1].split())
    assert "Current 1-30 days 31-60 days 61-90 days Over 90 days" in ageing
    assert "$203.40 $0.00 $0.00 $0.00 $103.40" in ageing
    assert "Your unapplied credit of $46.60 is deducted from the total owed." in text
    assert statement.owed == D("260.20")
    event = AuditEvent.objects.get(action="statement.pdf_downloaded")
    assert event.actor == finance_user
    assert event.payload == {
        "insurer_id": maple.pk,
        "as_of": "2026-11-30",
        "origin": "",
        "owed": "260.20",
    }


def test_a_french_insurer_reads_its_statement_in_french(book, finance_user):
    maple, _other, _issued = book
    maple.correspondence_language = "fr"
    maple.save(update_fields=["correspondence_language"])

    _statement, pdf = statement_pdf_bytes(insurer=maple, actor=act(finance_user), as_of=NOV_30)

    text = text_of(pdf)
    assert "Relevé de compte" in text
    assert "30 novembre 2026" in text
    summary = " ".join(text.split("Résumé", 1)[1].split())
    assert "Total dû 260,20 $" in summary
    assert "-46,60 $" in summary
    assert "Plus de 90 jours" in text
    assert "Statement" not in text and "Total owed" not in text


def test_an_insurer_with_nothing_open_gets_a_statement_saying_so(finance_user):
    insurer = make_insurer(finance_user, name="Quiet Assist")

    statement, pdf = statement_pdf_bytes(insurer=insurer, actor=act(finance_user), as_of=NOV_30)

    assert statement.items == [] and statement.owed == D("0.00")
    text = text_of(pdf)
    assert "No invoice is open on this date." in text
    assert "Total owed $0.00" in " ".join(text.split())


def test_the_insurer_reads_its_own_statement_and_no_one_elses(book, finance_user):
    maple, other, _issued = book
    maple_user = factories.make_user(roles=["insurer_user"], organisation=maple)
    other_user = factories.make_user(roles=["insurer_user"], organisation=other)

    statement, _pdf = statement_pdf_bytes(insurer=maple, actor=act(maple_user), origin="portal")

    assert statement.insurer == maple
    assert AuditEvent.objects.get(action="statement.pdf_downloaded").payload["origin"] == "portal"
    with pytest.raises(NotFound):
        statement_pdf_bytes(insurer=maple, actor=act(other_user))
    assert AuditEvent.objects.filter(action="statement.pdf_downloaded").count() == 1


def test_staff_without_finance_and_the_system_get_no_statement(book, booking_agent, coordinator):
    maple, _other, _issued = book
    for actor in (act(booking_agent), act(coordinator), Actor.system("test")):
        with pytest.raises(NotFound):
            statement_pdf_bytes(insurer=maple, actor=actor)
    assert not AuditEvent.objects.filter(action="statement.pdf_downloaded").exists()


def test_a_statement_is_not_dated_in_the_future(book, finance_user):
    maple, _other, _issued = book
    with pytest.raises(DomainError) as refused:
        statement_pdf_bytes(insurer=maple, actor=act(finance_user), as_of=dt.date(2999, 1, 1))
    assert refused.value.code == "statement_date_future"


def test_a_card_number_is_never_drawn(book):
    maple, _other, _issued = book
    statement = statement_of_account(maple, as_of=NOV_30)
    maple.name = "Maple 4111 1111 1111 1111"  # as if it had got past the directory's check

    with pytest.raises(DomainError) as refused:
        statement_pdf.render(statement)

    assert refused.value.code == "card_number"
