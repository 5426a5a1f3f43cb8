"""The ledger: every money movement is a journal of balanced rows, written once and never
changed; balances are computed from it; the accountant gets it as a CSV journal."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from medworks.billing.invoices import (
    credit_note_issue,
    insurer_credit_apply,
    payment_record,
)
from medworks.billing.ledger import LedgerUnbalanced, Posting, credit, debit, ledger_post
from medworks.billing.models import Journal, LedgerEntry, PaymentReceived
from medworks.billing.receivables import (
    CSV_COLUMNS,
    insurer_balance,
    insurer_credit,
    invoice_balance,
    ledger_journal_csv,
    ledger_rows,
    unbalanced_journals,
)
from tests.billing.invoicing import clinic, issued_invoice, make_insurer, ready_case
from tests.factories import act

pytestmark = pytest.mark.django_db

D = Decimal
NOV_20, NOV_25 = dt.date(2026, 11, 20), dt.date(2026, 11, 25)


@pytest.fixture
def insurer(finance_user):
    return make_insurer(finance_user, name="Maple Assist")


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00"})  # $180 with the fee, $203.40 with HST


@pytest.fixture
def invoice(insurer, toronto, booking_agent, finance_user):
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    return issued_invoice(case=case, finance_user=finance_user, issue_date=NOV_20)


def pay(insurer, finance_user, amount, on=NOV_25, reference="CHQ 1042", method="cheque", **kw):
    return payment_record(
        insurer=insurer,
        amount=amount,
        received_on=on,
        method=method,
        reference=reference,
        actor=act(finance_user),
        **kw,
    )


def _journal_sums() -> dict[int, tuple[Decimal, Decimal]]:
    sums: dict[int, list[Decimal]] = {}
    for entry in LedgerEntry.objects.all():
        pair = sums.setdefault(entry.journal_id, [D("0"), D("0")])
        pair[0] += entry.debit
        pair[1] += entry.credit
    return {pk: (dr, cr) for pk, (dr, cr) in sums.items()}


def test_every_journal_of_a_month_of_business_balances(
    insurer, toronto, booking_agent, finance_user, invoice
):
    second = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    third = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
        issue_date=NOV_20,
    )
    pay(insurer, finance_user, "50.00", allocations=[second])
    credit_note_issue(invoice=third, actor=act(finance_user), reason="Duplicate of INV-1.")
    pay(insurer, finance_user, "400.00", reference="EFT 778")  # pays both, leaves a credit
    later = issued_invoice(
        case=ready_case(insurer=insurer, location=toronto, agent=booking_agent),
        finance_user=finance_user,
    )
    insurer_credit_apply(insurer=insurer, actor=act(finance_user))

    kinds = set(Journal.objects.values_list("kind", flat=True))
    assert kinds == {"invoice_issued", "credit_note_issued", "payment_received", "credit_applied"}
    sums = _journal_sums()
    assert len(sums) == Journal.objects.count() == 8
    assert all(dr == cr and dr > 0 for dr, cr in sums.values())
    assert unbalanced_journals() == []
    # The balances are the rows' sums, and agree with each other.
    rows = LedgerEntry.objects.filter(account="receivable", insurer=insurer)
    by_rows = sum(e.debit - e.credit for e in rows)
    open_part = sum(invoice_balance(i) for i in (invoice, second, third, later))
    assert insurer_balance(insurer) == by_rows == open_part - insurer_credit(insurer)
    assert invoice_balance(third) == 0
    # 203.40 x 4 invoiced, 203.40 credited, 450.00 received: 610.20 - 450.00 = 160.20 owed.
    assert insurer_balance(insurer) == D("160.20")
    assert insurer_credit(insurer) == D("0.00")
    assert invoice_balance(later) == D("160.20")


def test_the_one_writer_refuses_an_unbalanced_journal_and_writes_nothing(insurer, finance_user):
    with pytest.raises(LedgerUnbalanced):
        ledger_post(
            kind="payment_received",
            date=NOV_25,
            reference="RCT-X",
            actor=act(finance_user),
            insurer=insurer,
            postings=[debit("cash", D("10.00")), credit("receivable", D("9.99"))],
        )
    with pytest.raises(LedgerUnbalanced):
        ledger_post(
            kind="payment_received",
            date=NOV_25,
            reference="RCT-X",
            actor=act(finance_user),
            postings=[debit("cash", D("10.00"))],
        )
    for bad, error in (
        (Posting("cash", debit=D("1.00"), credit=D("1.00")), ValueError),  # both sides
        (Posting("cash"), ValueError),  # neither
        (Posting("cash", debit=1.0), TypeError),  # a float
        (Posting("cash", debit=D("1.005")), ValueError),  # below the cent
        (Posting("cash", debit=D("-1.00")), ValueError),
        (Posting("nowhere", debit=D("1.00")), ValueError),
    ):
        with pytest.raises(error):
            ledger_post(
                kind="payment_received",
                date=NOV_25,
                reference="RCT-X",
                actor=act(finance_user),
                postings=[bad, credit("receivable", D("1.00"))],
            )
    assert not Journal.objects.exists() and not LedgerEntry.objects.exists()


def test_ledger_rows_are_never_changed_nor_deleted(invoice, insurer, finance_user):
    pay(insurer, finance_user, "203.40")
    entry = LedgerEntry.objects.first()
    entry.debit, entry.credit = entry.credit, entry.debit
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(debit=D("0.00"))
    with pytest.raises(TypeError):
        LedgerEntry.objects.all().delete()
    journal = Journal.objects.first()
    journal.memo = "rewritten"
    with pytest.raises(TypeError):
        journal.save()
    with pytest.raises(TypeError):
        Journal.objects.all().delete()
    payment = PaymentReceived.objects.get()
    payment.amount = D("1.00")
    with pytest.raises(TypeError):
        payment.save()
    assert LedgerEntry.objects.count() == 5
    assert unbalanced_journals() == []


def test_rows_keep_the_account_code_they_were_posted_to(invoice, insurer, finance_user, settings):
    settings.MEDWORKS_LEDGER_ACCOUNTS = {**settings.MEDWORKS_LEDGER_ACCOUNTS, "cash": "1010"}
    pay(insurer, finance_user, "203.40")
    codes = dict(
        LedgerEntry.objects.filter(account__in=["cash", "receivable"])
        .values_list("account", "account_code")
        .distinct()
    )
    assert codes["cash"] == "1010"
    assert set(
        LedgerEntry.objects.filter(account="receivable").values_list("account_code", flat=True)
    ) == {"1200"}


def test_the_journal_exports_as_a_csv_an_accountant_imports(invoice, insurer, finance_user):
    pay(insurer, finance_user, "250.00")  # $46.60 more than owed: the insurer's credit
    issued, paid = Journal.objects.order_by("pk")
    out = io.StringIO()

    written = ledger_journal_csv(ledger_rows(), out)

    assert written == 6
    inv, rct, who = "INV-2026-000001", "RCT-2026-000001", "Maple Assist"
    memo, cheque = "Invoice to Maple Assist", "Cheque CHQ 1042"
    rows = [
        CSV_COLUMNS,
        (
            "2026-11-20",
            issued.pk,
            1200,
            "Accounts receivable",
            "203.40",
            "",
            inv,
            inv,
            "",
            who,
            memo,
        ),
        (
            "2026-11-20",
            issued.pk,
            4000,
            "Revenue from services",
            "",
            "180.00",
            inv,
            inv,
            "",
            who,
            memo,
        ),
        ("2026-11-20", issued.pk, 2200, "GST/HST payable", "", "23.40", inv, inv, "HST", who, memo),
        ("2026-11-25", paid.pk, 1000, "Bank", "250.00", "", rct, "", "", who, cheque),
        (
            "2026-11-25",
            paid.pk,
            1200,
            "Accounts receivable",
            "",
            "203.40",
            rct,
            inv,
            "",
            who,
            cheque,
        ),
        ("2026-11-25", paid.pk, 1200, "Accounts receivable", "", "46.60", rct, "", "", who, cheque),
    ]
    assert out.getvalue() == "".join(",".join(map(str, row)) + "\r\n" for row in rows)
    assert CSV_COLUMNS[:6] == ("date", "journal", "account_code", "account_name", "debit", "credit")


def test_the_export_filters_by_date_and_streams_in_one_query(
    invoice, insurer, finance_user, django_assert_num_queries
):
    pay(insurer, finance_user, "203.40")
    out = io.StringIO()
    with django_assert_num_queries(1):
        assert ledger_journal_csv(ledger_rows(date_from=NOV_25), out) == 2
    assert ledger_journal_csv(ledger_rows(date_to=NOV_20), io.StringIO()) == 3
    assert ledger_journal_csv(ledger_rows(insurer=insurer), io.StringIO()) == 5


def test_a_text_a_spreadsheet_would_run_is_written_as_text(finance_user, toronto, booking_agent):
    insurer = make_insurer(finance_user, name='=HYPERLINK("http://x")')
    case = ready_case(insurer=insurer, location=toronto, agent=booking_agent)
    issued_invoice(case=case, finance_user=finance_user)
    out = io.StringIO()
    ledger_journal_csv(ledger_rows(), out)
    assert "'=HYPERLINK" in out.getvalue()
    assert ",=HYPERLINK" not in out.getvalue()


def test_the_chart_of_accounts_is_read_from_the_environment_and_checked(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from medworks.settings import env_ledger_accounts

    default = {"cash": "1000", "receivable": "1200"}
    monkeypatch.setenv("MEDWORKS_LEDGER_ACCOUNTS", '{"cash": "1010"}')
    assert env_ledger_accounts("MEDWORKS_LEDGER_ACCOUNTS", default) == {
        "cash": "1010",
        "receivable": "1200",
    }
    monkeypatch.setenv("MEDWORKS_LEDGER_ACCOUNTS", "receivable=1300")
    assert env_ledger_accounts("MEDWORKS_LEDGER_ACCOUNTS", default)["receivable"] == "1300"
    for bad in ("cash=1200", "petty=1001", "cash=", "{[}"):
        monkeypatch.setenv("MEDWORKS_LEDGER_ACCOUNTS", bad)
        with pytest.raises(ImproperlyConfigured):
            env_ledger_accounts("MEDWORKS_LEDGER_ACCOUNTS", default)
