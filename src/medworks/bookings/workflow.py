"""The booking workflow: SOP case 1 (and the door to case 2), declared on core's machine.

    received -> sourcing -> awaiting_availability -> dates_offered -> booked -> completed
                   |  ^                 ^                  |   (declined: back to sourcing)
                   v  |                 |                  v
               escalated ---------------+      ready_for_billing -> closed
    any open state -> cancelled;  booked -> no_show;  booked | no_show -> awaiting_availability
    awaiting_availability -> sourcing (the clinic cannot offer dates: clinic_decline)

`transition()` is the one door (core.workflow.Workflow.fire): it locks the case row, checks the
move is legal from the current state, that the actor's party may take it and every guard, sets
the status and writes the BookingEvent, all in the caller's transaction. Side effects
(appointments, emails) belong to the use cases in services.py, which call it.

Guards of higher apps are registered on BOOKING_WORKFLOW from their AppConfig.ready():
documents adds "billing waits for the signed paperwork" to mark_ready_for_billing.

The clinic's side (SOP case 1): a clinic never cancels the insurer's order (only staff and the
insurer take "cancel"). While it is asked for dates it gives them ("offer_dates") or says it
cannot ("clinic_decline", with its reason: the case goes back to sourcing); staff may record
either for it after a phone call. For a booked appointment it may only *ask*: to reschedule, or
report that the appointment cannot take place. Those are requests, not moves (CLINIC_REQUESTS
below): the case stays booked, an event and an email tell the team, and the booking team
decides (reschedule or cancel). A clinic reaches a case as a signed-in user of the partner's
organisation, or through the signed link it was emailed (core.actor.Actor.for_clinic_link),
which acts as the clinic only for its one case, while that case waits for dates at the
location the link was sent to (`party_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.workflow import Move, Transition, Workflow

from .models import OPEN_STATUSES, BookingEvent, BookingRequest, BookingStatus

S = BookingStatus
__all__ = [
    "BOOKING_WORKFLOW",
    "CLINIC_REQUESTS",
    "TRANSITIONS",
    "Party",
    "available_transitions",
    "clinic_requests_available",
    "transition",
]


def _has_location(case: BookingRequest, actor: Actor) -> str | None:
    return None if case.location_id else _("Choose a clinic first.")


def _appointment_has_begun(case: BookingRequest, actor: Actor) -> str | None:
    """An appointment is attended, missed or billed only once its time has come."""
    from django.utils import timezone

    from .models import AppointmentStatus

    appointment = (
        case.appointments.exclude(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED]
        )
        .order_by("-starts_at")
        .only("starts_at")
        .first()
    )
    if appointment is None or appointment.starts_at <= timezone.now():
        return None
    return _("Not before the appointment time.")


# Each step named inside a sentence ("Cannot %(step)s: the case is booked.").
_STEP = {
    "start_sourcing": pgettext_lazy("booking step in a sentence", "start sourcing"),
    "escalate": pgettext_lazy("booking step in a sentence", "escalate to management"),
    "select_clinic": pgettext_lazy("booking step in a sentence", "ask the clinic for dates"),
    "offer_dates": pgettext_lazy("booking step in a sentence", "offer dates to the insurer"),
    "approve_date": pgettext_lazy("booking step in a sentence", "approve a date"),
    "decline_dates": pgettext_lazy("booking step in a sentence", "decline all dates"),
    "complete": pgettext_lazy("booking step in a sentence", "mark completed"),
    "no_show": pgettext_lazy("booking step in a sentence", "mark no-show"),
    "reschedule": pgettext_lazy("booking step in a sentence", "reschedule"),
    "mark_ready_for_billing": pgettext_lazy("booking step in a sentence", "ready for billing"),
    "close": pgettext_lazy("booking step in a sentence", "close"),
    "cancel": pgettext_lazy("booking step in a sentence", "cancel"),
    "clinic_decline": pgettext_lazy(
        "booking step in a sentence", "say the clinic cannot offer dates"
    ),
}
_STAFF = frozenset({Party.STAFF})
_TABLE = [
    Transition(
        "start_sourcing",
        gettext_lazy("Start sourcing"),
        frozenset({S.RECEIVED}),
        S.SOURCING,
        _STAFF,
        phrase=_STEP["start_sourcing"],
    ),
    Transition(
        "escalate",
        gettext_lazy("Escalate to management"),
        frozenset({S.SOURCING}),
        S.ESCALATED,
        # The desk itself escalates when matching finds no affiliate in the area.
        frozenset({Party.STAFF, Party.SYSTEM}),
        needs_note=True,
        phrase=_STEP["escalate"],
    ),
    Transition(
        "select_clinic",
        gettext_lazy("Ask the clinic for dates"),
        frozenset({S.SOURCING, S.ESCALATED}),
        S.AWAITING_AVAILABILITY,
        _STAFF,
        guards=(_has_location,),
        button=False,
        phrase=_STEP["select_clinic"],
    ),
    Transition(
        "offer_dates",
        gettext_lazy("Offer dates to the insurer"),
        frozenset({S.AWAITING_AVAILABILITY}),
        S.DATES_OFFERED,
        frozenset({Party.STAFF, Party.CLINIC}),
        guards=(_has_location,),
        button=False,
        phrase=_STEP["offer_dates"],
    ),
    Transition(
        "approve_date",
        gettext_lazy("Approve a date"),
        frozenset({S.DATES_OFFERED}),
        S.BOOKED,
        frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
        button=False,
        phrase=_STEP["approve_date"],
    ),
    Transition(
        "decline_dates",
        gettext_lazy("Decline all dates"),
        frozenset({S.DATES_OFFERED}),
        S.SOURCING,
        frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
        needs_note=True,
        button=False,
        phrase=_STEP["decline_dates"],
    ),
    Transition(
        # The clinic cannot offer dates (its reason required): back to sourcing, the clinic
        # noted as having declined (services.booking_request_clinic_decline). Staff record it
        # for a clinic that phoned or replied by email.
        "clinic_decline",
        gettext_lazy("The clinic cannot offer dates"),
        frozenset({S.AWAITING_AVAILABILITY}),
        S.SOURCING,
        frozenset({Party.CLINIC, Party.STAFF}),
        needs_note=True,
        guards=(_has_location,),
        button=False,
        phrase=_STEP["clinic_decline"],
    ),
    Transition(
        "complete",
        gettext_lazy("Mark completed"),
        frozenset({S.BOOKED}),
        S.COMPLETED,
        frozenset({Party.STAFF, Party.CLINIC}),
        guards=(_appointment_has_begun,),
        phrase=_STEP["complete"],
    ),
    Transition(
        "no_show",
        gettext_lazy("Mark no-show"),
        frozenset({S.BOOKED}),
        S.NO_SHOW,
        frozenset({Party.STAFF, Party.CLINIC}),
        needs_note=False,
        guards=(_appointment_has_begun,),
        phrase=_STEP["no_show"],
    ),
    Transition(
        "reschedule",
        gettext_lazy("Reschedule"),
        frozenset({S.BOOKED, S.NO_SHOW}),
        S.AWAITING_AVAILABILITY,
        _STAFF,
        needs_note=True,
        phrase=_STEP["reschedule"],
    ),
    Transition(
        "mark_ready_for_billing",
        gettext_lazy("Ready for billing"),
        frozenset({S.COMPLETED}),
        S.READY_FOR_BILLING,
        _STAFF,
        guards=(_appointment_has_begun,),
        phrase=_STEP["mark_ready_for_billing"],
    ),
    Transition(
        "close",
        gettext_lazy("Close"),
        frozenset({S.READY_FOR_BILLING}),
        S.CLOSED,
        _STAFF,
        phrase=_STEP["close"],
    ),
    Transition(
        "cancel",
        gettext_lazy("Cancel"),
        frozenset(OPEN_STATUSES),
        S.CANCELLED,
        # The insurer's order: the insurer or MedWorks stops it, never the clinic (it declines,
        # or asks MedWorks to reschedule or cancel: CLINIC_REQUESTS).
        frozenset({Party.STAFF, Party.INSURER}),
        needs_note=True,
        button=False,
        phrase=_STEP["cancel"],
    ),
]


def party_of(actor: Actor, case: BookingRequest) -> Party | None:
    """The party an actor acts as on this case, or None when it has no business with it."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor.is_clinic_link:
        # A clinic's link: its one case, while the case waits for dates at the location it was
        # sent to. Once another clinic is chosen, or dates are given, it acts on nothing.
        if (
            actor.case_id == case.pk
            and case.location_id is not None
            and case.location_id == actor.location_id
            and case.status == S.AWAITING_AVAILABILITY
        ):
            return Party.CLINIC
        return None
    if actor.kind == ActorKind.SIGNED_LINK:
        # A signed link is sent to the insurer's contact for one case's offer.
        return Party.SIGNED_LINK if actor.organisation_id == case.insurer_id else None
    if actor_can(actor, Capability.BOOKING_WORK):
        return Party.STAFF
    org = actor.principal.organisation_id
    if actor_can(actor, Capability.BOOKING_SUBMIT) and case.insurer_id == org:
        return Party.INSURER
    if (
        actor_can(actor, Capability.CLINIC_AVAILABILITY)
        and case.location_id
        and case.location.partner.organisation_id == org
    ):
        return Party.CLINIC
    return None


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    BookingEvent.objects.record(
        request=record,
        actor=actor,
        kind=transition.name,
        from_status=previous,
        to_status=transition.target,
        note=note,
        payload={"party": party.value, **payload},
    )


