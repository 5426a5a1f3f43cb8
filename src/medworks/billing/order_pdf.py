"""The order to finance as a PDF (SOP case 2 step 3), drawn with ReportLab's platypus.

`render(sheet, language=...) -> bytes` lays out an `orders.OrderSheet` on Letter pages: the title
"Order" with the Order Id, the insurance partner and its contact, the confirmation of charges as
the SOP's table (Service Requested, Clinic Cost, MedWorks Cost, Total: clinic cost + MedWorks
cost, per service; the subtotal, each tax line and the total to bill the insurer), the card on
file (masked, or none yet), the patient's name and Canadian address, what is required (services,
summary, the insurer's symptoms), the appointment and the provider to pre-pay. Each page's foot
names the Order Id and the page.

The page build (Letter pages, margins, the foot, the card-number scan) is `pdf.py`'s, shared
with the invoices' PDFs; it says why ReportLab.

Card numbers: every text put on the page (labels, data, the foot) is collected as the story is
built, and scanned with `core.cards.contains_card_number`, each alone and all together, before
anything is drawn; a hit refuses the order with `email_contains_card_number`, the code and
message `notifications.email_queue` uses for the email's text (which cannot read a PDF).
Nothing about the patient goes into the PDF's metadata (title: the Order Id only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from .pdf import (
    AMOUNT,
    AMOUNT_BOLD,
    BODY,
    LABEL,
    SMALL,
    TITLE,
    Story,
    pdf_build,
    refuse_card_numbers_as_email,
    shaded_table,
)

if TYPE_CHECKING:
    from .orders import OrderSheet


def _charges_table(story: Story, sheet: OrderSheet):
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
    # A tax line and the total: their label spans the three first columns.
    spans = [("SPAN", (0, row), (2, row)) for row in range(subtotal_row + 1, len(rows))]
    return shaded_table(
        rows,
        col_widths=[None, 30 * mm, 30 * mm, 42 * mm],
        shaded=[subtotal_row, -1],
        extra=spans,
    )


def _story(sheet: OrderSheet) -> tuple[Story, str]:
    story = Story()
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
    return story, foot


def render(sheet: OrderSheet, *, language: str = "en") -> bytes:
    """The order as PDF bytes, its words in `language`. Refuses (DomainError
    `email_contains_card_number`, in the active language) when any text it would draw holds a
    card number; nothing is drawn then."""
    with translation.override(language):
        story, foot = _story(sheet)
        title = _("Order %(order_id)s") % {"order_id": sheet.order_id}
        author = _("MedWorks Booking Desk")
    return pdf_build(
        story,
        foot=foot,
        title=title,
        author=author,
        language=language,
        refuse=refuse_card_numbers_as_email,
    )
