"""Reads of what insurers owe, all computed from the ledger (never stored twice).

- `invoice_balance(invoice)`: the receivable rows of the invoice (issued: debit; credit notes
  and payments: credit), as of a date if given.
- `insurer_balance(insurer)`: all the insurer's receivable rows: its open invoices' balances
  less its unapplied credit (a negative balance is money MedWorks holds for it).
- `insurer_credit(insurer)`: the unapplied part of its payments (receivable rows with no
  invoice): an overpayment is shown here, never lost.
- `ageing(today=, insurer=None)`: each open invoice's balance on `today` by days past its due
  date: current (not yet due), 1-30, 31-60, 61-90, over 90, per insurer with its credit.
- `statement_of_account(insurer, as_of=)`: one insurer's open items on a date (each invoice
  with its total, what was paid on it, its balance and days overdue), its unapplied credit,
  its ageing and what it owes in all: what `statement_pdf.py` draws.
- `ledger_rows(...)` and `ledger_journal_csv(rows, file)`: the journal as CSV for the
  accountant, streamed (constant memory).
- `unbalanced_journals()`: journals whose debits and credits differ (none, by construction:
  a check for finance and the tests).

"As of" a date counts the journals dated on or before it, so a report on a fixed date says
the same thing whenever it is run.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from medworks.accounts.models import Organisation
from medworks.core.money import to_money

from .models import (
    INVOICE_OPEN_STATUSES,
    Invoice,
    InvoiceKind,
    Journal,
    LedgerAccount,
    LedgerEntry,
)

ZERO = Decimal("0.00")
_SUM = Coalesce(Sum("debit"), ZERO) - Coalesce(Sum("credit"), ZERO)


def _receivable(*, as_of: dt.date | None = None, **where) -> QuerySet[LedgerEntry]:
    rows = LedgerEntry.objects.filter(account=LedgerAccount.RECEIVABLE, **where)
    if as_of is not None:
        rows = rows.filter(journal__date__lte=as_of)
    return rows


def _total(rows: QuerySet[LedgerEntry]) -> Decimal:
    # SQLite sums decimals as floats: rounded back to the cent (exact on PostgreSQL).
    return to_money(rows.aggregate(balance=_SUM)["balance"] or ZERO)


def invoice_balance(invoice: Invoice, *, as_of: dt.date | None = None) -> Decimal:
    """What the insurer still owes on `invoice` (a draft, or a credit note: zero)."""
    return _total(_receivable(invoice=invoice, as_of=as_of))


def invoice_balances(invoices: Iterable[Invoice], *, as_of=None) -> dict[int, Decimal]:
    """Each invoice's balance by id, in one query."""
    ids = [i.pk for i in invoices]
    found = {
        row["invoice"]: to_money(row["balance"])
        for row in _receivable(invoice__in=ids, as_of=as_of)
        .values("invoice")
        .annotate(balance=_SUM)
        .order_by()
    }
    return {pk: found.get(pk, ZERO) for pk in ids}


def insurer_balance(insurer, *, as_of: dt.date | None = None) -> Decimal:
    """What the insurer owes in all (its unapplied credit deducted)."""
    return _total(_receivable(insurer=insurer, as_of=as_of))


def insurer_credit(insurer, *, as_of: dt.date | None = None) -> Decimal:
    """The insurer's unapplied credit (money received beyond the invoices it paid)."""
    return -_total(_receivable(insurer=insurer, invoice__isnull=True, as_of=as_of))


def invoices_open(insurer, *, on: dt.date | None = None) -> list[Invoice]:
    """The insurer's invoices with something left to pay, oldest first (issue date, number):
    the order a payment is applied in. `on`: only those issued by that day."""
    invoices = Invoice.objects.filter(
        insurer=insurer, kind=InvoiceKind.INVOICE, status__in=INVOICE_OPEN_STATUSES
    )
    if on is not None:
        invoices = invoices.filter(issue_date__lte=on)
    return list(invoices.order_by("issue_date", "number", "pk"))


# --- Ageing -----------------------------------------------------------------------------------

BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")
# How the buckets are named on the pages and the statement of account.
BUCKET_LABELS = {
    "current": gettext_lazy("Current"),
    "1_30": gettext_lazy("1-30 days"),
    "31_60": gettext_lazy("31-60 days"),
    "61_90": gettext_lazy("61-90 days"),
    "over_90": gettext_lazy("Over 90 days"),
}


