"""Every write a booking use case performs. Each is one transaction; emails are queued in it.

Keyword-only, named <entity>_<action>. Views, API handlers and commands parse, call one of
these, and render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, user_can
from medworks.core.actor import Actor, Party
from medworks.core.cards import card_number_errors, redact
from medworks.core.errors import DomainError
from medworks.network.models import Location, Offering

from . import emails
from .forms import BookingRequestForm
from .locks import lock_case, lock_slot
from .models import (
    DEFAULT_APPOINTMENT_MINUTES,
    Appointment,
    AppointmentStatus,
    AvailabilityOffer,
    BookingEvent,
    BookingRequest,
    BookingStatus,
    Channel,
    OfferSlot,
    OfferStatus,
    OrderSequence,
    Patient,
    SlotStatus,
)
from .selectors import clinic_zone
from .source import source_card_flag, source_masked
from .workflow import CLINIC_REQUESTS, case_state_phrase, party_of, transition

MAX_SLOTS_PER_OFFER = 10
# How far ahead a clinic may offer a date.
MAX_AHEAD = dt.timedelta(days=2 * 366)


def _form_errors(form) -> dict[str, list[str]]:
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


def booking_request_clean(*, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a request's fields (any door). Raises DomainError with field errors."""
    data = dict(data)
    if isinstance(data.get("preferred_dates"), list | tuple):
        data["preferred_dates"] = ",".join(str(d) for d in data["preferred_dates"])
    if isinstance(data.get("services"), str):
        data["services"] = [data["services"]]
    form = BookingRequestForm(data=data)
    if not form.is_valid():
        raise DomainError(
            "request_invalid",
            _("The request has errors: see the fields."),
            fields=_form_errors(form),
        )
    return form.cleaned_data


def _next_order_id(year: int) -> str:
    OrderSequence.objects.get_or_create(year=year)
    seq = OrderSequence.objects.select_for_update().get(year=year)
    seq.last += 1
    seq.save(update_fields=["last"])
    return f"MW-{year}-{seq.last:06d}"


def booking_request_submit(
    *,
    insurer: Organisation,
    data: Mapping[str, Any],
    actor: Actor,
    channel: str = Channel.PORTAL,
    source_filename: str = "",
    source_content: bytes = b"",
    on_created: Callable[[BookingRequest], None] | None = None,
) -> BookingRequest:
    """Create a case from an insurer's request (portal, API, or an email entered by an agent).

    `on_created(case)` runs inside the transaction, before the emails are queued: the API
    records the request's Idempotency-Key there, so key and case commit (or fail) together.
    """
    if insurer.kind != OrganisationKind.INSURER:
        raise DomainError("insurer_invalid", _("Requests are made for an insurance partner."))
    cleaned = booking_request_clean(data=data)
    # The original message is kept with card numbers masked, its name one printable line.
    source_content, source_cards = source_masked(source_content, filename=source_filename)
    source_filename = "".join(c for c in redact(source_filename) if c.isprintable())
    with transaction.atomic():
        patient = Patient.objects.create(
            insurer=insurer,
            first_name=cleaned["patient_first_name"],
            last_name=cleaned["patient_last_name"],
            date_of_birth=cleaned["patient_date_of_birth"],
            phone=cleaned["patient_phone"],
            email=cleaned["patient_email"],
            address=cleaned["patient_address"],
            city=cleaned["patient_city"],
            province=cleaned["patient_province"],
            postal_code=cleaned["patient_postal_code"],
            preferred_language=cleaned["patient_language"],
            needs_wheelchair_access=cleaned.get("patient_needs_wheelchair_access", False),
        )
        case = BookingRequest.objects.create(
            order_id=_next_order_id(timezone.localdate().year),
            insurer=insurer,
            insurer_reference=cleaned["insurer_reference"],
            policy_number=cleaned["policy_number"],
            insurer_contact_name=cleaned["insurer_contact_name"],
            insurer_contact_email=cleaned["insurer_contact_email"],
            insurer_contact_phone=cleaned["insurer_contact_phone"],
            patient=patient,
            symptoms=cleaned["symptoms"],
            summary=cleaned["summary"],
            preferred_dates=cleaned["preferred_dates"],
            preferred_time_window=cleaned["preferred_time_window"],
            scheduling_notes=cleaned["scheduling_notes"],
            urgency=cleaned["urgency"],
            paperwork_required=cleaned["paperwork_required"],
            results_delivery=cleaned["results_delivery"],
            notify_patient=cleaned["notify_patient"],
            channel=channel,
            source_filename=source_filename[:255],
            source_content=source_content or b"",
            created_by=actor.user,
        )
        case.services.set(cleaned["services"])
        if on_created is not None:
            on_created(case)
        BookingEvent.objects.record(
            request=case,
            actor=actor,
            kind="created",
            to_status=case.status,
            payload={"channel": channel},
        )
        if source_cards:
            source_card_flag(case=case, actor=actor, matches=source_cards)
        emails.request_received(case)
    return case


