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


def declare() -> None:
    CASE_EVENTS.declare(QUOTE_EVENTS)
    CASE_EVENTS.declare(ORDER_EVENTS)
