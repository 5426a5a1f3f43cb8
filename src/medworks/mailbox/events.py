"""The inbox's kind on the case timeline, declared into bookings' CASE_EVENTS.

"email_received": a reply naming the case's Order Id was filed on it. Staff only (no insurer
words): the message may come from anyone (the clinic, the patient, the insurer), and what it
says is for the team to read and act on.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from medworks.bookings.events import CASE_EVENTS
from medworks.core.events import EventKind

MAILBOX_EVENTS = [EventKind("email_received", _("Email received"))]


def declare() -> None:
    CASE_EVENTS.declare(MAILBOX_EVENTS)