def booking_request_take(*, case: BookingRequest, actor: Actor) -> BookingRequest:
    """An agent takes a new case: it becomes theirs and sourcing starts. When matching finds no
    affiliate within the insurer's service area, the case is escalated to management at once
    (SOP: "an immediate escalation"), by the desk, saying why."""
    with transaction.atomic():
        case = transition(case=case, name="start_sourcing", actor=actor)
        case.owner = actor.user
        case.save(update_fields=["owner", "updated_at"])
        reason = out_of_area_reason(case)
        if reason:
            case = booking_request_escalate(case=case, actor=Actor.system("matching"), note=reason)
    return case


def out_of_area_reason(case: BookingRequest) -> str:
    """Why matching escalates this case (no affiliate offering every requested service within
    the insurer's service area, or none reachable by road), or "" when one is in the area.

    A patient whose postal code matching cannot read is left to the agent: the address may be
    mistyped, which is not a reason to hand the case to management."""
    from .selectors import clinic_choices

    services = list(case.services.all())
    choices = clinic_choices(case=case, services=services)
    result = choices.result
    if result is None:
        return ""
    if any(m.within_area and m.location_id in result.complete for m in result.matches):
        return ""
    return _(
        "Matching found no affiliate partner offering every requested service within "
        "%(minutes)s minutes by road of the patient (%(postal_code)s)."
    ) % {"minutes": result.max_minutes, "postal_code": result.origin.postal_code}


def booking_request_assign(*, case: BookingRequest, owner, actor: Actor) -> BookingRequest:
    if not user_can(owner, Capability.BOOKING_WORK):
        raise DomainError("owner_invalid", _("Cases are owned by the booking team."))
    with transaction.atomic():
        locked = lock_case(case.pk)
        previous = locked.owner_id
        locked.owner = owner
        locked.save(update_fields=["owner", "updated_at"])
        BookingEvent.objects.record(
            request=locked,
            actor=actor,
            kind="assigned",
            payload={"from_owner": previous, "to_owner": owner.pk},
        )
    return locked


def booking_request_escalate(*, case: BookingRequest, actor: Actor, note: str) -> BookingRequest:
    """No affiliate within the area: hand the case to management (SOP case 2), who are each
    told. A case escalated again waits for a manager to take it again."""
    with transaction.atomic():
        case = transition(case=case, name="escalate", actor=actor, note=note)
        case.escalation_owner = None
        case.save(update_fields=["escalation_owner", "updated_at"])
        emails.escalated(case, note=note)
    return case


