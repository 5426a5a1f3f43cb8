"""Row locks for booking use cases, always taken in one order: the case, then its slots.

Every use case that changes a case locks the case row first (workflow.transition does), so two
people acting on one case queue behind each other instead of deadlocking. Call inside a
transaction. (SQLite ignores FOR UPDATE; its writers are serialised by IMMEDIATE transactions.)
"""

from __future__ import annotations

from .models import BookingRequest, OfferSlot


def lock_case(pk: int) -> BookingRequest:
    return BookingRequest.objects.select_for_update().get(pk=pk)


def lock_slot(pk: int) -> OfferSlot:
    """Lock a slot; its case must already be locked (lock_case) by this transaction."""
    return OfferSlot.objects.select_for_update(of=("self",)).select_related("offer").get(pk=pk)
