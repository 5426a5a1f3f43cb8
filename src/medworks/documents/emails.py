"""Emails about documents: the clinic hears of new paperwork, the team of signed forms back,
the insurer that MedWorks asks it for a GOP.

None carries patient data (no names, no document titles, no notes, which people fill in
freely): the Order Id, the insurer's reference, the kind of paper and a link to the case's
page, where access is checked and logged.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from medworks.bookings.emails import case_url, clinic_language, insurer_contact_language
from medworks.bookings.models import AppointmentStatus, BookingStatus
from medworks.notifications.services import email_queue

from .models import DocumentKind

# The insurer's paperwork a clinic needs before the appointment (SOP case 1 step 4).
CLINIC_PAPERWORK_KINDS = frozenset({DocumentKind.GOP, DocumentKind.INSURER_FORM})
# Until the appointment, a clinic is told of new paperwork; after it, nobody needs the email.
_BEFORE_APPOINTMENT = frozenset(
    {BookingStatus.AWAITING_AVAILABILITY, BookingStatus.DATES_OFFERED, BookingStatus.BOOKED}
)


def paperwork_for_clinic(case, *, kind: str, what: str = "document") -> bool:
    """Tell the case's clinic that paperwork is waiting, when it is before the appointment.

    `what` is "document" (a file) or "gop_terms" (a GOP sent as data). Returns whether an email
    was queued. A case with no clinic yet sends nothing: the clinic sees the paperwork in its
    portal once the case is sent to it.
    """
    if kind not in CLINIC_PAPERWORK_KINDS or case.status not in _BEFORE_APPOINTMENT:
        return False
    location = case.location
    if location is None or not location.email:
        return False
    appointment = (
        case.appointments.filter(status=AppointmentStatus.BOOKED).order_by("-starts_at").first()
    )
    if appointment is not None and appointment.starts_at <= timezone.now():
        return False
    email_queue(
        to=[location.email],
        template="clinic_paperwork",
        language=clinic_language(location),
        context={
            "order_id": case.order_id,
            "kind": kind,
            "what": what,
            "location": location,
            "appointment": appointment,
            "url": case_url(case, audience="clinic"),
        },
        related=case,
    )
    return True


def paperwork_back_for_team(case, *, version) -> None:
    """The clinic uploaded the signed paperwork: the booking team can bill (SOP case 1 step 5)."""
    email_queue(
        to=[settings.MEDWORKS_BOOKING_TEAM_EMAIL],
        template="team_paperwork_back",
        context={
            "order_id": case.order_id,
            "location": case.location,
            "signed_on": version.signed_on,
            "url": case_url(case, audience="team"),
        },
        related=case,
    )


def gop_requested_for_insurer(case) -> None:
    """MedWorks asks the insurer's contact for a guarantee of payment (SOP case 1 step 4).

    The staff note stays on the case: it is written for the team and may name anything.
    """
    email_queue(
        to=[case.insurer_contact_email],
        template="insurer_gop_requested",
        language=insurer_contact_language(case),
        context={
            "order_id": case.order_id,
            "insurer_reference": case.insurer_reference,
            "url": case_url(case, audience="insurer"),
        },
        related=case,
    )