def booking_request_escalation_assign(
    *, case: BookingRequest, owner, actor: Actor
) -> BookingRequest:
    """A manager takes an escalated case, or gives it to another manager (who is told)."""
    if not user_can(actor.user, Capability.ESCALATION_HANDLE):
        raise DomainError("not_management", _("Only management takes or gives escalated cases."))
    if not user_can(owner, Capability.ESCALATION_HANDLE):
        raise DomainError(
            "owner_invalid",
            _("Escalations are owned by management."),
            fields={"owner": [_("Choose a member of management.")]},
        )
    with transaction.atomic():
        locked = lock_case(case.pk)
        if locked.status != BookingStatus.ESCALATED:
            raise DomainError("not_escalated", _("This case is not waiting for management."))
        previous = locked.escalation_owner_id
        if previous == owner.pk:
            return locked
        locked.escalation_owner = owner
        locked.save(update_fields=["escalation_owner", "updated_at"])
        BookingEvent.objects.record(
            request=locked,
            actor=actor,
            kind="escalation_assigned",
            payload={"from_owner": previous, "to_owner": owner.pk},
        )
        emails.escalation_assigned(locked, owner=owner, by=actor.user)
    return locked


def booking_request_provider_found(
    *,
    case: BookingRequest,
    partner_data: Mapping[str, Any],
    location_data: Mapping[str, Any],
    prices: Mapping[Any, Any],
    actor: Actor,
    note: str = "",
) -> BookingRequest:
    """Management records the provider it found for an escalated case (SOP escalation step
    two): it enters the directory as a non-affiliate provider, reusable next time, and the case
    returns to the booking flow with it chosen (the clinic is asked for dates). One
    transaction: a refused field leaves neither a provider nor a changed case."""
    from medworks.network.services import provider_record

    if case.status != BookingStatus.ESCALATED:
        raise DomainError("not_escalated", _("This case is not waiting for management."))
    wanted = set(case.services.values_list("id", flat=True))
    if {s.pk for s in prices} != wanted:
        raise DomainError(
            "provider_services", _("Give the provider's price for every requested service.")
        )
    with transaction.atomic():
        location = provider_record(
            partner_data=partner_data, location_data=location_data, prices=prices, actor=actor
        )
        case = booking_request_select_clinic(
            case=case,
            location=location,
            actor=actor,
            note=note or _("Provider found by management: %(name)s.") % {"name": location.name},
        )
        if case.escalation_owner_id is None and actor.user is not None:
            case.escalation_owner = actor.user
            case.save(update_fields=["escalation_owner", "updated_at"])
    return case


def booking_request_select_clinic(
    *, case: BookingRequest, location: Location, actor: Actor, note: str = ""
) -> BookingRequest:
    """Choose the clinic location and ask it for dates: its bookings inbox gets the request in
    its language, with the minimum (emails.clinic_asked) and where to answer (the portal, or a
    signed link when it has no portal users)."""
    wanted = set(case.services.values_list("id", flat=True))
    offered = set(
        Offering.objects.filter(
            location=location, is_active=True, service_id__in=wanted
        ).values_list("service_id", flat=True)
    )
    if not location.is_active or not location.partner.is_active:
        raise DomainError(
            "location_inactive", _("%(location)s is not active.") % {"location": location.name}
        )
    if wanted - offered:
        raise DomainError(
            "location_lacks_service",
            _("%(location)s does not offer every service requested.") % {"location": location.name},
        )
    with transaction.atomic():
        locked = lock_case(case.pk)
        locked.location = location
        locked.save(update_fields=["location", "updated_at"])
        case = transition(
            case=locked,
            name="select_clinic",
            actor=actor,
            note=note,
            payload={"location_id": location.pk, "location": location.name},
        )
        emails.clinic_asked(case)
    return case


def booking_request_clinic_decline(
    *, case: BookingRequest, actor: Actor, note: str
) -> BookingRequest:
    """The clinic asked for dates cannot offer any (its reason required): the case goes back to
    sourcing with no clinic chosen, the decline is on the timeline with the location (the staff
    case page marks that clinic as having declined this case), and the case's owner and the
    team are told. The clinic itself (portal or signed link) or staff for it may say so.

    Billing's effect on "clinic_decline" supersedes the standing quote, which was for this
    clinic (billing/apps.py)."""
    with transaction.atomic():
        locked = lock_case(case.pk)
        location = locked.location
        case = transition(
            case=locked,
            name="clinic_decline",
            actor=actor,
            note=note,
            payload={
                "location_id": location.pk if location else None,
                "location": location.name if location else "",
            },
        )
        case.location = None
        case.save(update_fields=["location", "updated_at"])
        emails.clinic_declined(case, location=location, note=note.strip())
    return case


