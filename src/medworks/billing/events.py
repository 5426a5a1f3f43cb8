"""The quote's kinds on the case timeline, declared into bookings' CASE_EVENTS.

Declared from BillingConfig.ready(): bookings, below billing, never imports this module.
What the insurer is told: that a quote waits for its confirmation, that it was confirmed or
disputed (with the dispute's note: the insurer's own reasons, or what staff recorded of them).
What it is not told: "quote_superseded" (the next "Quote to confirm" says it), and the note of
a confirmation staff recorded (how the insurer answered: the team's record); "order_sent"
(the order and its PDF to finance, SOP case 2 step 3: MedWorks' internal paperwork, with the
clinic's cost and MedWorks' fee).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.bookings.events import CASE_EVENTS
from medworks.core.events import EventKind

QUOTE_EVENTS = [
    EventKind("quote_prepared", _("Quote prepared and sent to the insurer"), _("Quote to confirm")),
    EventKind("quote_confirmed", _("Quote confirmed by the insurer"), _("Quote confirmed")),
    EventKind(
        "quote_disputed",
        _("Quote disputed by the insurer"),
        _("Quote disputed"),
        insurer_sees_note=True,
    ),
    EventKind("quote_superseded", _("Quote superseded")),
]
ORDER_EVENTS = [EventKind("order_sent", _("Order sent to finance"))]  # staff only
# An issued invoice's steps, on the timeline of each case it bills (billing/workflow.py). The
# insurer is told it was invoiced, paid, or that a credit note cancelled the invoice; being
# late is told to it by finance (reminders come next), not by the timeline.
INVOICE_EVENTS = [
    EventKind("invoice_issued", _("Invoice issued to the insurer"), _("Invoice issued")),
    EventKind("invoice_partly_paid", _("Part payment received"), _("Part payment received")),
    EventKind("invoice_paid", _("Invoice paid"), _("Invoice paid")),
    EventKind("invoice_overdue", _("Invoice overdue")),
    EventKind(
        "invoice_voided",
        _("Invoice voided by a credit note"),
        _("Invoice cancelled by a credit note"),
    ),
    EventKind("credit_note_issued", _("Credit note issued"), _("Credit note issued")),
]

# A provider's invoice (billing/workflow.py), on the timeline of each case it bills: staff only
# (the insurer never sees what the clinic charges MedWorks).
PROVIDER_INVOICE_EVENTS = [
    EventKind("provider_invoice_recorded", _("Provider's invoice received")),
    EventKind("provider_invoice_approved", _("Provider's invoice approved for payment")),
    EventKind("provider_invoice_rejected", _("Provider's invoice rejected")),
    EventKind("provider_invoice_partly_paid", _("Provider's invoice partly paid")),
    EventKind("provider_invoice_paid", _("Provider's invoice paid")),
]


def declare() -> None:
    CASE_EVENTS.declare(QUOTE_EVENTS)
    CASE_EVENTS.declare(ORDER_EVENTS)
    CASE_EVENTS.declare(INVOICE_EVENTS)
    CASE_EVENTS.declare(PROVIDER_INVOICE_EVENTS)
