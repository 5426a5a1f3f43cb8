"""The booking workflow: SOP case 1 (and the door to case 2), declared on core's machine.

    received -> sourcing -> awaiting_availability -> dates_offered -> booked -> completed
                   |  ^                 ^                  |   (declined: back to sourcing)
                   v  |                 |                  v
               escalated ---------------+      ready_for_billing -> closed
    any open state -> cancelled;  booked -> no_show;  booked | no_show -> awaiting_availability

`transition()` is the one door (core.workflow.Workflow.fire): it locks the case row, checks the
move is legal from the current state, that the actor's party may take it and every guard, sets
the status and writes the BookingEvent, all in the caller's transaction. Side effects
(appointments, emails) belong to the use cases in services.py, which call it.

Guards of higher apps are registered on BOOKING_WORKFLOW from their AppConfig.ready():
documents adds "billing waits for the signed paperwork" to mark_ready_for_billing.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.workflow import Move, Transition, Workflow

from .models import OPEN_STATUSES, BookingEvent, BookingRequest, BookingStatus

S = BookingStatus
__all__ = ["BOOKING_WORKFLOW", "TRANSITIONS", "Party", "available_transitions", "transition"]


def _has_location(case: BookingRequest, actor: Actor) -> str | None:
    return None if case.location_id else _("Choose a clinic first.")


_STAFF = frozenset({Party.STAFF})
_TABLE = [
    Transition("start_sourcing", _l("Start sourcing"), frozenset({S.RECEIVED}), S.SOURCING, _STAFF),
    Transition(
        "escalate",
        _l("Escalate to management"),
        frozenset({S.SOURCING}),
        S.ESCALATED,
        _STAFF,
        needs_note=True,
    ),
    Transition(
        "select_clinic",
        _l("Ask the clinic for dates"),
        frozenset({S.SOURCING, S.ESCALATED}),
        S.AWAITING_AVAILABILITY,
        _STAFF,
        guards=(_has_location,),
        button=False,
    ),
    Transition(
        "offer_dates",
        _l("Offer dates to the insurer"),
        frozenset({S.AWAITING_AVAILABILITY}),
        S.DATES_OFFERED,
        frozenset({Party.STAFF, Party.CLINIC}),
        guards=(_has_location,),
        button=False,
    ),
    Transition(
        "approve_date",
        _l("Approve a date"),
        frozenset({S.DATES_OFFERED}),
        S.BOOKED,
        frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
        button=False,
    ),
    Transition(
        "decline_dates",
        _l("Decline all dates"),
        frozenset({S.DATES_OFFERED}),
        S.SOURCING,
        frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
        needs_note=True,
        button=False,
    ),
    Transition(
        "complete",
        _l("Mark completed"),
        frozenset({S.BOOKED}),
        S.COMPLETED,
        frozenset({Party.STAFF, Party.CLINIC}),
    ),
    Transition(
        "no_show",
        _l("Mark no-show"),
        frozenset({S.BOOKED}),
        S.NO_SHOW,
        frozenset({Party.STAFF, Party.CLINIC}),
        needs_note=False,
    ),
    Transition(
        "reschedule",
        _l("Reschedule"),
        frozenset({S.BOOKED, S.NO_SHOW}),
        S.AWAITING_AVAILABILITY,
        _STAFF,
        needs_note=True,
    ),
    Transition(
        "mark_ready_for_billing",
        _l("Ready for billing"),
        frozenset({S.COMPLETED}),
        S.READY_FOR_BILLING,
        _STAFF,
    ),
    Transition("close", _l("Close"), frozenset({S.READY_FOR_BILLING}), S.CLOSED, _STAFF),
    Transition(
        "cancel",
        _l("Cancel"),
        frozenset(OPEN_STATUSES),
        S.CANCELLED,
        frozenset({Party.STAFF, Party.INSURER, Party.CLINIC}),
        needs_note=True,
        button=False,
    ),
]


def party_of(actor: Actor, case: BookingRequest) -> Party | None:
    """The party an actor acts as on this case, or None when it has no business with it."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
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


def _illegal(case: BookingRequest, spec: Transition) -> str:
    return _("Cannot %(step)s: the case is %(state)s.") % {
        "step": str(spec.label).lower(),
        "state": case.get_status_display().lower(),
    }


BOOKING_WORKFLOW = Workflow(
    name="booking",
    noun=_l("case"),
    model=BookingRequest,
    transitions=_TABLE,
    party_of=party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    select_related=("location__partner",),
)
TRANSITIONS: dict[str, Transition] = {t.name: t for t in BOOKING_WORKFLOW}


def moves(case: BookingRequest, actor: Actor) -> list[Move]:
    """The steps this actor's party may take from the case's state, each with why not now."""
    return BOOKING_WORKFLOW.moves(case, actor)


def available_transitions(case: BookingRequest, actor: Actor) -> list[Transition]:
    """The moves this actor may take on this case now (pages show only these)."""
    return BOOKING_WORKFLOW.allowed(case, actor)


def transition(
    *, case: BookingRequest, name: str, actor: Actor, note: str = "", payload: dict | None = None
) -> BookingRequest:
    """Take transition `name` on `case` as `actor`. Returns the locked, updated case. Raises
    DomainError naming the current state when the move is not legal now."""
    return BOOKING_WORKFLOW.fire(record=case, name=name, actor=actor, note=note, payload=payload)