def _clean_slots(slots: Sequence[Mapping[str, Any]], *, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """The slots as stored. A naive time is the clinic's wall-clock time, read in its `zone`."""
    now = timezone.now()
    if not slots:
        raise DomainError(
            "slots_missing", _("Give at least one date."), fields={"slots": [_("Required.")]}
        )
    if len(slots) > MAX_SLOTS_PER_OFFER:
        raise DomainError(
            "slots_too_many",
            _("At most %(count)s dates per offer.") % {"count": MAX_SLOTS_PER_OFFER},
        )
    cleaned, errors = [], {}
    for i, slot in enumerate(slots):
        starts_at = _in_zone(slot.get("starts_at"), zone)
        expires_at = _in_zone(slot.get("expires_at"), zone) or (
            starts_at - dt.timedelta(hours=24) if isinstance(starts_at, dt.datetime) else None
        )
        problems = card_number_errors({"practitioner": slot.get("practitioner")}).get(
            "practitioner", []
        )
        if not isinstance(starts_at, dt.datetime) or timezone.is_naive(starts_at):
            problems.append(_("Give the date and time of the appointment."))
        elif starts_at <= now:
            problems.append(_("The appointment is in the past."))
        elif starts_at > now + MAX_AHEAD:
            problems.append(_("The appointment is more than two years ahead."))
        if isinstance(expires_at, dt.datetime) and isinstance(starts_at, dt.datetime):
            if expires_at <= now:
                problems.append(_("The clinic's hold has already expired."))
            elif expires_at > starts_at:
                expires_at = starts_at
        duration = int(slot.get("duration_minutes") or DEFAULT_APPOINTMENT_MINUTES)
        if not 5 <= duration <= 480:
            problems.append(_("The duration is between 5 and 480 minutes."))
        if problems:
            errors[f"slots.{i}"] = problems
            continue
        cleaned.append(
            {
                "starts_at": starts_at,
                "expires_at": expires_at,
                "duration_minutes": duration,
                "practitioner": str(slot.get("practitioner") or "")[:200],
            }
        )
    if errors:
        raise DomainError("slots_invalid", _("Some dates cannot be offered."), fields=errors)
    return cleaned


def _in_zone(value, zone: dt.tzinfo):
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return timezone.make_aware(value, zone)
    return value


def availability_offer_record(
    *, case: BookingRequest, slots: Sequence[Mapping[str, Any]], actor: Actor
) -> AvailabilityOffer:
    """Record the dates the clinic gave and send them to the insurer for approval.

    Times may be aware, or naive: the clinic's wall-clock times, read in the clinic's zone
    (its province's), as the clinic portal and the agent's form give them."""
    zone = clinic_zone(case=case) or timezone.get_current_timezone()
    cleaned = _clean_slots(slots, zone=zone)
    with transaction.atomic():
        case = transition(
            case=case,
            name="offer_dates",
            actor=actor,
            payload={"slots": len(cleaned)},
        )
        offer = AvailabilityOffer.objects.create(
            request=case, location=case.location, created_by=actor.user
        )
        OfferSlot.objects.bulk_create(OfferSlot(offer=offer, **slot) for slot in cleaned)
        emails.dates_offered(case, offer)
    return offer


def _open_offer(case: BookingRequest) -> AvailabilityOffer:
    offer = case.offers.filter(status=OfferStatus.OPEN).order_by("-created_at").first()
    if offer is None:
        raise DomainError("offer_missing", _("There are no dates waiting for approval."))
    return offer


def availability_offer_approve(*, slot: OfferSlot, actor: Actor, note: str = "") -> Appointment:
    """The insurer approves one offered date: the case is booked, everyone is told.

    `note` says how the insurer confirmed when staff approve on its behalf (phone, email).
    """
    with transaction.atomic():
        request_id = OfferSlot.objects.filter(pk=slot.pk).values_list(
            "offer__request_id", flat=True
        )
        case = lock_case(request_id.get())  # the case first: the one lock order (locks.py)
        locked_slot = lock_slot(slot.pk)
        offer = locked_slot.offer
        if offer.status != OfferStatus.OPEN or locked_slot.status != SlotStatus.OPEN:
            raise DomainError("slot_taken", _("This date is no longer available."))
        if not locked_slot.is_available():
            raise DomainError("slot_expired", _("The clinic no longer holds this date."))
        case = transition(
            case=case,
            name="approve_date",
            actor=actor,
            note=note,
            payload={"slot_id": locked_slot.pk, "starts_at": locked_slot.starts_at.isoformat()},
        )
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    request=case,
                    slot=locked_slot,
                    location=offer.location,
                    starts_at=locked_slot.starts_at,
                    duration_minutes=locked_slot.duration_minutes,
                    practitioner=locked_slot.practitioner,
                )
        except IntegrityError:
            raise DomainError("slot_taken", _("This date is no longer available.")) from None
        OfferSlot.objects.filter(pk=locked_slot.pk).update(status=SlotStatus.TAKEN)
        offer.slots.exclude(pk=locked_slot.pk).update(status=SlotStatus.RELEASED)
        AvailabilityOffer.objects.filter(pk=offer.pk).update(
            status=OfferStatus.ACCEPTED, decided_at=timezone.now()
        )
        emails.booked(case, appointment)
        if not case.paperwork_required:
            # SOP case 1 step 3: no paperwork, so results go straight to the patient.
            BookingEvent.objects.record(
                request=case,
                actor=actor,
                kind="results_direct_to_patient",
                note="No paperwork: the clinic gives the results to the patient directly.",
            )
            emails.results_direct(case)
    return appointment


