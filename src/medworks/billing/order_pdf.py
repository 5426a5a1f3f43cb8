"""The order to finance as a PDF (SOP case 2 step 3), drawn with ReportLab's platypus.

`render(sheet, language=...) -> bytes` lays out an `orders.OrderSheet` on Letter pages: the title
"Order" with the Order Id, the insurance partner and its contact, the confirmation of charges as
the SOP's table (Service Requested, Clinic Cost, MedWorks Cost, Total: clinic cost + MedWorks
cost, per service; the subtotal, each tax line and the total to bill the insurer), the card on
file (masked, or none yet), the patient's name and Canadian address, what is required (services,
summary, the insurer's symptoms), the appointment and the provider to pre-pay. Each page's foot
names the Order Id and the page.

Why ReportLab: a maintained library, pure Python with Pillow wheels, so `make demo` needs no
system package (no Cairo, no browser); PDFs written by hand break readers. Platypus wraps long
texts and splits the tables across pages by itself. The built-in Helvetica is used (no font
file to ship): it writes English and French (Latin-1 and the usual typography); a character
outside it (a name in another script) is not drawn, which the email beside the PDF still shows.

Card numbers: every text put on the page (labels, data, the foot) is collected as the story is
built, and scanned with `core.cards.contains_card_number`, each alone and all together, before
anything is drawn; a hit refuses the order with `email_contains_card_number`, the code and
message `notifications.email_queue` uses for the email's text (which cannot read a PDF).
Nothing about the patient goes into the PDF's metadata (title: the Order Id only).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from medworks.core.cards import contains_card_number
from medworks.core.errors import DomainError

if TYPE_CHECKING:
    from .orders import OrderSheet

_STYLES = getSampleStyleSheet()
TITLE = ParagraphStyle("OrderTitle", parent=_STYLES["Title"], alignment=0, spaceAfter=2 * mm)
HEADING = ParagraphStyle(
    "OrderHeading", parent=_STYLES["Heading2"], fontSize=12, leading=15, spaceBefore=3 * mm
)
BODY = ParagraphStyle("OrderBody", parent=_STYLES["BodyText"], fontSize=9.5, leading=12)
SMALL = ParagraphStyle("OrderSmall", parent=BODY, fontSize=8, leading=10, textColor=colors.grey)
LABEL = ParagraphStyle("OrderLabel", parent=BODY, fontName="Helvetica-Bold")
AMOUNT = ParagraphStyle("OrderAmount", parent=BODY, alignment=TA_RIGHT)
AMOUNT_BOLD = ParagraphStyle("OrderAmountBold", parent=AMOUNT, fontName="Helvetica-Bold")
_GRID = colors.HexColor("#9aa5b1")
_SHADE = colors.HexColor("#eef1f4")


class _Story:
    """The flowables of the order, and every text they carry (to scan before drawing)."""

    def __init__(self) -> None:
        self.flowables: list = []
        self.texts: list[str] = []

    def para(self, text: str, style: ParagraphStyle = BODY) -> Paragraph:
        """A paragraph of plain text (escaped: data never becomes markup)."""
        text = str(text or "")
        self.texts.append(text)
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    def add(self, *flowables) -> None:
        self.flowables.extend(flowables)

    def heading(self, text: str) -> None:
        self.add(self.para(text, HEADING))

    def section(self, heading: str, rows: list[tuple[str, str]]) -> None:
        """A heading and its facts (label and value, one row each; rows with no value are
        left out), kept on one page."""
        title = self.para(heading, HEADING)
        data = [[self.para(label, LABEL), self.para(value)] for label, value in rows if value]
        if data:
            table = Table(data, colWidths=[45 * mm, None], hAlign="LEFT")
            table.setStyle(
                TableStyle(
                    [
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                        ("LEFTPADDING", (0, 0), (-1, -1), 0),
                        ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                        ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ]
                )
            )
            self.add(KeepTogether([title, table]))
        else:
            self.add(title)


def _charges_table(story: _Story, sheet: OrderSheet) -> Table:
    """The SOP's table: a row per service, the subtotal, the tax lines, the total."""
    head = [
        story.para(_("Service Requested"), LABEL),
        story.para(_("Clinic Cost"), AMOUNT_BOLD),
        story.para(_("MedWorks Cost"), AMOUNT_BOLD),
        story.para(_("Total Cost (Clinic Cost + MedWorks Cost)"), AMOUNT_BOLD),
    ]
    rows = [head]
    for charge in (*sheet.charges, sheet.subtotal):
        style = AMOUNT_BOLD if charge is sheet.subtotal else AMOUNT
        rows.append(
            [
                story.para(charge.service, LABEL if charge is sheet.subtotal else BODY),
                story.para(charge.clinic_cost, style),
                story.para(charge.medworks_fee, style),
                story.para(charge.total, style),
            ]
        )
    for tax in sheet.taxes:
        label = _("%(name)s (%(rate)s)") % {"name": tax.name, "rate": tax.rate}
        rows.append([story.para(label), "", "", story.para(tax.amount, AMOUNT)])
    rows.append(
        [
            story.para(_("Total to bill the insurer"), LABEL),
            "",
            "",
            story.para(sheet.total, AMOUNT_BOLD),
        ]
    )
    subtotal_row = len(sheet.charges) + 1
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("BACKGROUND", (0, subtotal_row), (-1, subtotal_row), _SHADE),
        ("BACKGROUND", (0, -1), (-1, -1), _SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    # A tax line and the total: their label spans the three first columns.
    for row in range(subtotal_row + 1, len(rows)):
        commands.append(("SPAN", (0, row), (2, row)))
    table = Table(rows, colWidths=[None, 30 * mm, 30 * mm, 42 * mm], repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def _story(sheet: OrderSheet) -> tuple[_Story, str]:
    story = _Story()
    story.add(story.para(_("Order %(order_id)s") % {"order_id": sheet.order_id}, TITLE))
    story.add(
        story.para(
            _("Order date: %(date)s. Sent to finance on %(when)s by %(who)s.")
            % {"date": sheet.order_date, "when": sheet.sent_at, "who": sheet.sent_by}
        )
    )
    story.section(
        _("Insurance partner"),
        [
            (_("Insurer"), sheet.insurer),
            (_("Contact"), sheet.contact_name),
            (_("Email"), sheet.contact_email),
            (_("Phone"), sheet.contact_phone),
            (_("Insurer's reference"), sheet.insurer_reference),
            (_("Policy number"), sheet.policy_number),
        ],
    )
    story.heading(_("Confirmation of charges"))
    status = _("Quote version %(version)s: %(status)s.") % {
        "version": sheet.quote_version,
        "status": sheet.quote_status.lower(),
    }
    story.add(story.para(f"{status} {sheet.quote_confirmed}".strip()))
    story.add(Spacer(1, 2 * mm), _charges_table(story, sheet), Spacer(1, 1 * mm))
    story.add(story.para(sheet.rule, SMALL))
    story.heading(_("Card on file"))
    story.add(story.para(sheet.card_line))
    story.section(
        _("Patient"),
        [
            (_("Name"), sheet.patient_name),
            (_("Address"), "\n".join(line for line in sheet.patient_address if line)),
        ],
    )
    story.section(
        _("What is required"),
        [
            (_("Services"), ", ".join(sheet.services)),
            (_("Summary"), sheet.summary or _("None given.")),
            (_("Symptoms (from the insurer)"), sheet.symptoms or _("None given.")),
        ],
    )
    story.section(
        _("Appointment and provider to pre-pay"),
        [
            (_("When"), sheet.appointment),
            (_("Provider"), sheet.provider),
            (_("Address"), sheet.provider_address),
            (_("Contact"), sheet.provider_contact),
            (_("Payment"), sheet.arrangements),
        ],
    )
    foot = _("MedWorks Booking Desk · order %(order_id)s · page") % {"order_id": sheet.order_id}
    story.texts.append(foot)
    return story, foot


def _refuse_card_numbers(texts: list[str]) -> None:
    if any(contains_card_number(text) for text in (*texts, "\n".join(texts))):
        raise DomainError(
            "email_contains_card_number",
            _(
                "This email would carry a card number, and card numbers are never sent by "
                "email. Remove the number from the notes or fields it came from."
            ),
        )


def render(sheet: OrderSheet, *, language: str = "en") -> bytes:
    """The order as PDF bytes, its words in `language`. Refuses (DomainError
    `email_contains_card_number`, in the active language) when any text it would draw holds a
    card number; nothing is drawn then."""
    with translation.override(language):
        story, foot = _story(sheet)
        title = _("Order %(order_id)s") % {"order_id": sheet.order_id}
        author = _("MedWorks Booking Desk")
    _refuse_card_numbers(story.texts)

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
