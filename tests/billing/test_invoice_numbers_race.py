"""Invoice numbers under concurrent issue (PostgreSQL row locks): parallel issues take
1..N with no gap and no duplicate, and an issue rolled back gives its number back."""

from __future__ import annotations

import pytest
from django.db import transaction

from medworks.billing.invoices import invoice_draft_for_case, invoice_issue
from medworks.billing.models import Invoice, InvoiceSequence, Journal
from medworks.billing.receivables import unbalanced_journals
from tests.billing.invoicing import clinic, make_insurer, ready_case
from tests.concurrency import run_at_once
from tests.factories import act

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

N = 6


class RolledBack(Exception):
    """Raised after an issue, inside its transaction: everything it did is undone."""


@pytest.fixture
def drafts(finance_user, booking_agent):
    insurer = make_insurer(finance_user, name="Maple Assist")
    location = clinic(prices={"XRAY": "120.00"})
    return [
        invoice_draft_for_case(
            case=ready_case(insurer=insurer, location=location, agent=booking_agent),
            actor=act(finance_user),
        )
        for _ in range(N)
    ]


def _issue(draft, finance_user):
    return lambda: invoice_issue(invoice=draft, actor=act(finance_user))


def _issue_then_roll_back(draft, finance_user):
    def call():
        try:
            with transaction.atomic():
                invoice_issue(invoice=draft, actor=act(finance_user))
                raise RolledBack
        except RolledBack:
            return None

    return call


def test_parallel_issues_take_one_to_n_without_gap_nor_duplicate(drafts, finance_user):
    # The series has no row yet: the first issues also race to create it.
    assert not InvoiceSequence.objects.exists()

    results, errors = run_at_once(*(_issue(draft, finance_user) for draft in drafts))

    assert errors == []
    assert len(results) == N
    numbers = sorted(
        Invoice.objects.filter(series__startswith="INV-").values_list("number", flat=True)
    )
    assert numbers == list(range(1, N + 1))
    assert InvoiceSequence.objects.get().next_number == N + 1
    assert Journal.objects.filter(kind="invoice_issued").count() == N
    assert unbalanced_journals() == []


def test_an_issue_rolled_back_beside_others_leaves_no_gap(drafts, finance_user):
    undone, *others = drafts
    calls = [_issue_then_roll_back(undone, finance_user)]
    calls += [_issue(draft, finance_user) for draft in others]

    results, errors = run_at_once(*calls)

    assert errors == []
    assert len(results) == N
    issued = Invoice.objects.filter(number__isnull=False)
    assert sorted(issued.values_list("number", flat=True)) == list(range(1, N))
    undone.refresh_from_db()
    assert undone.number is None and undone.status == "draft"
    assert not Journal.objects.filter(invoice=undone).exists()
    # Issued now, it takes the next number: still no gap.
    assert invoice_issue(invoice=undone, actor=act(finance_user)).number == N