def bucket_of(days_late: int) -> str:
    """The ageing bucket of an invoice `days_late` days past its due date (0 or less: due
    today or later, "current")."""
    if days_late <= 0:
        return "current"
    if days_late <= 30:
        return "1_30"
    if days_late <= 60:
        return "31_60"
    if days_late <= 90:
        return "61_90"
    return "over_90"


@dataclass(frozen=True)
class AgedInvoice:
    invoice: Invoice
    balance: Decimal
    days_late: int
    bucket: str


@dataclass
class InsurerAgeing:
    insurer: object
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))
    invoices: list[AgedInvoice] = field(default_factory=list)
    credit: Decimal = ZERO  # unapplied, shown beside what is owed

    @property
    def owed(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


@dataclass
class Ageing:
    today: dt.date
    insurers: list[InsurerAgeing]
    buckets: dict[str, Decimal]
    credit: Decimal

    @property
    def owed(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def ageing(*, today: dt.date, insurer=None, detail: bool = True) -> Ageing:
    """The receivables on `today` by age, per insurer (by name) and in all: each invoice
    issued by then with a balance left on that day, in the bucket of its days past due.
    `detail=False` gives the totals only (no per-invoice list: the receivables page). A
    handful of queries whatever the count.

    Only invoices that can owe anything on `today` are summed: those open now, and those
    settled (paid, voided) after `today` (a payment is recorded on or after the day it is
    dated, so one settled by `today` owed nothing then): with 100,000 invoices, mostly paid,
    this is the difference between a second and a tenth of one (bench/bench_receivables.py)."""
    if not isinstance(today, dt.date) or isinstance(today, dt.datetime):
        raise TypeError("today must be a date")
    where = {} if insurer is None else {"insurer": insurer}
    day_after = dt.datetime.combine(
        today + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    candidates = Invoice.objects.filter(
        Q(status__in=INVOICE_OPEN_STATUSES) | Q(status_changed_at__gte=day_after),
        kind=InvoiceKind.INVOICE,
        issue_date__lte=today,
        **where,
    ).values("pk")
    owed_rows = (
        _receivable(as_of=today, invoice__in=candidates)
        .values("invoice", "invoice__insurer", "invoice__due_date")
        .annotate(balance=_SUM)
        .filter(balance__gt=0)
        .order_by()
    )
    credits = {
        row["insurer"]: -to_money(row["balance"])
        for row in _receivable(as_of=today, invoice__isnull=True, **where)
        .values("insurer")
        .annotate(balance=_SUM)
        .order_by()
    }
    owed = {row["invoice"]: row for row in owed_rows}
    insurers = {
        org.pk: org
        for org in Organisation.objects.filter(
            pk__in={row["invoice__insurer"] for row in owed.values()}
            | {pk for pk, c in credits.items() if c > 0}
        )
    }
    by_insurer: dict[int, InsurerAgeing] = {}
    for row in owed.values():
        balance = to_money(row["balance"])
        if balance <= 0:
            continue
        org = row["invoice__insurer"]
        entry = by_insurer.setdefault(org, InsurerAgeing(insurer=insurers[org]))
        entry.buckets[bucket_of((today - row["invoice__due_date"]).days)] += balance
    if detail and owed:
        invoices = (
            Invoice.objects.filter(pk__in=list(owed))
            .select_related("insurer")
            .order_by("insurer__name", "due_date", "number")
        )
        for invoice in invoices:
            balance = to_money(owed[invoice.pk]["balance"])
            if balance <= 0:
                continue
            days = (today - invoice.due_date).days
            by_insurer[invoice.insurer_id].invoices.append(
                AgedInvoice(invoice, balance, days, bucket_of(days))
            )
    for pk, credit in credits.items():
        if credit > 0 and pk not in by_insurer:
            by_insurer[pk] = InsurerAgeing(insurer=insurers[pk])
    for pk, row in by_insurer.items():
        row.credit = credits.get(pk, ZERO) if credits.get(pk, ZERO) > 0 else ZERO
    rows = sorted(by_insurer.values(), key=lambda r: (r.insurer.name, r.insurer.pk))
    totals = dict.fromkeys(BUCKETS, ZERO)
    for row in rows:
        for name in BUCKETS:
            totals[name] += row.buckets[name]
    return Ageing(
        today=today, insurers=rows, buckets=totals, credit=sum((r.credit for r in rows), ZERO)
    )


# --- One insurer's statement of account --------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    """An invoice with a balance on the statement's date."""

    invoice: Invoice
    total: Decimal
    paid: Decimal  # payments, credit applied: the total less the balance, on that date
    balance: Decimal
    days_overdue: int  # 0 while not yet past its due date
    bucket: str


@dataclass(frozen=True)
class AccountStatement:
    insurer: Organisation
    as_of: dt.date
    items: list[OpenItem]
    credit: Decimal  # unapplied, deducted from what is owed
    buckets: dict[str, Decimal]

    @property
    def open_total(self) -> Decimal:
        """The balances of the open items."""
        return sum((item.balance for item in self.items), ZERO)

    @property
    def owed(self) -> Decimal:
        """What the insurer owes in all: its open items less its credit (negative: MedWorks
        holds its money)."""
        return self.open_total - self.credit


def statement_of_account(insurer: Organisation, *, as_of: dt.date) -> AccountStatement:
    """The insurer's account on `as_of` as the ledger says it (journals dated by then): each
    invoice issued by then with a balance left, oldest first (issue date, number), in its
    ageing bucket; its unapplied credit; the ageing as `ageing` computes it. Computed every
    time, never stored: on a fixed date it always says the same."""
    report = ageing(today=as_of, insurer=insurer)
    row = next((r for r in report.insurers if r.insurer.pk == insurer.pk), None)
    aged = sorted(
        row.invoices if row is not None else [],
        key=lambda a: (a.invoice.issue_date, a.invoice.number or 0, a.invoice.pk),
    )
    items = [
        OpenItem(
            invoice=a.invoice,
            total=a.invoice.total,
            paid=a.invoice.total - a.balance,
            balance=a.balance,
            days_overdue=max(a.days_late, 0),
            bucket=a.bucket,
        )
        for a in aged
    ]
    return AccountStatement(
        insurer=insurer,
        as_of=as_of,
        items=items,
        credit=row.credit if row is not None else ZERO,
        buckets=dict(row.buckets) if row is not None else dict.fromkeys(BUCKETS, ZERO),
    )


# --- The journal as CSV -----------------------------------------------------------------------

CSV_COLUMNS = (
    "date",
    "journal",
    "account_code",
    "account_name",
    "debit",
    "credit",
    "reference",
    "invoice",
    "tax",
    "insurer",
    "memo",
)


def ledger_rows(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None, insurer=None
) -> QuerySet[LedgerEntry]:
    """The ledger's rows in journal order (date, journal, row), dates inclusive."""
    rows = LedgerEntry.objects.all()
    if date_from is not None:
        rows = rows.filter(journal__date__gte=date_from)
    if date_to is not None:
        rows = rows.filter(journal__date__lte=date_to)
    if insurer is not None:
        rows = rows.filter(insurer=insurer)
    return rows.order_by("journal__date", "journal_id", "position", "id")


def _text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (=, +, -, @ first: quoted)."""
    value = str(value or "")
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def _amount(value: Decimal) -> str:
    return f"{value:.2f}" if value else ""


def ledger_journal_csv(rows: Iterable[LedgerEntry], file) -> int:
    """Write `rows` (a queryset from `ledger_rows`) to the text `file` as a journal an
    accountant imports: one line per row with its date, journal, account code and name, debit
    or credit (the other empty), reference (the journal's document: the invoice's, credit
    note's or receipt's number), the invoice whose balance the row moves (a payment's rows
    name the invoices it paid; none on the bank row and on an insurer's credit), tax, insurer
    and memo. Streams the rows (`iterator()`): constant memory whatever the size.
    Returns how many rows were written."""
    if isinstance(rows, QuerySet):
        rows = rows.select_related("journal", "insurer", "invoice").iterator(chunk_size=2000)
    writer = csv.writer(file, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            [
                row.journal.date.isoformat(),
                row.journal_id,
                row.account_code,
                str(LedgerAccount(row.account).label),
                _amount(row.debit),
                _amount(row.credit),
                _text(row.journal.reference),
                row.invoice.display_number if row.invoice_id else "",
                row.tax_name,
                _text(row.insurer.name if row.insurer_id else ""),
                _text(row.journal.memo),
            ]
        )
        count += 1
    return count


def unbalanced_journals() -> list[int]:
    """The ids of journals whose debits and credits differ (none: `ledger_post` refuses
    them; kept as a check any day)."""
    # Within a tenth of a cent: SQLite sums decimals as floats (PostgreSQL exactly).
    tolerance = Decimal("0.001")
    return list(
        Journal.objects.annotate(
            difference=Coalesce(Sum("entries__debit"), ZERO)
            - Coalesce(Sum("entries__credit"), ZERO)
        )
        .filter(Q(difference__gt=tolerance) | Q(difference__lt=-tolerance))
        .values_list("pk", flat=True)
    )
