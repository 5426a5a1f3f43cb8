"""Reads of booking requests that pages, the API and commands share.

Every read of a case shows patient information, so `booking_request_get` records who read
which case, when and from where (RULES.md: PIPEDA/PHIPA access logging).
"""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from medworks.core.audit import audit_record
from medworks.core.errors import NotFound
from medworks.network.models import Service

from .models import AvailabilityOffer, BookingRequest, BookingStatus, OfferSlot


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

# --- The insurer and clinic portals, and the signed email links -------------------------------


def portal_requests(*, user, status: str = "") -> QuerySet[BookingRequest]:
    """An insurer's cases for its portal list, most recently changed first.

    The list carries no patient data (Order Id, reference, services, status), so listing is
    not a read of a case and is not logged per case; opening one is.
    """
    cases = (
        booking_requests_for(user=user)
        .only(
            "order_id",
            "insurer_reference",
            "status",
            "status_changed_at",
            "urgency",
            "created_at",
        )
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.only("code", "name_en").order_by("code"))
        )
        .order_by("-status_changed_at", "-pk")
    )
    if status:
        cases = cases.filter(status=status)
    return cases


def portal_status_counts(*, user) -> dict[str, int]:
    """How many of the user's cases are in each state (one query)."""
    rows = booking_requests_for(user=user).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def clinic_requests_awaiting(*, user) -> QuerySet[BookingRequest]:
    """Cases waiting for dates at the clinic user's locations, oldest first. No patient data."""
    return (
        booking_requests_for(user=user)
        .filter(status=BookingStatus.AWAITING_AVAILABILITY)
        .select_related("location")
        .only(
            "order_id",
            "status",
            "status_changed_at",
            "urgency",
            "preferred_dates",
            "preferred_time_window",
            "location__name",
        )
        .prefetch_related(
            Prefetch("services", queryset=Service.objects.only("code", "name_en").order_by("code"))
        )
        .order_by("status_changed_at", "pk")
    )


def clinic_appointments_booked(*, user, origin: str = "", limit: int = 100) -> list:
    """The booked appointments at the clinic user's locations, soonest first, with the patient.

    Past ones stay until the clinic marks them completed or no-show. The page shows the patient
    details the clinic needs, so each case read is logged exactly as `booking_request_get`
    logs it (one access record per case shown), with one query for all of them.
    """
    from .models import Appointment, AppointmentStatus

    appointments = list(
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            request__in=booking_requests_for(user=user).filter(status=BookingStatus.BOOKED),
        )
        .select_related("request__patient", "location")
        .prefetch_related(
            Prefetch(
                "request__services",
                queryset=Service.objects.only("code", "name_en").order_by("code"),
            )
        )
        .order_by("starts_at", "pk")[:limit]
    )
    for appointment in appointments:
        case = appointment.request
        audit_record(
            actor=user,
            action="booking_request.viewed",
            obj=case,
            summary=f"{case.order_id} viewed",
            payload={"patient_id": case.patient_id, "origin": origin[:100], "list": "clinic"},
        )
    return appointments


def booking_request_open_offer(*, case: BookingRequest) -> AvailabilityOffer | None:
    """The offer waiting for the insurer's answer, with its slots and clinic, or None."""
    from .models import OfferStatus

    return (
        case.offers.filter(status=OfferStatus.OPEN)
        .select_related("location")
        .prefetch_related(Prefetch("slots", queryset=OfferSlot.objects.order_by("starts_at")))
        .order_by("-created_at")
        .first()
    )


def booking_request_current_appointment(*, case: BookingRequest):
    """The appointment that stands (booked), or None."""
    from .models import AppointmentStatus

    return (
        case.appointments.filter(status=AppointmentStatus.BOOKED)
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )


def offer_link_target(*, kind: str, pk: int) -> OfferSlot | AvailabilityOffer:
    """What a signed email link names: a slot to approve, or an offer to decline.

    The link page is for whoever holds the link (no login), so it shows no patient data: the
    Order Id, the insurer's reference, the dates and the clinic.
    """
    if kind == "approve":
        found = (
            OfferSlot.objects.select_related("offer__request", "offer__location")
            .filter(pk=pk)
            .first()
        )
    else:
        found = (
            AvailabilityOffer.objects.select_related("request", "location")
            .prefetch_related(Prefetch("slots", queryset=OfferSlot.objects.order_by("starts_at")))
            .filter(pk=pk)
            .first()
        )
    if found is None:
        raise NotFound("offer_link_target_missing", "These dates no longer exist.")
    return found