# Each state named inside a sentence ("... the case is %(state)s.").
_STATE = {
    S.RECEIVED: pgettext_lazy("the case is ...", "received"),
    S.SOURCING: pgettext_lazy("the case is ...", "sourcing"),
    S.ESCALATED: pgettext_lazy("the case is ...", "escalated"),
    S.AWAITING_AVAILABILITY: pgettext_lazy("the case is ...", "awaiting dates"),
    S.DATES_OFFERED: pgettext_lazy("the case is ...", "dates offered"),
    S.BOOKED: pgettext_lazy("the case is ...", "booked"),
    S.COMPLETED: pgettext_lazy("the case is ...", "completed"),
    S.READY_FOR_BILLING: pgettext_lazy("the case is ...", "ready for billing"),
    S.CLOSED: pgettext_lazy("the case is ...", "closed"),
    S.NO_SHOW: pgettext_lazy("the case is ...", "no-show"),
    S.CANCELLED: pgettext_lazy("the case is ...", "cancelled"),
}


def case_state_phrase(status: str) -> str:
    """A case's state inside a sentence ("the case is %(state)s"), in the active language."""
    phrase = _STATE.get(status)
    return str(phrase) if phrase is not None else str(status).replace("_", " ")


def _illegal(case: BookingRequest, spec: Transition) -> str:
    return _("Cannot %(step)s: the case is %(state)s.") % {
        "step": spec.step,
        "state": case_state_phrase(case.status),
    }


