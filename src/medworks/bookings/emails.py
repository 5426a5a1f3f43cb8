"""Which email each booking event sends, to whom, in which language, with what.

Only what the procedure needs goes in an email (RULES.md: an email to a shared inbox carries the
minimum). A clinic's emails go to its bookings inbox, shared by its front desk: they carry the
Order Id, the services, the time and the patient's name, and a link; the date of birth, the
contact details, the symptoms and what is required are behind the link or in the clinic portal,
where each read is recorded. The insurer gets its reference and the appointment; the patient
gets their own appointment. No symptoms travel by email.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode, User
from medworks.notifications.calendar import ics_for_appointment
from medworks.notifications.services import email_queue

from .links import clinic_link_url, offer_link_url

# Each audience's own page for a case; the page checks access (and logs the read) itself.
CASE_PAGES = {
    "insurer": "web:portal_request",
    "team": "web:staff_booking_detail",  # the booking team and management
    "clinic": "web:clinic_request",
}


def case_url(case, *, audience: str) -> str:
    """The absolute address of the case's page for `audience` (a key of CASE_PAGES).

    Emails link to the case itself, not to a home page; patients have no login, so no link.
    """
    path = reverse(CASE_PAGES[audience], kwargs={"order_id": case.order_id})
    return settings.MEDWORKS_BASE_URL.rstrip("/") + path


def _base(case) -> dict:
    services = list(case.services.all())  # one query, or none when prefetched
    return {
        "case": case,
        "order_id": case.order_id,
        "insurer_reference": case.insurer_reference,
        "services": [s.name_en for s in services],
        "services_fr": [s.name_fr or s.name_en for s in services],
    }


def insurer_contact_language(case) -> str:
    """The insurer contact's language: their own choice when they have a user of the insurer
    with that email, else the insurer's correspondence language."""
    chosen = (
        User.objects.filter(
            organisation_id=case.insurer_id, email__iexact=case.insurer_contact_email
        )
        .exclude(preferred_language="")
        .values_list("preferred_language", flat=True)
        .first()
    )
    return chosen or case.insurer.correspondence_language


def _insurer(case, template: str, **extra) -> None:
    email_queue(
        to=[case.insurer_contact_email],
        template=template,
        language=insurer_contact_language(case),
        context={**_base(case), "case_url": case_url(case, audience="insurer"), **extra},
        related=case,
    )


def clinic_language(location) -> str:
    """The clinic's language: its organisation's correspondence language when the clinic has
    portal users and chose French; else French for a location that lists French and not
    English (the directory's Languages column); English otherwise."""
    organisation = location.partner.organisation
    if organisation is not None and organisation.correspondence_language == "fr":
        return "fr"
    languages = (location.languages or "").lower()
    return "fr" if "french" in languages and "english" not in languages else "en"


def _team(case, template: str, *, also_owner: bool = False, **extra) -> None:
    """The booking team's inbox; with `also_owner`, the case's owner too, in their language."""
    context = {**_base(case), "case_url": case_url(case, audience="team"), **extra}
    team = settings.MEDWORKS_BOOKING_TEAM_EMAIL
    email_queue(to=[team], template=template, context=context, related=case)
    owner = case.owner if also_owner and case.owner_id else None
    if owner is not None and owner.email and owner.email.lower() != team.lower():
        email_queue(
            to=[owner.email],
            template=template,
            language=owner.preferred_language or "en",
            context=context,
            related=case,
        )


def clinic_address(location) -> str:
    """Where a clinic is written to: its location's bookings inbox, else its partner's contact."""
    return location.email or location.partner.contact_email


def clinic_has_portal(location) -> bool:
    """Whether the clinic has people in the portal: its partner's organisation is active and has
    an active clinic user. Its emails then point to the portal rather than a signed link."""
    organisation = location.partner.organisation
    if organisation is None or not organisation.is_active:
        return False
    return User.objects.filter(
        organisation=organisation, is_active=True, roles__code=RoleCode.CLINIC_USER
    ).exists()


def _clinic_ask_context(case) -> dict:
    """What the clinic needs to answer a request for dates, and no more: the Order Id, the
    services, the preferred dates and time window, the patient's name, and where to answer (the
    portal's case page, or a signed link for a clinic without portal users)."""
    location = case.location
    portal = clinic_has_portal(location)
    preferred = []
    for day in case.preferred_dates or []:
        try:
            preferred.append(dt.date.fromisoformat(str(day)))
        except ValueError:
            continue
    return {
        **_base(case),
        "location": location,
        "patient_name": case.patient.full_name,
        "preferred_dates": preferred,
        "time_window": case.get_preferred_time_window_display(),
        "portal": portal,
        # The clinic's own page for the case: its portal's, or (no portal users) the signed page.
        "case_url": case_url(case, audience="clinic") if portal else clinic_link_url(case=case),
        "link_expires_on": timezone.localdate(
            timezone.now() + dt.timedelta(hours=settings.MEDWORKS_CLINIC_LINK_MAX_AGE_HOURS)
        ),
    }


def clinic_asked(case) -> bool:
    """A clinic chosen: ask it for dates, in its language. False when it has no address."""
    to = clinic_address(case.location)
    if not to:
        return False
    email_queue(
        to=[to],
        template="clinic_ask",
        language=clinic_language(case.location),
        context=_clinic_ask_context(case),
        related=case,
    )
    return True


