"""An issued invoice or credit note as a PDF, in the insurer's language (ReportLab's platypus;
the page build, shared with the order to finance and the statement of account, is `pdf.py`).

`render(invoice) -> bytes` draws what the invoice holds once issued (its snapshot of the
seller and the buyer, its number and dates, its lines and tax lines) on Letter pages, in
`invoice.language`:

- the title: "Invoice INV-2026-000001" / "Facture ..." (or the credit note and the invoice it
  credits, with its reason);
- the seller: MedWorks' legal name and address, its GST/HST registration number, and on a
  Quebec invoice its QST number;
- the buyer ("Bill to"): the insurer's name and its billing address (finance's setting, as it
  was at issue);
- the invoice date, the payment terms and due date, the place of supply;
- a row per line (the description and its amount before tax), the subtotal, one row per tax
  (one HST line; GST then QST in Quebec) with its rate, and the total in CAD.

What the law requires by amount (RULES.md; `invoices.invoice_required_fields`) is checked when
the invoice is issued, so a required particular is never missing here; the PDF prints every
particular the invoice holds, whatever its amount (more than the minimum is lawful).
Every text drawn is collected and scanned for card numbers before anything is drawn (the
credit note's reason is typed by a person): `pdf.pdf_build`, core.cards' `card_number` refusal.
"""

from __future__ import annotations

from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Spacer, Table

from medworks.core.money import format_money
from medworks.network.models import Province

from .emails import _percent
from .models import Invoice, InvoiceKind
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


def title_of(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("Credit note %(number)s") % {"number": invoice.display_number}
    return _("Invoice %(number)s") % {"number": invoice.display_number}


def _lines_table(story: Story, invoice: Invoice, language: str) -> Table:
    def money(amount) -> str:
        return format_money(amount, language)

    lines = list(invoice.lines.all())
    taxes = list(invoice.taxes.all())
    rows = [[story.para(_("Description"), LABEL), story.para(_("Amount"), AMOUNT_BOLD)]]
    for line in lines:
        rows.append([story.para(line.description), story.para(money(line.amount), AMOUNT)])
    rows.append(
        [story.para(_("Subtotal"), LABEL), story.para(money(invoice.subtotal), AMOUNT_BOLD)]
    )
    for tax in taxes:
        label = _("%(name)s (%(rate)s)") % {
            "name": tax.get_name_display(),
            "rate": _percent(tax.rate, language),
        }
        rows.append([story.para(label), story.para(money(tax.amount), AMOUNT)])
    if not taxes:
        rows.append([story.para(_("No sales tax charged")), story.para(money(0), AMOUNT)])
    total_label = (
        _("Total credited (CAD)")
        if invoice.kind == InvoiceKind.CREDIT_NOTE
        else _("Total due (CAD)")
    )
    rows.append([story.para(total_label, LABEL), story.para(money(invoice.total), AMOUNT_BOLD)])
    subtotal_row = len(lines) + 1
    return shaded_table(rows, col_widths=[None, 40 * mm], shaded=[subtotal_row, -1])


def _story(invoice: Invoice, language: str) -> tuple[Story, str]:
    story = Story()
    story.add(story.para(title_of(invoice), TITLE))
    seller = [invoice.seller_name, *invoice.seller_address.splitlines()]
    if invoice.seller_gst_hst_number:
        seller.append(
            _("GST/HST registration number: %(number)s") % {"number": invoice.seller_gst_hst_number}
        )
    if invoice.place_of_supply == Province.QC and invoice.seller_qst_number:
        seller.append(
            _("QST registration number: %(number)s") % {"number": invoice.seller_qst_number}
        )
    story.add(story.para("\n".join(line for line in seller if line)))
    buyer = "\n".join(line for line in [invoice.buyer_name, invoice.buyer_address] if line)
    is_credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE
    facts = [
        (_("Bill to"), buyer),
        (
            _("Credit note date") if is_credit_note else _("Invoice date"),
            date_text(invoice.issue_date),
        ),
    ]
    if is_credit_note:
        credited = invoice.credits
        facts.append(
            (
                _("Credits invoice"),
                _("%(number)s of %(date)s")
                % {"number": credited.display_number, "date": date_text(credited.issue_date)},
            )
        )
        facts.append((_("Reason"), invoice.reason))
    else:
        facts.append(
            (
                _("Payment terms"),
                _("Net %(days)s days: payable by %(due)s.")
                % {"days": invoice.terms_days, "due": date_text(invoice.due_date)},
            )
        )
        if invoice.statement_month:
            facts.append(
                (
                    _("Statement for"),
                    formats.date_format(invoice.statement_month, "YEAR_MONTH_FORMAT"),
                )
            )
    facts.append((_("Place of supply"), str(Province(invoice.place_of_supply).label)))
    story.section(_("Credit note details") if is_credit_note else _("Invoice details"), facts)
    story.add(Spacer(1, 3 * mm), _lines_table(story, invoice, language), Spacer(1, 2 * mm))
    if invoice.kind == InvoiceKind.INVOICE:
        story.add(
            story.para(
                _("Please quote %(number)s with your payment.")
                % {"number": invoice.display_number},
                BODY,
            )
        )
    foot = _("%(seller)s · %(number)s · page") % {
        "seller": invoice.seller_name,
        "number": invoice.display_number,
    }
    story.add(Spacer(1, 2 * mm), story.para(_("Amounts in Canadian dollars."), SMALL))
    return story, foot


def render(invoice: Invoice) -> bytes:
    """The issued `invoice` (or credit note) as PDF bytes, in its language. Refuses
    (core.cards' `card_number`) when a text it would draw holds a card number."""
    language = invoice.language or "en"
    with translation.override(language):
        story, foot = _story(invoice, language)
        title = title_of(invoice)
        author = invoice.seller_name
    return pdf_build(story, foot=foot, title=title, author=author, language=language)
