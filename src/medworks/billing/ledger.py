"""The ledger's one writer: `ledger_post` writes one journal of balanced rows, or nothing.

Every money movement is a journal here (an invoice issued, a credit note, a payment received,
an insurer's credit applied, a provider's invoice approved, a payment to a provider):
double-entry rows, each one account debited or credited, the debits equal to the credits.
Rows are never updated nor deleted (the models refuse it); a mistake is reversed by another
journal. Balances are sums of these rows (`billing.receivables`, `billing.payables`), never
stored beside them.

Each row keeps the account's role (`LedgerAccount`) and the code it was posted to, read from
finance's chart (settings.MEDWORKS_LEDGER_ACCOUNTS) at posting time: a later change of code does
not rewrite history. Amounts are Decimal to the cent; a float, a sub-cent amount, a row with
both or neither side, or an unbalanced journal is a programming error (TypeError/ValueError),
never a user's: the use cases build postings from figures already rounded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from medworks.core.actor import Actor
from medworks.core.money import to_money

from .models import (
    Invoice,
    Journal,
    JournalKind,
    LedgerAccount,
    LedgerEntry,
    PaymentReceived,
    ProviderInvoice,
)

ZERO = Decimal("0.00")


class LedgerUnbalanced(ValueError):
    """A journal whose debits and credits differ: nothing is written."""


@dataclass(frozen=True)
class Posting:
    """One row to post: `account` debited or credited by an amount (the other side zero)."""

    account: str  # a LedgerAccount
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    invoice: Invoice | None = None  # the invoice whose balance the row is part of
    payment: PaymentReceived | None = None
    case_id: int | None = None
    tax_name: str = ""
    provider_invoice: ProviderInvoice | None = None  # the provider invoice (payable side)


def debit(account: str, amount: Decimal, **where) -> Posting:
    return Posting(account=account, debit=amount, **where)


def credit(account: str, amount: Decimal, **where) -> Posting:
    return Posting(account=account, credit=amount, **where)


def account_code(account: str) -> str:
    """The code finance's chart gives the account's role."""
    return settings.MEDWORKS_LEDGER_ACCOUNTS[LedgerAccount(account).value]


def _cents(value, *, what: str) -> Decimal:
    if isinstance(value, float) or not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if to_money(value) != value or value < 0:
        raise ValueError(f"{what} must be zero or more, to the cent: {value}")
    return to_money(value)


def _checked(postings: Sequence[Posting]) -> list[tuple[Posting, Decimal, Decimal]]:
    if len(postings) < 2:
        raise LedgerUnbalanced("a journal has at least two rows")
    rows = []
    for posting in postings:
        if posting.account not in LedgerAccount.values:
            raise ValueError(f"no ledger account {posting.account!r}")
        dr = _cents(posting.debit, what="a debit")
        cr = _cents(posting.credit, what="a credit")
        if (dr > 0) == (cr > 0):
            raise ValueError("a ledger row is a debit or a credit, not both nor neither")
        rows.append((posting, dr, cr))
    debits = sum((dr for _p, dr, _cr in rows), ZERO)
    credits = sum((cr for _p, _dr, cr in rows), ZERO)
    if debits != credits:
        raise LedgerUnbalanced(f"debits {debits} differ from credits {credits}")
    return rows


def ledger_post(
    *,
    kind: str,
    date: dt.date,
    reference: str,
    actor: Actor,
    postings: Sequence[Posting],
    insurer=None,
    invoice: Invoice | None = None,
    payment: PaymentReceived | None = None,
    provider_invoice: ProviderInvoice | None = None,
    memo: str = "",
) -> Journal:
    """Write one journal (`kind`, dated `date`, its `reference` the document's number) and its
    rows, balanced, or nothing (LedgerUnbalanced). Inside the caller's transaction."""
    if kind not in JournalKind.values:
        raise ValueError(f"no journal kind {kind!r}")
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise TypeError("a journal's date is a date")
    if not isinstance(actor, Actor):
        raise TypeError("a journal is posted by an Actor")
    rows = _checked(postings)
    with transaction.atomic():
        journal = Journal.objects.create(
            kind=kind,
            date=date,
            reference=reference,
            memo=memo[:255],
            insurer=insurer,
            invoice=invoice,
            payment=payment,
            provider_invoice=provider_invoice,
            posted_by=actor.user,
            actor_kind=actor.kind.value,
            actor_detail=actor.detail[:64],
        )
        LedgerEntry.objects.bulk_create(
            LedgerEntry(
                journal=journal,
                position=position,
                account=posting.account,
                account_code=account_code(posting.account),
                debit=dr,
                credit=cr,
                insurer=insurer,
                invoice=posting.invoice,
                payment=posting.payment,
                case_id=posting.case_id,
                tax_name=posting.tax_name,
                provider_id=provider_invoice.provider_id if provider_invoice else None,
                provider_invoice=posting.provider_invoice,
            )
            for position, (posting, dr, cr) in enumerate(rows)
        )
    return journal
