"""The one writer of a step taken on a record that concerns cases (an invoice, a provider's
invoice, a payment request: higher apps' records, on core's machine): the step's event on the
timeline of each case it concerns, and the record's audit row."""

from __future__ import annotations

from collections.abc import Iterable

from medworks.core.actor import Actor
from medworks.core.audit import audit_record

from .models import BookingEvent, BookingRequest


def record_step_on_cases(
    *,
    obj,
    case_ids: Iterable[int],
    kind: str,
    action: str,
    actor: Actor,
    payload: dict,
    previous: str = "",
    note: str = "",
    note_on_cases: bool = True,
) -> None:
    """The event `kind` (none when empty) on each case of `case_ids`, oldest case first, and
    one audit row `action` for `obj`: "<obj> <from> -> <to>", with the note in its payload.
    `note_on_cases`: whether the timelines carry the note too."""
    if kind:
        ids = sorted(set(case_ids))
        for case in BookingRequest.objects.filter(pk__in=ids).order_by("pk"):
            BookingEvent.objects.record(
                request=case,
                actor=actor,
                kind=kind,
                note=note if note_on_cases else "",
                payload=payload,
            )
    audit_record(
        actor=actor,
        action=action,
        obj=obj,
        summary=f"{obj} {previous + ' -> ' if previous else ''}{obj.status}",
        payload={**payload, "note": note} if note else payload,
    )
