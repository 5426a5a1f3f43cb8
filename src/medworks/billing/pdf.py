"""The page build billing's PDFs share (ReportLab's platypus): the order to finance
(`order_pdf.py`), an invoice or credit note (`invoice_pdf.py`) and an insurer's statement of
account (`statement_pdf.py`).

Why ReportLab: a maintained library, pure Python with Pillow wheels, so `make demo` needs no
system package (no Cairo, no browser); PDFs written by hand break readers. Platypus wraps long
texts and splits the tables across pages by itself. The built-in Helvetica is used (no font
file to ship): it writes English and French (Latin-1 and the usual typography); a character
outside it (a name in another script) is not drawn, which the email beside the PDF still shows.

- `Story`: the flowables of a document and every text they carry. Text goes in as plain text
  (`para` escapes it: data never becomes markup).
- `shaded_table(rows, ...)`: the grid of amounts every billing PDF draws, its header and the
  rows named shaded.
- `pdf_build(story, foot=, title=, author=, language=, refuse=)`: Letter pages, the margins, the
  foot on every page ("... page N"). Before anything is drawn every text of the story and the
  foot is scanned for a card number (RULES.md: no card number leaves by email, and these PDFs
  are emailed), each alone and all together, by `refuse`:
  - `refuse_typed_card_numbers` (invoices, statements): core.cards' `card_number` refusal, as
    for a text a person typed (a credit note's reason);
  - `refuse_card_numbers_as_email` (the order): `email_contains_card_number`, the code and
    message `notifications.email_queue` uses for the email's own text (it cannot read a PDF).
Nothing is drawn when either refuses. The metadata carry the title and author given only.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from xml.sax.saxutils import escape

from django.utils import formats
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Table, TableStyle

from medworks.core.cards import contains_card_number, refuse_card_numbers
from medworks.core.errors import DomainError

_STYLES = getSampleStyleSheet()
TITLE = ParagraphStyle("BillingTitle", parent=_STYLES["Title"], alignment=0, spaceAfter=2 * mm)
HEADING = ParagraphStyle(
    "BillingHeading", parent=_STYLES["Heading2"], fontSize=12, leading=15, spaceBefore=3 * mm
)
BODY = ParagraphStyle("BillingBody", parent=_STYLES["BodyText"], fontSize=9.5, leading=12)
SMALL = ParagraphStyle("BillingSmall", parent=BODY, fontSize=8, leading=10, textColor=colors.grey)
LABEL = ParagraphStyle("BillingLabel", parent=BODY, fontName="Helvetica-Bold")
AMOUNT = ParagraphStyle("BillingAmount", parent=BODY, alignment=TA_RIGHT)
AMOUNT_BOLD = ParagraphStyle("BillingAmountBold", parent=AMOUNT, fontName="Helvetica-Bold")
GRID = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef1f4")

# Letter pages; the foot sits in the bottom margin.
_MARGINS = {
    "leftMargin": 18 * mm,
    "rightMargin": 18 * mm,
    "topMargin": 16 * mm,
    "bottomMargin": 18 * mm,
}
_FOOT_Y = 10 * mm


class Story:
    """The flowables of a document, and every text they carry (to scan before drawing)."""

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


def shaded_table(
    rows: list[list], *, col_widths: Sequence, shaded: Sequence[int] = (), extra: Sequence = ()
) -> Table:
    """A grid of `rows` (the first the header, repeated on each page), the header and the
    `shaded` rows (indexes; -1 the last) on a grey ground; `extra`: more style commands."""
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        *(("BACKGROUND", (0, row), (-1, row), SHADE) for row in shaded),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        *extra,
    ]
    table = Table(rows, colWidths=list(col_widths), repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def date_text(value) -> str:
    """A date in the active language's format ("" for none)."""
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def refuse_typed_card_numbers(texts: Sequence[str]) -> None:
    """core.cards' refusal (`card_number`) when a text holds a card number."""
    named = {f"text_{i}": text for i, text in enumerate(texts)}
    refuse_card_numbers({**named, "all": "\n".join(texts)})


def refuse_card_numbers_as_email(texts: Sequence[str]) -> None:
    """`email_contains_card_number`, as notifications.email_queue refuses an email's text."""
    if any(contains_card_number(text) for text in (*texts, "\n".join(texts))):
        raise DomainError(
            "email_contains_card_number",
            _(
                "This email would carry a card number, and card numbers are never sent by "
                "email. Remove the number from the notes or fields it came from."
            ),
        )


def pdf_build(
    story: Story,
    *,
    foot: str,
    title: str,
    author: str,
    language: str,
    refuse: Callable[[Sequence[str]], None] = refuse_typed_card_numbers,
) -> bytes:
    """`story` drawn on Letter pages as PDF bytes, `foot` and the page number at the foot of
    each page. Every text of the story and the foot is first given to `refuse` (a card number
    refused: nothing is drawn)."""
    refuse([*story.texts, foot])

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(doc.leftMargin, _FOOT_Y, f"{foot} {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=LETTER,
        title=title,
        author=author,
        subject=title,
        creator=author,
        lang=language,
        **_MARGINS,
    )
    document.build(story.flowables, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
