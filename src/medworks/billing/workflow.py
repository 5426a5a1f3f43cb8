"""The quote lifecycle, declared on core's machine (see core/README.md and documents/workflow.py).

    (born) awaiting_confirmation --confirm / confirm_for_insurer--> confirmed
                                 --dispute---------------------> disputed
    awaiting_confirmation | confirmed | disputed --supersede--> superseded

A quote is born `awaiting_confirmation` (the model's default: it is sent to the insurer) by
`billing.quotes.quote_prepare`, which writes the `quote_prepared` event. The insurer (its user,
its API key, or its contact through a signed email link) confirms or disputes it; staff may
record either for the insurer, saying how the insurer answered. Confirming has two steps on
the table because the note is required of staff only and the machine's `needs_note` is per
step: `confirm` (the insurer's own, no note) and `confirm_for_insurer` (staff, note required).
Both lead to `confirmed` and write one `quote_confirmed` event.

A new version, or the case cancelled, supersedes the standing quote (staff or the system).
Every move goes through `QUOTE_WORKFLOW.fire()`, which locks the case first (the one lock
order: the case, then its parts), then the quote. Confirming records who, when and which amount
on the quote (`confirmed_by`, `confirmed_by_party`, `confirmed_by_detail`, `confirmed_at`,
`confirmed_total`) and in the event's payload.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingEvent
from medworks.bookings.workflow import party_of as case_party_of
from medworks.core.actor import Actor, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import Quote, QuoteStatus

Q = QuoteStatus
_INSURER_SIDE = frozenset({Party.INSURER, Party.SIGNED_LINK})
_ANSWERING = frozenset({Party.INSURER, Party.SIGNED_LINK, Party.STAFF})
_STAFF_OR_SYSTEM = frozenset({Party.STAFF, Party.SYSTEM})
_AWAITING = frozenset({Q.AWAITING_CONFIRMATION})

QUOTE_TRANSITIONS = [
    Transition("confirm", gettext_lazy("Confirm the quote"), _AWAITING, Q.CONFIRMED, _INSURER_SIDE),
    Transition(
        "confirm_for_insurer",
        gettext_lazy("Record the insurer's confirmation"),
        _AWAITING,
        Q.CONFIRMED,
        frozenset({Party.STAFF}),
        needs_note=True,
        button=False,
    ),
    Transition(
        "dispute",
        gettext_lazy("Dispute the quote"),
        _AWAITING,
        Q.DISPUTED,
        _ANSWERING,
        needs_note=True,
        button=False,
    ),
    Transition(
        "supersede",
        gettext_lazy("Supersede the quote"),
        frozenset({Q.AWAITING_CONFIRMATION, Q.CONFIRMED, Q.DISPUTED}),
        Q.SUPERSEDED,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
]
# The case timeline's kind for each move (billing/events.py declares them).
EVENT_OF = {
    "confirm": "quote_confirmed",
    "confirm_for_insurer": "quote_confirmed",
    "dispute": "quote_disputed",
    "supersede": "quote_superseded",
}
CONFIRMING = frozenset({"confirm", "confirm_for_insurer"})


def quote_party_of(actor: Actor, quote: Quote) -> Party | None:
    """A quote's parties are its case's (bookings.workflow.party_of)."""
    return case_party_of(actor, quote.case)


def quote_event_write(
    *,
    quote: Quote,
    kind: str,
    actor: Actor,
    party: Party | None = None,
    previous: str = "",
    note: str = "",
    extra: dict | None = None,
) -> None:
    """The quote's event on the case timeline and in the audit trail (which API key, if any)."""
    payload = {
        "quote_id": quote.pk,
        "version": quote.version,
        "from": previous,
        "to": quote.status,
        "total": f"{quote.total:.2f}",
        "location_id": quote.location_id,
        **(extra or {}),
    }
    if party is not None:
        payload["party"] = party.value
    if actor.api_key is not None:
        payload["api_key"] = actor.api_key.prefix
    BookingEvent.objects.record(
        request=quote.case, actor=actor, kind=kind, note=note, payload=payload
    )
    audit_record(
        actor=actor,
        action=kind.replace("quote_", "quote."),
        obj=quote,
        summary=f"Quote v{quote.version} {previous + ' -> ' if previous else ''}{quote.status}",
        payload=payload,
    )


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    extra = dict(payload)
    if transition.name in CONFIRMING:
        # Who confirmed, when and which amount: on the quote and in the event.
        record.confirmed_by = actor.user
        record.confirmed_by_party = party.value
        record.confirmed_by_detail = actor.detail[:64]
        record.confirmed_at = record.status_changed_at
        record.confirmed_total = record.total
        record.save(
            update_fields=[
                "confirmed_by",
                "confirmed_by_party",
                "confirmed_by_detail",
                "confirmed_at",
                "confirmed_total",
            ]
        )
        extra.update(
            confirmed_total=f"{record.total:.2f}",
            confirmed_at=record.confirmed_at.isoformat(),
            confirmed_by=actor.user.pk if actor.user is not None else None,
        )
    quote_event_write(
        quote=record,
        kind=EVENT_OF[transition.name],
        actor=actor,
        party=party,
        previous=previous,
        note=note,
        extra=extra,
    )


_ILLEGAL = {
    "confirm": gettext_lazy("Quote version %(version)s cannot be confirmed: it is %(state)s."),
    "confirm_for_insurer": gettext_lazy(
        "Quote version %(version)s cannot be confirmed: it is %(state)s."
    ),
    "dispute": gettext_lazy("Quote version %(version)s cannot be disputed: it is %(state)s."),
    "supersede": gettext_lazy("Quote version %(version)s cannot be superseded: it is %(state)s."),
}


def _illegal(quote: Quote, spec: Transition) -> str:
    return str(_ILLEGAL[spec.name]) % {
        "version": quote.version,
        "state": quote.get_status_display().lower(),
    }


QUOTE_WORKFLOW = Workflow(
    name="quote",
    noun=gettext_lazy("quote"),
    model=Quote,
    transitions=QUOTE_TRANSITIONS,
    party_of=quote_party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    illegal_code="quote_status_illegal",
    lock_first=lambda quote: lock_case(quote.case_id),
    select_related=("case__location__partner",),
)
