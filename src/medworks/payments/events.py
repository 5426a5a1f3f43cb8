"""The payment request's kinds on the case timeline (staff only: the insurer is not told how
MedWorks pays the clinic), declared into bookings' CASE_EVENTS from PaymentsConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.bookings.events import CASE_EVENTS
from medworks.core.events import EventKind

PAYMENT_REQUEST_EVENTS = [
    EventKind("payment_request_prepared", _("Pre-payment request prepared")),
    EventKind("payment_request_changed", _("Pre-payment request changed")),
    EventKind("payment_request_submitted", _("Pre-payment sent to the Chief of Staff")),
    EventKind("payment_request_reviewed", _("Pre-payment reviewed by the Chief of Staff")),
    EventKind("payment_request_approved", _("Pre-payment approved by the CEO")),
    EventKind("payment_request_rejected", _("Pre-payment rejected")),
    EventKind("payment_request_reset", _("Pre-payment approvals reset by a change")),
    EventKind("payment_request_paid", _("Provider pre-paid")),
    EventKind("payment_request_cancelled", _("Pre-payment request cancelled")),
]
# The insurer's card: the insurer is told its card is on file (brand and last four only).
CARD_EVENTS = [
    EventKind("card_on_file", _("Insurer's card on file"), _("Card on file")),
    EventKind("card_charged", _("Insurer's card charged"), _("Card charged")),
    EventKind("card_declined", _("Insurer's card declined")),
]


def declare() -> None:
    CASE_EVENTS.declare(PAYMENT_REQUEST_EVENTS)
    CASE_EVENTS.declare(CARD_EVENTS)
