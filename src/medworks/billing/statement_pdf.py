"""An insurer's statement of account as a PDF, in its correspondence language (ReportLab, the
page build of `pdf.py`, as the invoices').

Not an invoice (the month's statement is one, numbered and posted): a reminder of what is open
on a date, read from the ledger every time (`receivables.statement_of_account`), never stored.

- `statement_pdf_bytes(*, insurer, actor, as_of=None, origin="") -> (statement, PDF bytes)`:
  finance (INVOICING)
  for any insurer; the insurer's own portal user or API key for its own (anyone else, another
  insurer included, NotFound `statement_not_found`: not disclosed). `as_of` defaults to today
  and is never in the future (`statement_date_future`). Each download leaves an audit row
  (`statement.pdf_downloaded`, with the date and the origin).
- `render(statement) -> bytes`: the drawing, for the tests and the views' reuse.

What it shows: the seller (MedWorks' legal name, address and GST/HST number, from the
settings), the insurer's name and billing address (finance's setting), the date; a row per open
item (number, invoice date, due date, total, paid, balance, days overdue) and their total; the
unapplied credit; the ageing (current, 1-30, 31-60, 61-90, over 90 days, as `receivables.ageing`
buckets them) and the total owed (the open items less the credit). Amounts in CAD.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor, ActorKind
from medworks.core.audit import audit_record
from medworks.core.errors import DomainError, NotFound
from medworks.core.money import format_money

from .pdf import (
    AMOUNT,
    AMOUNT_BOLD,
    BODY,
    LABEL,
    SMALL,
    TITLE,
    Story,
    date_text,
    pdf_build,
    shaded_table,
)
from .receivables import BUCKET_LABELS, BUCKETS, AccountStatement, statement_of_account
from .selectors import insurer_pricing_of


def _may_read(actor: Actor, insurer: Organisation) -> bool:
    """Finance, or the insurer itself (its portal user or its API key)."""
    if actor.kind not in (ActorKind.USER, ActorKind.API_CLIENT):
        return False
    if actor_can(actor, Capability.INVOICING):
        return True
    own = getattr(actor.principal, "organisation_id", None) == insurer.pk
    return own and (
        actor_can(actor, Capability.INSURER_PORTAL) or actor_can(actor, Capability.BOOKING_SUBMIT)
    )


def filename_of(statement: AccountStatement) -> str:
    return f"statement-{statement.insurer.pk}-{statement.as_of.isoformat()}.pdf"


def _items_table(story: Story, statement: AccountStatement, money):
    head = [
        story.para(_("Invoice"), LABEL),
        story.para(_("Invoice date"), LABEL),
        story.para(_("Due date"), LABEL),
        story.para(_("Total"), AMOUNT_BOLD),
        story.para(pgettext("amount paid on an invoice", "Paid"), AMOUNT_BOLD),
        story.para(_("Balance"), AMOUNT_BOLD),
        story.para(_("Days overdue"), AMOUNT_BOLD),
    ]
    rows = [head]
    for item in statement.items:
        rows.append(
            [
                story.para(item.invoice.display_number),
                story.para(date_text(item.invoice.issue_date)),
                story.para(date_text(item.invoice.due_date)),
                story.para(money(item.total), AMOUNT),
                story.para(money(item.paid), AMOUNT),
                story.para(money(item.balance), AMOUNT),
                story.para(str(item.days_overdue) if item.days_overdue else "—", AMOUNT),
            ]
        )
    rows.append(
        [
            story.para(_("Total of the open invoices"), LABEL),
            "",
            "",
            "",
            "",
            story.para(money(statement.open_total), AMOUNT_BOLD),
            "",
        ]
    )
    return shaded_table(
        rows,
        col_widths=[32 * mm, 26 * mm, 26 * mm, 23 * mm, 23 * mm, 23 * mm, 18 * mm],
        shaded=[-1],
        extra=[("SPAN", (0, -1), (4, -1))],
    )


def _ageing_table(story: Story, statement: AccountStatement, money):
    head = [story.para(str(BUCKET_LABELS[name]), AMOUNT_BOLD) for name in BUCKETS]
    values = [story.para(money(statement.buckets[name]), AMOUNT) for name in BUCKETS]
    return shaded_table([head, values], col_widths=[34 * mm] * len(BUCKETS))


def _story(statement: AccountStatement, language: str) -> tuple[Story, str]:
    def money(amount) -> str:
        return format_money(amount, language)

    insurer = statement.insurer
    story = Story()
    story.add(story.para(_("Statement of account"), TITLE))
    seller = [
        settings.MEDWORKS_LEGAL_NAME,
        *(part.strip() for part in settings.MEDWORKS_ADDRESS.split("|") if part.strip()),
    ]
    if settings.MEDWORKS_GST_HST_NUMBER:
        seller.append(
            _("GST/HST registration number: %(number)s")
            % {"number": settings.MEDWORKS_GST_HST_NUMBER}
        )
    story.add(story.para("\n".join(line for line in seller if line)))
    address = insurer_pricing_of(insurer).billing_address.strip()
    story.section(
        _("Account of"),
        [
            (_("Insurer"), "\n".join(line for line in [insurer.name, address] if line)),
            (_("Statement date"), date_text(statement.as_of)),
        ],
    )
    story.heading(_("Open invoices"))
    if statement.items:
        story.add(_items_table(story, statement, money))
    else:
        story.add(story.para(_("No invoice is open on this date.")))
    story.add(Spacer(1, 3 * mm))
    story.section(
        _("Summary"),
        [
            (_("Open invoices"), money(statement.open_total)),
            (_("Unapplied credit"), money(-statement.credit) if statement.credit else money(0)),
            (_("Total owed"), money(statement.owed)),
        ],
    )
    story.heading(_("Ageing of the open invoices"))
    story.add(_ageing_table(story, statement, money))
    story.add(Spacer(1, 3 * mm))
    if statement.credit:
        story.add(
            story.para(
                _("Your unapplied credit of %(credit)s is deducted from the total owed.")
                % {"credit": money(statement.credit)},
                BODY,
            )
        )
    if statement.items:
        story.add(story.para(_("Please quote the invoice numbers with your payment."), BODY))
    story.add(Spacer(1, 2 * mm), story.para(_("Amounts in Canadian dollars."), SMALL))
    foot = _("%(seller)s · statement of account of %(insurer)s on %(date)s · page") % {
        "seller": settings.MEDWORKS_LEGAL_NAME,
        "insurer": insurer.name,
        "date": statement.as_of.isoformat(),
    }
    return story, foot


def render(statement: AccountStatement) -> bytes:
    """The statement as PDF bytes, in the insurer's correspondence language. Refuses
    (core.cards' `card_number`) when a text it would draw holds a card number."""
    language = statement.insurer.correspondence_language or "en"
    with translation.override(language):
        story, foot = _story(statement, language)
        title = _("Statement of account of %(insurer)s") % {"insurer": statement.insurer.name}
    author = settings.MEDWORKS_LEGAL_NAME
    return pdf_build(story, foot=foot, title=title, author=author, language=language)


def statement_pdf_bytes(
    *,
    insurer: Organisation,
    actor: Actor,
    as_of: dt.date | None = None,
    origin: str = "",
) -> tuple[AccountStatement, bytes]:
    """The insurer's statement of account on `as_of` (today by default) and its PDF, for
    finance or the insurer itself; the download is audited (`statement.pdf_downloaded`)."""
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if insurer.kind != OrganisationKind.INSURER or not _may_read(actor, insurer):
        raise NotFound("statement_not_found", _("No such statement for you."))
    today = timezone.localdate()
    as_of = as_of or today
    if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
        raise TypeError("as_of must be a date")
    if as_of > today:
        raise DomainError(
            "statement_date_future",
            _("%(date)s is in the future: a statement is of today or an earlier day.")
            % {"date": as_of.isoformat()},
            fields={"as_of": [_("Enter today's date or an earlier one.")]},
        )
    statement = statement_of_account(insurer, as_of=as_of)
    content = render(statement)
    audit_record(
        actor=actor,
        action="statement.pdf_downloaded",
        obj=insurer,
        summary=f"Statement of account of {insurer.name} on {as_of.isoformat()} downloaded",
        payload={
            "insurer_id": insurer.pk,
            "as_of": as_of.isoformat(),
            "origin": origin,
            "owed": f"{statement.owed:.2f}",
        },
    )
    return statement, content
