"""Guards documents registers on the booking workflow (see DocumentsConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor

from .selectors import paperwork_complete


def paperwork_back(case: BookingRequest, actor: Actor) -> str | None:
    """Billing waits for the clinic's signed forms when the insurer required paperwork."""
    if not case.paperwork_required:
        return None
    return None if paperwork_complete(case=case) else _("the signed paperwork is not back yet.")
