"""The booking workflow: SOP case 1 (and the door to case 2) as a table of transitions.

    received -> sourcing -> awaiting_availability -> dates_offered -> booked -> completed
                   |  ^                 ^                  |   (declined: back to sourcing)
                   v  |                 |                  v
               escalated ---------------+      ready_for_billing -> closed
    any open state -> cancelled;  booked -> no_show;  booked | no_show -> awaiting_availability

`transition()` is the one door: it locks the case row, checks the move is legal from the
current state, that this party may take it and its guard, sets the status and writes the
BookingEvent, all in the caller's transaction. Side effects (appointments, emails) belong to
the use cases in services.py, which call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from medworks.accounts.permissions import Capability, user_can
from medworks.core.errors import DomainError

from .models import OPEN_STATUSES, BookingEvent, BookingRequest, BookingStatus

S = BookingStatus


class Party(StrEnum):
    """Who acts. Staff act for MedWorks; insurer and clinic users only on their own cases."""

    STAFF = "staff"
    INSURER = "insurer"
    CLINIC = "clinic"
    SIGNED_LINK = "signed_link"  # the insurer contact, through a signed one-click email link


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    parties: frozenset[Party]
    needs_note: bool = False
    # Returns why the move is refused now, or None. Reads the case only.
    guard: Callable[[BookingRequest], str | None] | None = None
    # Shown as a button on the staff case page (others are taken through their own forms).
    button: bool = True


def _has_location(case: BookingRequest) -> str | None:
    return None if case.location_id else "Choose a clinic first."


def _paperwork_back(case: BookingRequest) -> str | None:
    """Billing waits for the clinic's signed forms when the insurer required paperwork."""
    if not case.paperwork_required:
        return None
    # Imported here: documents builds on bookings, so bookings never imports it at load time.
    from medworks.documents.selectors import paperwork_complete

    return None if paperwork_complete(case=case) else "the signed paperwork is not back yet."


_STAFF = frozenset({Party.STAFF})
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition("start_sourcing", "Start sourcing", frozenset({S.RECEIVED}), S.SOURCING, _STAFF),
        Transition(
            "escalate",
            "Escalate to management",
            frozenset({S.SOURCING}),
            S.ESCALATED,
            _STAFF,
            needs_note=True,
        ),
        Transition(
            "select_clinic",
            "Ask the clinic for dates",
            frozenset({S.SOURCING, S.ESCALATED}),
            S.AWAITING_AVAILABILITY,
            _STAFF,
            guard=_has_location,
            button=False,
        ),
        Transition(
            "offer_dates",
            "Offer dates to the insurer",
            frozenset({S.AWAITING_AVAILABILITY}),
            S.DATES_OFFERED,
            frozenset({Party.STAFF, Party.CLINIC}),
            guard=_has_location,
            button=False,
        ),
        Transition(
            "approve_date",
            "Approve a date",
            frozenset({S.DATES_OFFERED}),
            S.BOOKED,
            frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
            button=False,
        ),
        Transition(
            "decline_dates",
            "Decline all dates",
            frozenset({S.DATES_OFFERED}),
            S.SOURCING,
            frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF}),
            needs_note=True,
            button=False,
        ),
        Transition(
            "complete",
            "Mark completed",
            frozenset({S.BOOKED}),
            S.COMPLETED,
            frozenset({Party.STAFF, Party.CLINIC}),
        ),
        Transition(
            "no_show",
            "Mark no-show",
            frozenset({S.BOOKED}),
            S.NO_SHOW,
            frozenset({Party.STAFF, Party.CLINIC}),
            needs_note=False,
        ),
        Transition(
            "reschedule",
            "Reschedule",
            frozenset({S.BOOKED, S.NO_SHOW}),
            S.AWAITING_AVAILABILITY,
            _STAFF,
            needs_note=True,
        ),
        Transition(
            "mark_ready_for_billing",
            "Ready for billing",
            frozenset({S.COMPLETED}),
            S.READY_FOR_BILLING,
            _STAFF,
            guard=_paperwork_back,
        ),
        Transition("close", "Close", frozenset({S.READY_FOR_BILLING}), S.CLOSED, _STAFF),
        Transition(
            "cancel",
            "Cancel",
            frozenset(OPEN_STATUSES),
            S.CANCELLED,
            frozenset({Party.STAFF, Party.INSURER, Party.CLINIC}),
            needs_note=True,
            button=False,
        ),
    ]
}


def party_of(user, case: BookingRequest) -> Party | None:
    """The party a user acts as on this case, or None when they have no business with it."""
    if user_can(user, Capability.BOOKING_WORK):
        return Party.STAFF
    if user_can(user, Capability.BOOKING_SUBMIT) and case.insurer_id == user.organisation_id:
        return Party.INSURER
    if (
        user_can(user, Capability.CLINIC_AVAILABILITY)
        and case.location_id
        and case.location.partner.organisation_id == user.organisation_id
    ):
        return Party.CLINIC
    return None


def available_transitions(case: BookingRequest, user) -> list[Transition]:
    """The moves this user may take on this case now (templates show only these)."""
    party = party_of(user, case)
    if party is None:
        return []
    return [
        t
        for t in TRANSITIONS.values()
        if case.status in t.sources
        and party in t.parties
        and (t.guard is None or t.guard(case) is None)
    ]


def transition(
    *,
    case: BookingRequest,
    name: str,
    by,
    party: Party | None = None,
    note: str = "",
    payload: dict | None = None,
) -> BookingRequest:
    """Take transition `name` on `case`. Returns the locked, updated case.

    `by` is the acting user (None for a signed link, with party=SIGNED_LINK). Raises DomainError
    naming the current state when the move is not legal now.
    """
    spec = TRANSITIONS.get(name)
    if spec is None:
        raise DomainError("transition_unknown", f"There is no step called {name!r}.")
    with transaction.atomic():
        locked = (
            BookingRequest.objects.select_for_update(of=("self",))
            .select_related("location__partner")
            .get(pk=case.pk)
        )
        if party is None:
            party = party_of(by, locked) if by is not None else None
        if party is None or party not in spec.parties:
            raise DomainError(
                "transition_forbidden", f"You may not {spec.label.lower()} on this case."
            )
        if locked.status not in spec.sources:
            raise DomainError(
                "transition_illegal",
                f"Cannot {spec.label.lower()}: the case is {locked.get_status_display().lower()}.",
            )
        if spec.guard is not None and (reason := spec.guard(locked)):
            raise DomainError("transition_refused", f"Cannot {spec.label.lower()}: {reason}")
        note = (note or "").strip()
        if spec.needs_note and not note:
            raise DomainError(
                "note_required",
                f"Say why ({spec.label.lower()}).",
                fields={"note": ["Say why."]},
            )
        previous = locked.status
        locked.status = spec.target
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_changed_at", "updated_at"])
        BookingEvent.objects.create(
            request=locked,
            actor=by if getattr(by, "pk", None) else None,
            kind=spec.name,
            from_status=previous,
            to_status=spec.target,
            note=note,
            payload={"party": party.value, **(payload or {})},
        )
    case.status = locked.status
    case.status_changed_at = locked.status_changed_at
    return locked