def availability_offer_decline(
    *,
    case: BookingRequest,
    actor: Actor,
    note: str,
    offer: AvailabilityOffer | None = None,
) -> BookingRequest:
    """The insurer declines every offered date: back to sourcing, with its note.

    `offer` names the offer the person saw (a signed link names one): declining it when it is
    no longer the open one is refused, so an old email never declines a newer offer.
    """
    with transaction.atomic():
        open_offer = _open_offer(case)
        if offer is not None and offer.pk != open_offer.pk:
            raise DomainError("offer_closed", _("These dates have already been answered."))
        offer = open_offer
        case = transition(case=case, name="decline_dates", actor=actor, note=note)
        offer.slots.filter(status=SlotStatus.OPEN).update(status=SlotStatus.RELEASED)
        AvailabilityOffer.objects.filter(pk=offer.pk).update(
            status=OfferStatus.DECLINED, decline_note=note.strip(), decided_at=timezone.now()
        )
        emails.dates_declined(case, note=note)
    return case


def _current_appointment(case: BookingRequest) -> Appointment | None:
    return case.appointments.filter(status=AppointmentStatus.BOOKED).order_by("-starts_at").first()


def appointment_complete(*, case: BookingRequest, actor: Actor, note: str = "") -> BookingRequest:
    with transaction.atomic():
        case = transition(case=case, name="complete", actor=actor, note=note)
        Appointment.objects.filter(request=case, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.COMPLETED
        )
    return case


def appointment_no_show(*, case: BookingRequest, actor: Actor, note: str = "") -> BookingRequest:
    with transaction.atomic():
        case = transition(case=case, name="no_show", actor=actor, note=note)
        Appointment.objects.filter(request=case, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.NO_SHOW
        )
        emails.no_show(case)
    return case