def _forbidden(spec: Transition) -> str:
    return _("You may not %(step)s on this case.") % {"step": spec.step}


BOOKING_WORKFLOW = Workflow(
    name="booking",
    noun=gettext_lazy("case"),
    model=BookingRequest,
    transitions=_TABLE,
    party_of=party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    forbidden_message=_forbidden,
    select_related=("location__partner",),
)
TRANSITIONS: dict[str, Transition] = {t.name: t for t in BOOKING_WORKFLOW}


def moves(case: BookingRequest, actor: Actor) -> list[Move]:
    """The steps this actor's party may take from the case's state, each with why not now."""
    return BOOKING_WORKFLOW.moves(case, actor)


def available_transitions(case: BookingRequest, actor: Actor) -> list[Transition]:
    """The moves this actor may take on this case now (pages show only these)."""
    return BOOKING_WORKFLOW.allowed(case, actor)


@dataclass(frozen=True)
class ClinicRequest:
    """Something a clinic asks of MedWorks about a booked appointment. Not a move: the case
    stays booked until staff decide (reschedule, or cancel); the request is a BookingEvent of
    `kind` (staff-visible only: the insurer hears of it when staff act) and an email to the
    case's owner and the team. It stands, shown on the case page and in the queue, while the
    case stays in the state it was made in (`selectors.clinic_request_pending`)."""

    kind: str  # the BookingEvent kind, declared in events.py
    label: Any  # the button ("Ask MedWorks to reschedule")
    sources: frozenset[str]
    parties: frozenset[Party]


CLINIC_REQUESTS: dict[str, ClinicRequest] = {
    r.kind: r
    for r in (
        ClinicRequest(
            "clinic_reschedule_request",
            gettext_lazy("Ask MedWorks to reschedule"),
            frozenset({S.BOOKED}),
            frozenset({Party.CLINIC}),
        ),
        ClinicRequest(
            "clinic_cannot_take_place",
            gettext_lazy("The appointment cannot take place"),
            frozenset({S.BOOKED}),
            frozenset({Party.CLINIC}),
        ),
    )
}


def clinic_requests_available(case: BookingRequest, actor: Actor) -> list[ClinicRequest]:
    """The requests this actor may make on this case now (the clinic page shows only these)."""
    party = party_of(actor, case)
    return [r for r in CLINIC_REQUESTS.values() if case.status in r.sources and party in r.parties]


def transition(
    *, case: BookingRequest, name: str, actor: Actor, note: str = "", payload: dict | None = None
) -> BookingRequest:
    """Take transition `name` on `case` as `actor`. Returns the locked, updated case. Raises
    DomainError naming the current state when the move is not legal now."""
    return BOOKING_WORKFLOW.fire(record=case, name=name, actor=actor, note=note, payload=payload)
