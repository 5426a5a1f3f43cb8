"""The paperwork's kinds on the case timeline, declared into bookings' CASE_EVENTS.

Declared from DocumentsConfig.ready(): bookings, below documents, never imports this module.
What the insurer is not told: "gop_superseded" (its "gop_amended" says it), and
"gop_service_rendered" (MedWorks' bookkeeping; "Appointment completed" says it). A GOP's notes
are staff's (why it was asked for, why cancelled), so none is shown to the insurer. A document
upload is told by the kind of paper; a kind not listed stays hidden, above all the clinic's
invoice, which shows the clinic's price and is never the insurer's to see, not even that it
arrived.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.bookings.events import CASE_EVENTS
from medworks.core.events import EventKind, by_payload

INSURER_DOCUMENT_LABELS = {
    "gop": _("GOP document added"),
    "insurer_form": _("Insurer forms added"),
    "completed_form": _("Signed paperwork received from the clinic"),
    "results": _("Results received"),
    "other": _("Document added"),
}

PAPERWORK_EVENTS = [
    EventKind(
        "gop_requested",
        _("GOP requested from the insurer"),
        _("MedWorks asked you for a guarantee of payment (GOP)"),
    ),
    EventKind("gop_issued", _("GOP issued"), _("Guarantee of payment (GOP) received")),
    EventKind(
        "gop_amended",
        _("Amended GOP issued"),
        _("Amended guarantee of payment (GOP) received"),
    ),
    EventKind("gop_superseded", _("GOP version superseded")),
    EventKind(
        "gop_acknowledged",
        _("GOP acknowledged by the clinic"),
        _("The clinic acknowledged the GOP"),
    ),
    EventKind("gop_service_rendered", _("GOP used: service rendered")),
    EventKind("gop_expired", _("GOP expired"), _("The GOP expired")),
    EventKind("gop_cancelled", _("GOP cancelled"), _("The GOP was cancelled")),
    EventKind(
        "document_uploaded",
        _("Document added"),
        by_payload("kind", INSURER_DOCUMENT_LABELS),
    ),
]


def declare() -> None:
    CASE_EVENTS.declare(PAPERWORK_EVENTS)