def appointment_reschedule(*, case: BookingRequest, actor: Actor, note: str) -> BookingRequest:
    """Back to asking the clinic for dates; the current appointment is kept as rescheduled."""
    with transaction.atomic():
        appointment = _current_appointment(case)
        case = transition(case=case, name="reschedule", actor=actor, note=note)
        Appointment.objects.filter(
            request=case, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW]
        ).update(status=AppointmentStatus.RESCHEDULED)
        if appointment is not None:
            emails.cancelled_appointment(case, appointment, note=note)
    return case


def appointment_clinic_request(
    *, case: BookingRequest, actor: Actor, kind: str, note: str
) -> BookingEvent:
    """The clinic asks MedWorks about a booked appointment (`kind`: one of
    workflow.CLINIC_REQUESTS: reschedule it, or it cannot take place), saying why. Not a move:
    the case stays booked and the booking team decides (reschedule, or cancel with the
    insurer). Recorded as a staff-only event, and the case's owner and the team are emailed."""
    spec = CLINIC_REQUESTS.get(kind)
    if spec is None:
        raise DomainError(
            "clinic_request_unknown", _("%(name)s is not a request.") % {"name": repr(kind)}
        )
    note = (note or "").strip()
    with transaction.atomic():
        locked = (
            BookingRequest.objects.select_for_update(of=("self",))
            .select_related("location__partner", "owner")
            .get(pk=case.pk)
        )
        if party_of(actor, locked) not in spec.parties:
            raise DomainError(
                "transition_forbidden",
                _("You may not ask this on this case."),
            )
        if locked.status not in spec.sources:
            raise DomainError(
                "transition_illegal",
                _("Only a booked appointment can be changed: the case is %(state)s.")
                % {"state": case_state_phrase(locked.status)},
            )
        if not note:
            raise DomainError("note_required", _("Say why."), fields={"note": [_("Say why.")]})
        appointment = _current_appointment(locked)
        event = BookingEvent.objects.record(
            request=locked,
            actor=actor,
            kind=kind,
            note=note,
            payload={
                "party": Party.CLINIC.value,
                "appointment_id": appointment.pk if appointment else None,
            },
        )
        emails.clinic_request(locked, kind=kind, note=note, appointment=appointment)
    return event


CANCELLED_BY = {"insurer", "clinic", "patient", "medworks"}


def booking_request_cancel(
    *,
    case: BookingRequest,
    actor: Actor,
    cancelled_by: str,
    note: str,
) -> BookingRequest:
    """Stop a case, saying who asked and why. Nothing is deleted."""
    if cancelled_by not in CANCELLED_BY:
        raise DomainError(
            "cancelled_by_invalid",
            _("Say who cancelled: insurer, clinic, patient or MedWorks."),
            fields={"cancelled_by": [_("Choose who cancelled.")]},
        )
    with transaction.atomic():
        appointment = _current_appointment(case)
        case = transition(
            case=case,
            name="cancel",
            actor=actor,
            note=note,
            payload={"cancelled_by": cancelled_by},
        )
        Appointment.objects.filter(request=case, status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CANCELLED
        )
        for offer in case.offers.filter(status=OfferStatus.OPEN):
            offer.slots.filter(status=SlotStatus.OPEN).update(status=SlotStatus.RELEASED)
            AvailabilityOffer.objects.filter(pk=offer.pk).update(
                status=OfferStatus.WITHDRAWN, decided_at=timezone.now()
            )
        emails.cancelled(case, appointment, cancelled_by=cancelled_by, note=note)
    return case


def booking_request_step(*, case: BookingRequest, name: str, actor: Actor, note: str = ""):
    """The plain steps with no side effects of their own (start sourcing, billing, closing)."""
    if name not in {"start_sourcing", "mark_ready_for_billing", "close"}:
        raise DomainError(
            "transition_unknown", _("%(name)s is not a plain step.") % {"name": repr(name)}
        )
    return transition(case=case, name=name, actor=actor, note=note)


