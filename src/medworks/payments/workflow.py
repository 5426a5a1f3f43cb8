"""The payment request's lifecycle (SOP case 4 steps 1-3), declared on core's machine; a card
charge's, below.

    (born) draft --submit (booking team)--> awaiting_review --review (Chief of Staff)-->
           awaiting_approval --approve (CEO)--> approved --pay (booking team)--> paid
    awaiting_review | awaiting_approval --reject (reviewer or approver, a reason)--> rejected
    awaiting_approval | approved --reset (amount, payee or cases changed)--> awaiting_review
    draft | awaiting_review | awaiting_approval | approved --cancel (a reason)--> cancelled

Segregation of duties (RULES.md): the preparer reviews and approves nothing of their own; the
reviewer and the approver are two different people. Each step's capability and these rules
are guards, so a page lists a step with the reason it is refused, and the door refuses it
whatever calls it. The machine's party is staff for anyone holding a payment capability (and
the system); the capability decides the rest.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.permissions import Capability, actor_can, capability_guard
from medworks.bookings.models import BookingEvent
from medworks.bookings.timeline import record_step_on_cases
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import CardCharge, ChargeStatus, PaymentRequest, PaymentRequestStatus

S = PaymentRequestStatus
_STAFF = frozenset({Party.STAFF})
_STAFF_OR_SYSTEM = frozenset({Party.STAFF, Party.SYSTEM})
_PAYMENT_CAPABILITIES = (
    Capability.PAYMENT_PREPARE,
    Capability.PAYMENT_REVIEW,
    Capability.PAYMENT_APPROVE,
    Capability.INVOICING,  # finance sends the EFT files that pay approved requests
)


_needs = capability_guard


def _is(user, other_id) -> bool:
    return user is not None and other_id is not None and user.pk == other_id


def _not_the_preparer(request: PaymentRequest, actor: Actor) -> str | None:
    if _is(actor.user, request.prepared_by_id):
        return _("you prepared this request: someone else reviews and approves it.")
    return None


def _not_the_reviewer(request: PaymentRequest, actor: Actor) -> str | None:
    if _is(actor.user, request.reviewed_by_id):
        return _("you reviewed this request: another person approves it.")
    return None


def _has_lines(request: PaymentRequest, actor: Actor) -> str | None:
    return None if request.lines.exists() else _("the request has no case.")


_prepares = _needs(
    Capability.PAYMENT_PREPARE, gettext_lazy("only the booking team prepares a pre-payment.")
)
_reviews = _needs(
    Capability.PAYMENT_REVIEW, gettext_lazy("only the Chief of Staff reviews a pre-payment.")
)
_approves = _needs(Capability.PAYMENT_APPROVE, gettext_lazy("only the CEO approves a pre-payment."))


def _records_payment(request: PaymentRequest, actor: Actor) -> str | None:
    """The booking team records the payment made on the call; finance, an EFT file it sent."""
    if actor.kind == ActorKind.SYSTEM:
        return None
    if actor_can(actor, Capability.PAYMENT_PREPARE) or actor_can(actor, Capability.INVOICING):
        return None
    return _("only the booking team, or finance for an EFT file, records the payment.")


def _reviews_or_approves(request: PaymentRequest, actor: Actor) -> str | None:
    capability = (
        Capability.PAYMENT_REVIEW
        if request.status == S.AWAITING_REVIEW
        else Capability.PAYMENT_APPROVE
    )
    if actor_can(actor, capability):
        return None
    return _("only the person whose approval it waits for rejects it.")


PAYMENT_REQUEST_TRANSITIONS = [
    Transition(
        "submit",
        gettext_lazy("Send to the Chief of Staff"),
        frozenset({S.DRAFT}),
        S.AWAITING_REVIEW,
        _STAFF,
        guards=(_prepares, _has_lines),
    ),
    Transition(
        "review",
        gettext_lazy("Reviewed: send to the CEO"),
        frozenset({S.AWAITING_REVIEW}),
        S.AWAITING_APPROVAL,
        _STAFF,
        guards=(_reviews, _not_the_preparer),
        phrase=gettext_lazy("review the request"),
    ),
    Transition(
        "approve",
        gettext_lazy("Approve the pre-payment"),
        frozenset({S.AWAITING_APPROVAL}),
        S.APPROVED,
        _STAFF,
        guards=(_approves, _not_the_preparer, _not_the_reviewer),
    ),
    Transition(
        "reject",
        gettext_lazy("Reject the request"),
        frozenset({S.AWAITING_REVIEW, S.AWAITING_APPROVAL}),
        S.REJECTED,
        _STAFF,
        needs_note=True,
        button=False,
        guards=(_reviews_or_approves, _not_the_preparer),
    ),
    Transition(
        "reset",
        gettext_lazy("Reset the approvals"),
        frozenset({S.AWAITING_APPROVAL, S.APPROVED}),
        S.AWAITING_REVIEW,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
    Transition(
        "pay",
        gettext_lazy("Record the payment made"),
        frozenset({S.APPROVED}),
        S.PAID,
        _STAFF_OR_SYSTEM,
        button=False,
        guards=(_records_payment,),
    ),
    Transition(
        "cancel",
        gettext_lazy("Cancel the request"),
        frozenset({S.DRAFT, S.AWAITING_REVIEW, S.AWAITING_APPROVAL, S.APPROVED}),
        S.CANCELLED,
        _STAFF,
        needs_note=True,
        button=False,
        guards=(_prepares,),
    ),
]


def payment_request_party_of(actor: Actor, request: PaymentRequest) -> Party | None:
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor.kind != ActorKind.USER:
        return None  # no API key, no signed link takes a step on a pre-payment
    if any(actor_can(actor, capability) for capability in _PAYMENT_CAPABILITIES):
        return Party.STAFF
    return None


def payment_request_event_write(
    *,
    request: PaymentRequest,
    kind: str,
    actor: Actor,
    previous: str = "",
    note: str = "",
    extra: dict | None = None,
) -> None:
    """One event on the timeline of each case in the request (staff only) and the audit row."""
    payload = {
        "payment_request": request.display_number,
        "from": previous,
        "to": request.status,
        "clinic_cost": f"{request.clinic_cost:.2f}",
        "method": request.method,
        **(extra or {}),
    }
    record_step_on_cases(
        obj=request,
        case_ids=request.lines.values_list("case_id", flat=True),
        kind=kind,
        action=kind.replace("payment_request_", "payment_request."),
        actor=actor,
        payload=payload,
        previous=previous,
        note=note,
    )


EVENT_OF = {
    "submit": "payment_request_submitted",
    "review": "payment_request_reviewed",
    "approve": "payment_request_approved",
    "reject": "payment_request_rejected",
    "reset": "payment_request_reset",
    "pay": "payment_request_paid",
    "cancel": "payment_request_cancelled",
}


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    payment_request_event_write(
        request=record,
        kind=EVENT_OF[transition.name],
        actor=actor,
        previous=previous,
        note=note,
        extra={"party": party.value, **payload},
    )


def _illegal(request: PaymentRequest, spec: Transition) -> str:
    return _("Cannot %(step)s: %(number)s is %(state)s.") % {
        "step": spec.step,
        "number": request.display_number,
        "state": request.get_status_display().lower(),
    }


PAYMENT_REQUEST_WORKFLOW = Workflow(
    name="payment_request",
    noun=gettext_lazy("payment request"),
    model=PaymentRequest,
    transitions=PAYMENT_REQUEST_TRANSITIONS,
    party_of=payment_request_party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    illegal_code="payment_request_status_illegal",
    select_related=("provider",),
)


# --- A charge of the insurer's card ------------------------------------------------------------
#
#     (born) pending --succeed--> succeeded
#            pending --decline--> declined
#
# Born `pending` by payments.charges.card_charge just before the processor is asked; its
# answer settles it, once (`settled_at` is the step's time). Finance (INVOICING) or the system.

C = ChargeStatus
_CHARGE_EVENTS = {
    "succeed": ("card_charged", "card.charged", "charged"),
    "decline": ("card_declined", "card.charge_declined", "declined for"),
}

CARD_CHARGE_TRANSITIONS = [
    Transition(
        "succeed",
        gettext_lazy("Record the charge"),
        frozenset({C.PENDING}),
        C.SUCCEEDED,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
    Transition(
        "decline",
        gettext_lazy("Record the decline"),
        frozenset({C.PENDING}),
        C.DECLINED,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
]


def card_charge_party_of(actor: Actor, charge: CardCharge) -> Party | None:
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    return Party.STAFF if actor_can(actor, Capability.INVOICING) else None


def _card_charge_event(*, record, transition, actor, party, previous, note, payload) -> None:
    kind, action, verb = _CHARGE_EVENTS[transition.name]
    BookingEvent.objects.record(request=record.case, actor=actor, kind=kind, payload=payload)
    audit_record(
        actor=actor,
        action=action,
        obj=record,
        summary=f"{record.card.masked} {verb} {record.amount:.2f}",
        payload={
            **payload,
            "reference": record.gateway_reference,
            "reason": record.decline_reason,
        },
    )


CARD_CHARGE_WORKFLOW = Workflow(
    name="card_charge",
    noun=gettext_lazy("card charge"),
    model=CardCharge,
    transitions=CARD_CHARGE_TRANSITIONS,
    party_of=card_charge_party_of,
    write_event=_card_charge_event,
    illegal_code="card_charge_settled",
    changed_at_field="settled_at",
    select_related=("card", "case"),
)
