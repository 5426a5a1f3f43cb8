"""An issued invoice or credit note as a PDF, in the insurer's language (ReportLab's platypus,
as the order to finance: `order_pdf.py` says why that library).

`render(invoice) -> bytes` draws what the invoice holds once issued (its snapshot of the
seller and the buyer, its number and dates, its lines and tax lines) on Letter pages, in
`invoice.language`:

- the title: "Invoice INV-2026-000001" / "Facture ..." (or the credit note and the invoice it
  credits, with its reason);
- the seller: MedWorks' legal name and address, its GST/HST registration number, and on a
  Quebec invoice its QST number;
- the buyer ("Bill to"): the insurer's name (and address, once insurers have one);
- the invoice date, the payment terms and due date, the place of supply;
- a row per line (the description and its amount before tax), the subtotal, one row per tax
  (one HST line; GST then QST in Quebec) with its rate, and the total in CAD.

What the law requires by amount (RULES.md; `invoices.invoice_required_fields`) is checked when
the invoice is issued, so a required particular is never missing here; the PDF prints every
particular the invoice holds, whatever its amount (more than the minimum is lawful).
Every text drawn is collected and scanned for card numbers before anything is drawn (the
credit note's reason is typed by a person), as the order's PDF does.
"""

from __future__ import annotations

import io

from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from medworks.core.cards import refuse_card_numbers
from medworks.core.money import format_money
from medworks.network.models import Province

from .emails import _percent
from .models import Invoice, InvoiceKind
from .order_pdf import AMOUNT, AMOUNT_BOLD, BODY, LABEL, SMALL, TITLE, _Story

_GRID = colors.HexColor("#9aa5b1")
_SHADE = colors.HexColor("#eef1f4")


def title_of(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("Credit note %(number)s") % {"number": invoice.display_number}
    return _("Invoice %(number)s") % {"number": invoice.display_number}


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def _lines_table(story: _Story, invoice: Invoice, language: str) -> Table:
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
    table = Table(rows, colWidths=[None, 40 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
                ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
                ("BACKGROUND", (0, subtotal_row), (-1, subtotal_row), _SHADE),
                ("BACKGROUND", (0, -1), (-1, -1), _SHADE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _story(invoice: Invoice, language: str) -> tuple[_Story, str]:
    story = _Story()
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
        (_("Credit note date") if is_credit_note else _("Invoice date"), _date(invoice.issue_date)),
    ]
    if is_credit_note:
        credited = invoice.credits
        facts.append(
            (
                _("Credits invoice"),
                _("%(number)s of %(date)s")
                % {"number": credited.display_number, "date": _date(credited.issue_date)},
            )
        )
        facts.append((_("Reason"), invoice.reason))
    else:
        facts.append(
            (
                _("Payment terms"),
                _("Net %(days)s days: payable by %(due)s.")
                % {"days": invoice.terms_days, "due": _date(invoice.due_date)},
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
    story.texts.append(foot)
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
    texts = {f"text_{i}": text for i, text in enumerate(story.texts)}
    refuse_card_numbers({**texts, "all": "\n".join(story.texts)})

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(doc.leftMargin, 10 * mm, f"{foot} {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=LETTER,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        subject=title,
        creator=author,
        lang=language,
    )
    document.build(story.flowables, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