REMINDERS = Actor.system("reminders")


def appointment_reminders_queue(*, now: dt.datetime | None = None, actor: Actor = REMINDERS) -> int:
    """Queue the day-before reminders: booked appointments starting tomorrow (local date).

    Run periodically by `medworks worker`. Each appointment is claimed with a conditional
    UPDATE of reminder_sent_at in the same transaction that queues its emails, so two workers
    never remind twice, and a failure leaves it unclaimed for the next run. Returns how many
    appointments were reminded.
    """
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + dt.timedelta(days=1)
    start = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time.min))
    due = Appointment.objects.filter(
        status=AppointmentStatus.BOOKED,
        reminder_sent_at__isnull=True,
        starts_at__gte=start,
        starts_at__lt=end,
    ).values_list("pk", flat=True)
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=pk, status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if not claimed:
                continue  # another worker took it, or it was cancelled meanwhile
            appointment = Appointment.objects.select_related("location", "request__patient").get(
                pk=pk
            )
            case = appointment.request
            emails.reminder(case, appointment)
            BookingEvent.objects.record(
                request=case,
                actor=actor,
                kind="reminder_queued",
                payload={"appointment_id": pk},
            )
        reminded += 1
    return reminded


CLINIC_REMINDERS = Actor.system("clinic_reminders")


def clinic_reminders_queue(
    *, now: dt.datetime | None = None, actor: Actor = CLINIC_REMINDERS
) -> int:
    """Remind, once, each clinic asked for dates that has given none after
    MEDWORKS_CLINIC_REMINDER_HOURS (run periodically by `medworks worker`).

    "Once" is per request for dates: a `clinic_reminded` event written while the case waits
    (at or after its status_changed_at) is the mark; the work queue shows it as "clinic
    reminded, no answer" (selectors.work_queue). A case that leaves awaiting_availability and
    comes back (another clinic, a reschedule) starts a new wait, with its own reminder.

    The candidates come from the (status, status_changed_at) index. Each is then locked in its
    own transaction, with `skip_locked`, so two workers never wait on each other and a case
    being changed right now is left to the next run; once locked, whether it was reminded is
    read again by a new statement, which sees what a worker that held the lock before committed
    (the snapshot of the locking SELECT may predate it). The event and the email commit
    together: a failure leaves the case to be reminded next time, and two workers never remind
    twice. (SQLite ignores FOR UPDATE, but serialises its writers.) Returns how many clinics
    were reminded.
    """
    from django.conf import settings
    from django.db.models import Exists, OuterRef

    now = now or timezone.now()
    waited = now - dt.timedelta(hours=settings.MEDWORKS_CLINIC_REMINDER_HOURS)
    reminded_q = BookingEvent.objects.filter(
        request_id=OuterRef("pk"),
        kind="clinic_reminded",
        occurred_at__gte=OuterRef("status_changed_at"),
    )
    due = list(
        BookingRequest.objects.filter(
            status=BookingStatus.AWAITING_AVAILABILITY,
            status_changed_at__lt=waited,
            location__isnull=False,
        )
        .filter(~Exists(reminded_q))
        .order_by("status_changed_at", "pk")
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in due:
        with transaction.atomic():
            case = (
                BookingRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("location__partner__organisation", "patient")
                .filter(
                    pk=pk,
                    status=BookingStatus.AWAITING_AVAILABILITY,
                    status_changed_at__lt=waited,
                    location__isnull=False,
                )
                .first()
            )
            if case is None:
                continue  # another worker has it, or it was answered meanwhile
            if BookingEvent.objects.filter(
                request=case, kind="clinic_reminded", occurred_at__gte=case.status_changed_at
            ).exists():
                continue  # reminded by another worker since this run listed it
            sent = emails.clinic_asked_again(case)
            BookingEvent.objects.record(
                request=case,
                actor=actor,
                kind="clinic_reminded",
                payload={"location_id": case.location_id, "emailed": sent},
            )
        count += 1
    return count
