"""The reconciliation's kinds on the case timeline (staff only: how MedWorks reconciles is its
own business), declared into bookings' CASE_EVENTS from ReconciliationConfig.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.bookings.events import CASE_EVENTS
from medworks.core.events import EventKind

RECONCILIATION_EVENTS = [
    EventKind("reconciliation_flagged", _("Reconciliation: a discrepancy found")),
    EventKind("reconciliation_cleared", _("Reconciliation: the discrepancy is gone")),
    EventKind("reconciled", _("Order reconciled")),
    EventKind("reconciliation_reopened", _("Reconciliation reopened for a correction")),
]


def declare() -> None:
    CASE_EVENTS.declare(RECONCILIATION_EVENTS)
