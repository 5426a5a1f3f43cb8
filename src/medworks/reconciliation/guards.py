"""The guard this app registers on a lower app's workflow (see apps.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor

from .models import Reconciliation, ReconciliationStatus


def reconciled_before_close(case: BookingRequest, actor: Actor) -> str | None:
    """A case is closed only once its order is reconciled (DESIGN.md: "closed: billed and
    reconciled")."""
    if Reconciliation.objects.filter(case=case, status=ReconciliationStatus.RECONCILED).exists():
        return None
    return _("the order is not reconciled yet.")
