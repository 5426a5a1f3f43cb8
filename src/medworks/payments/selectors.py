"""Reads of the payment requests: the SOP's table (case 4 step 3), what waits for whom, the
cases that can be pre-paid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from medworks.billing.models import Quote, QuoteStatus
from medworks.billing.selectors import prepayment_needed
from medworks.bookings.models import AppointmentStatus, BookingRequest, BookingStatus
from medworks.bookings.selectors import record_listed

from .models import LIVE_REQUEST_STATUSES, PaymentRequest, PaymentRequestLine


@dataclass(frozen=True)
class TableRow:
    """One row of the SOP's table."""

    number: int  # S.No
    order_id: str
    patient_name: str
    services: str
    order_date: object  # a date
    appointment: object  # the appointment's start, or None
    location: str
    clinic_cost: Decimal
    medworks_cost: Decimal
    total_to_bill: Decimal


def sop_table(request: PaymentRequest, *, user, origin: str = "") -> list[TableRow]:
    """The request's lines as the SOP lays them out. It names each patient: a read of each
    case, recorded (RULES.md)."""
    lines = list(
        request.lines.select_related("case__patient", "case__location__partner")
        .prefetch_related("case__services", "case__appointments")
        .order_by("position", "pk")
    )
    record_listed(
        user=user,
        cases=[line.case for line in lines],
        origin=origin,
        listed=f"payment request {request.display_number}",
    )
    rows = []
    for number, line in enumerate(lines, start=1):
        case = line.case
        appointments = [
            a
            for a in case.appointments.all()
            if a.status not in (AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED)
        ]
        appointment = max(appointments, key=lambda a: a.starts_at, default=None)
        rows.append(
            TableRow(
                number=number,
                order_id=case.order_id,
                patient_name=case.patient.full_name,
                services=", ".join(service.name for service in case.services.all()),
                order_date=case.created_at.date(),
                appointment=appointment.starts_at if appointment else None,
                location=f"{case.location.name}, {case.location.city}".strip(", ")
                if case.location
                else "",
                clinic_cost=line.clinic_cost,
                medworks_cost=line.medworks_cost,
                total_to_bill=line.total_to_bill,
            )
        )
    return rows


def prepayable_cases(*, provider=None, limit: int = 50) -> list[BookingRequest]:
    """Cases at a pre-paid provider whose charges the insurer confirmed and that are in no
    live payment request: what the booking team may put in a request (newest first)."""
    in_requests = PaymentRequestLine.objects.filter(
        request__status__in=LIVE_REQUEST_STATUSES
    ).values("case_id")
    confirmed = Quote.objects.filter(status=QuoteStatus.CONFIRMED).values("case_id")
    cases = (
        BookingRequest.objects.filter(location__isnull=False, pk__in=confirmed)
        .exclude(pk__in=in_requests)
        .exclude(status__in=[BookingStatus.CANCELLED, BookingStatus.CLOSED])
        .select_related("location__partner")
        .order_by("-created_at")
    )
    if provider is not None:
        cases = cases.filter(location__partner=provider)
    return [case for case in cases[: limit * 4] if prepayment_needed(case)][:limit]
