"""Reads of booking requests that pages, the API and commands share.

Every read of a case shows patient information, so `booking_request_get` records who read
which case, when and from where (RULES.md: PIPEDA/PHIPA access logging).
"""

from __future__ import annotations

from django.db.models import QuerySet

from medworks.core.audit import audit_record
from medworks.core.errors import NotFound

from .models import BookingRequest


def booking_requests_for(*, user) -> QuerySet[BookingRequest]:
    """The cases this user may see (staff all, an insurer its own, a clinic its own)."""
    return BookingRequest.objects.for_user(user)


def booking_request_get(
    *, user, order_id: str, origin: str = "", purpose: str = "viewed"
) -> BookingRequest:
    """One case the user may see, by Order Id; its reading is logged. NotFound otherwise.

    A case of another insurer is 'not found', not 'forbidden': its existence is not disclosed.
    """
    case = (
        booking_requests_for(user=user)
        .select_related("patient", "insurer", "location__partner", "owner")
        .filter(order_id=order_id)
        .first()
    )
    if case is None:
        raise NotFound("request_not_found", f"No booking request {order_id} for you.")
    audit_record(
        actor=user,
        action=f"booking_request.{purpose}",
        obj=case,
        summary=f"{case.order_id} {purpose}",
        payload={"patient_id": case.patient_id, "origin": origin[:100]},
    )
    return case