def clinic_asked_again(case) -> bool:
    """The clinic gave no dates in time: remind it once (services.clinic_reminders_queue)."""
    to = clinic_address(case.location)
    if not to:
        return False
    email_queue(
        to=[to],
        template="clinic_ask_again",
        language=clinic_language(case.location),
        context=_clinic_ask_context(case),
        related=case,
    )
    return True


def clinic_declined(case, *, location, note: str) -> None:
    """The clinic cannot offer dates: the case's owner and the team look for another."""
    _team(case, "team_clinic_declined", also_owner=True, location=location, note=note)


def clinic_request(case, *, kind: str, note: str, appointment=None) -> None:
    """A clinic asks about a booked appointment (reschedule, or it cannot take place)."""
    _team(
        case,
        "team_clinic_request",
        also_owner=True,
        kind=kind,
        location=case.location,
        appointment=appointment,
        note=note,
    )


def request_received(case) -> None:
    # Two emails, one read of the services (this runs inside every submission).
    prefetch_related_objects([case], "services")
    _insurer(case, "request_received")
    _team(case, "team_new_request")


def escalated(case, *, note: str) -> None:
    """Management's shared inbox and each manager (SOP: clinic, sales, operations, senior)."""
    from medworks.accounts.selectors import management_users

    managers = [u.email for u in management_users() if u.email]
    email_queue(
        to=list(dict.fromkeys([settings.MEDWORKS_MANAGEMENT_EMAIL, *managers])),
        template="team_escalated",
        context={
            **_base(case),
            "case_url": case_url(case, audience="team"),
            "queue_url": settings.MEDWORKS_BASE_URL.rstrip("/") + reverse("web:escalation_queue"),
            "note": note,
            "postal_code": case.patient.postal_code,
        },
        related=case,
    )


def escalation_assigned(case, *, owner, by) -> None:
    """The manager given an escalation by someone else is told (taking it oneself is not)."""
    if not owner.email or owner.pk == getattr(by, "pk", None):
        return
    email_queue(
        to=[owner.email],
        template="team_escalation_assigned",
        language=owner.preferred_language or "en",
        context={
            **_base(case),
            "case_url": case_url(case, audience="team"),
            "by": by.get_full_name() or by.username if by else "",
        },
        related=case,
    )


def dates_offered(case, offer) -> None:
    slots = [
        {"slot": slot, "approve_url": offer_link_url(kind="approve", pk=slot.pk)}
        for slot in offer.slots.all()
    ]
    _insurer(
        case,
        "dates_offered",
        offer=offer,
        location=offer.location,
        slots=slots,
        decline_url=offer_link_url(kind="decline", pk=offer.pk),
        link_hours=settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS,
        links_expire_at=timezone.now()
        + dt.timedelta(hours=settings.MEDWORKS_OFFER_LINK_MAX_AGE_HOURS),
    )


def dates_declined(case, *, note: str) -> None:
    _team(case, "team_dates_declined", note=note)


def booked(case, appointment) -> None:
    location = appointment.location
    patient = case.patient
    prefetch_related_objects([case], "services")  # read once for the emails and calendar files
    context = {**_base(case), "appointment": appointment, "location": location}

    def attachments(language: str) -> list[tuple[str, str, str]]:
        # The calendar file is in the language of the email it travels with.
        ics = ics_for_appointment(appointment=appointment, case=case, language=language)
        return [("appointment.ics", "text/calendar", ics)]

    if location.email:
        language = clinic_language(location)
        email_queue(
            to=[location.email],
            template="clinic_booking",
            language=language,
            context={**context, "patient": patient, "case_url": case_url(case, audience="clinic")},
            related=case,
            attachments=attachments(language),
        )
    email_queue(
        to=[case.insurer_contact_email],
        template="insurer_booked",
        context={**context, "case_url": case_url(case, audience="insurer")},
        related=case,
        attachments=attachments("en"),
    )
    if case.notify_patient and patient.email:
        email_queue(
            to=[patient.email],
            template="patient_booked",
            language=patient.preferred_language,
            context={**context, "patient": patient},
            related=case,
            attachments=attachments(patient.preferred_language),
        )


def results_direct(case) -> None:
    _insurer(case, "results_direct")


def no_show(case) -> None:
    _insurer(case, "no_show")
    _team(case, "team_no_show")


def cancelled_appointment(case, appointment, *, note: str) -> None:
    if appointment.location.email:
        email_queue(
            to=[appointment.location.email],
            template="clinic_cancelled",
            language=clinic_language(appointment.location),
            context={**_base(case), "appointment": appointment, "note": note},
            related=case,
        )


def cancelled(case, appointment, *, cancelled_by: str, note: str) -> None:
    _insurer(case, "cancelled", cancelled_by=cancelled_by, note=note)
    if appointment is not None:
        cancelled_appointment(case, appointment, note=note)


def reminder(case, appointment) -> None:
    """The day before: the patient (if the insurer allows) and the clinic."""
    context = {**_base(case), "appointment": appointment, "location": appointment.location}
    patient = case.patient
    if case.notify_patient and patient.email:
        email_queue(
            to=[patient.email],
            template="patient_reminder",
            language=patient.preferred_language,
            context={**context, "patient": patient},
            related=case,
        )
    if appointment.location.email:
        email_queue(
            to=[appointment.location.email],
            template="clinic_reminder",
            language=clinic_language(appointment.location),
            # The clinic already has the patient from the booking; the name says who is coming.
            context={**context, "patient": patient, "case_url": case_url(case, audience="clinic")},
            related=case,
        )
