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

The invoice lifecycle (INVOICE_WORKFLOW, below; billing/README.md draws it):

    (born) draft --issue--> issued --pay_part--> partly_paid --pay_full--> paid
           draft --discard--> voided            issued | overdue --pay_full--> paid
           issued | partly_paid --mark_overdue (system)--> overdue
           issued | overdue --void (a credit note for the whole amount, nothing paid)--> voided

A credit note is an Invoice of kind credit_note: draft --issue--> issued, and no other step.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingEvent
from medworks.bookings.timeline import record_step_on_cases
from medworks.bookings.workflow import party_of as case_party_of
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    PaymentAllocation,
    ProviderInvoice,
    ProviderInvoiceStatus,
    Quote,
    QuoteStatus,
)
from .payables import provider_invoice_paid
from .receivables import invoice_balance

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


# --- Invoices and credit notes ---------------------------------------------------------------

INV = InvoiceStatus
_FINANCE = frozenset({Party.STAFF})
_FINANCE_OR_SYSTEM = frozenset({Party.STAFF, Party.SYSTEM})


def _not_a_credit_note(invoice: Invoice, actor: Actor) -> str | None:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("a credit note is neither paid nor late.")
    return None


def _settled(invoice: Invoice, actor: Actor) -> str | None:
    balance = invoice_balance(invoice)
    if balance != 0:
        return _("%(balance)s is left to pay on it.") % {"balance": balance}
    return None


def _partly_settled(invoice: Invoice, actor: Actor) -> str | None:
    balance = invoice_balance(invoice)
    if balance <= 0 or balance >= invoice.total:
        return _("a part payment leaves part of the total to pay.")
    return None


def _something_owed(invoice: Invoice, actor: Actor) -> str | None:
    return None if invoice_balance(invoice) > 0 else _("nothing is left to pay on it.")


def _nothing_paid(invoice: Invoice, actor: Actor) -> str | None:
    if PaymentAllocation.objects.filter(invoice=invoice).exists():
        return _("part of it is paid: a paid invoice is not voided (refunds are not handled yet).")
    return None


INVOICE_TRANSITIONS = [
    Transition("issue", gettext_lazy("Issue"), frozenset({INV.DRAFT}), INV.ISSUED, _FINANCE),
    Transition(
        "discard",
        gettext_lazy("Discard the draft"),
        frozenset({INV.DRAFT}),
        INV.VOIDED,
        _FINANCE,
        needs_note=True,
        button=False,
    ),
    Transition(
        "pay_part",
        gettext_lazy("Record a part payment"),
        frozenset({INV.ISSUED}),
        INV.PARTLY_PAID,
        _FINANCE_OR_SYSTEM,
        guards=(_not_a_credit_note, _partly_settled),
        button=False,
    ),
    Transition(
        "pay_full",
        gettext_lazy("Record the payment in full"),
        frozenset({INV.ISSUED, INV.PARTLY_PAID, INV.OVERDUE}),
        INV.PAID,
        _FINANCE_OR_SYSTEM,
        guards=(_not_a_credit_note, _settled),
        button=False,
    ),
    Transition(
        "mark_overdue",
        gettext_lazy("Mark overdue"),
        frozenset({INV.ISSUED, INV.PARTLY_PAID}),
        INV.OVERDUE,
        frozenset({Party.SYSTEM}),
        guards=(_not_a_credit_note, _something_owed),
        button=False,
    ),
    Transition(
        "void",
        gettext_lazy("Void with a credit note"),
        frozenset({INV.ISSUED, INV.OVERDUE}),
        INV.VOIDED,
        _FINANCE,
        guards=(_not_a_credit_note, _nothing_paid),
        button=False,
    ),
]
# The case timeline's kind for each move of an issued document (billing/events.py declares
# them); a draft's steps are told in the audit trail only.
INVOICE_EVENT_OF = {
    "issue": "invoice_issued",
    "pay_part": "invoice_partly_paid",
    "pay_full": "invoice_paid",
    "mark_overdue": "invoice_overdue",
    "void": "invoice_voided",
}


def invoice_party_of(actor: Actor, invoice: Invoice) -> Party | None:
    """Finance (INVOICING) acts as staff, the scheduled work as the system; the invoice's
    insurer (a user or its key) may read it and takes no step; anyone else has no business."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor.kind == ActorKind.SIGNED_LINK:
        return None
    if actor_can(actor, Capability.INVOICING):
        return Party.STAFF
    if actor.principal.organisation_id == invoice.insurer_id and (
        actor_can(actor, Capability.INSURER_PORTAL) or actor_can(actor, Capability.BOOKING_SUBMIT)
    ):
        return Party.INSURER
    return None


def invoice_event_write(
    *,
    invoice: Invoice,
    kind: str,
    actor: Actor,
    action: str,
    previous: str = "",
    note: str = "",
    extra: dict | None = None,
) -> None:
    """The audit row of an invoice's step and, for an issued document (`kind`), one event on
    the timeline of each case it bills."""
    payload = {
        "invoice_id": invoice.pk,
        "number": invoice.display_number,
        "kind": invoice.kind,
        "from": previous,
        "to": invoice.status,
        "total": f"{invoice.total:.2f}",
        **(extra or {}),
    }
    record_step_on_cases(
        obj=invoice,
        case_ids=(
            InvoiceLine.objects.filter(invoice=invoice, case__isnull=False).values_list(
                "case_id", flat=True
            )
            if kind
            else ()
        ),
        kind=kind,
        action=action,
        actor=actor,
        payload=payload,
        previous=previous,
        note=note,
        note_on_cases=False,
    )


def _invoice_event(*, record, transition, actor, party, previous, note, payload) -> None:
    kind = INVOICE_EVENT_OF.get(transition.name, "")
    if record.kind == InvoiceKind.CREDIT_NOTE:
        kind = "credit_note_issued" if transition.name == "issue" else ""
    noun = "credit_note" if record.kind == InvoiceKind.CREDIT_NOTE else "invoice"
    action = {"issue": "issued", "discard": "discarded", "pay_part": "partly_paid"}.get(
        transition.name, record.status
    )
    invoice_event_write(
        invoice=record,
        kind=kind,
        actor=actor,
        action=f"{noun}.{action}",
        previous=previous,
        note=note,
        extra={"party": party.value, **payload},
    )


_INVOICE_ILLEGAL = {
    "issue": gettext_lazy("%(invoice)s cannot be issued: it is %(state)s."),
    "discard": gettext_lazy("%(invoice)s cannot be discarded: it is %(state)s, not a draft."),
    "pay_part": gettext_lazy("%(invoice)s cannot take a part payment: it is %(state)s."),
    "pay_full": gettext_lazy("%(invoice)s cannot be paid: it is %(state)s."),
    "mark_overdue": gettext_lazy("%(invoice)s cannot become overdue: it is %(state)s."),
    "void": gettext_lazy("%(invoice)s cannot be voided: it is %(state)s."),
}


def invoice_label(invoice: Invoice) -> str:
    """How a sentence names the invoice: "Invoice INV-2026-000001", "Credit note ...", or
    "Draft invoice 12" before it has a number."""
    if invoice.display_number:
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            return _("Credit note %(number)s") % {"number": invoice.display_number}
        return _("Invoice %(number)s") % {"number": invoice.display_number}
    return _("Draft invoice %(id)s") % {"id": invoice.pk}


def _invoice_illegal(invoice: Invoice, spec: Transition) -> str:
    return str(_INVOICE_ILLEGAL[spec.name]) % {
        "invoice": invoice_label(invoice),
        "state": invoice.get_status_display().lower(),
    }


INVOICE_WORKFLOW = Workflow(
    name="invoice",
    noun=gettext_lazy("invoice"),
    model=Invoice,
    transitions=INVOICE_TRANSITIONS,
    party_of=invoice_party_of,
    write_event=_invoice_event,
    illegal_message=_invoice_illegal,
    illegal_code="invoice_status_illegal",
    select_related=("insurer",),
)


# --- A provider's invoice ------------------------------------------------------------------
#
#     (born) received --approve--> approved --pay_part--> partly_paid --pay_full--> paid
#            received --reject (a reason)--> rejected     approved --pay_full--> paid
#
# Born `received` by billing.payables.provider_invoice_record (staff or the provider's clinic
# in its portal). Finance approves it (the payable is posted then) or rejects it; payments
# to the provider move it on. A rejected number may be recorded again, corrected.

PI = ProviderInvoiceStatus


def _provider_paid_part(invoice: ProviderInvoice, actor: Actor) -> str | None:
    return _("nothing is paid on it yet.") if provider_invoice_paid(invoice) <= 0 else None


def _provider_paid_full(invoice: ProviderInvoice, actor: Actor) -> str | None:
    if provider_invoice_paid(invoice) < invoice.total:
        return _("it is not paid in full.")
    return None


PROVIDER_INVOICE_TRANSITIONS = [
    Transition(
        "approve",
        gettext_lazy("Approve for payment"),
        frozenset({PI.RECEIVED}),
        PI.APPROVED,
        _FINANCE,
        button=False,
    ),
    Transition(
        "reject",
        gettext_lazy("Reject the invoice"),
        frozenset({PI.RECEIVED}),
        PI.REJECTED,
        _FINANCE,
        needs_note=True,
        button=False,
    ),
    Transition(
        "pay_part",
        gettext_lazy("Record a part payment"),
        frozenset({PI.APPROVED}),
        PI.PARTLY_PAID,
        _FINANCE_OR_SYSTEM,
        guards=(_provider_paid_part,),
        button=False,
    ),
    Transition(
        "pay_full",
        gettext_lazy("Record the payment in full"),
        frozenset({PI.APPROVED, PI.PARTLY_PAID}),
        PI.PAID,
        _FINANCE_OR_SYSTEM,
        guards=(_provider_paid_full,),
        button=False,
    ),
]
PROVIDER_INVOICE_EVENT_OF = {
    "approve": "provider_invoice_approved",
    "reject": "provider_invoice_rejected",
    "pay_part": "provider_invoice_partly_paid",
    "pay_full": "provider_invoice_paid",
}


def provider_invoice_party_of(actor: Actor, invoice: ProviderInvoice) -> Party | None:
    """Finance (INVOICING) acts as staff and the scheduled work as the system; the provider's
    clinic may read its own invoice and takes no step; anyone else has no business."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor.kind == ActorKind.SIGNED_LINK:
        return None
    if actor_can(actor, Capability.INVOICING):
        return Party.STAFF
    return None


def provider_invoice_event_write(
    *,
    invoice: ProviderInvoice,
    kind: str,
    actor: Actor,
    previous: str = "",
    note: str = "",
    extra: dict | None = None,
) -> None:
    """One event on the timeline of each case the provider's invoice bills (staff only) and
    the audit row."""
    payload = {
        "provider_invoice_id": invoice.pk,
        "number": invoice.number,
        "provider_id": invoice.provider_id,
        "from": previous,
        "to": invoice.status,
        "total": f"{invoice.total:.2f}",
        **(extra or {}),
    }
    record_step_on_cases(
        obj=invoice,
        case_ids=invoice.lines.values_list("case_id", flat=True),
        kind=kind,
        action=kind.replace("provider_invoice_", "provider_invoice."),
        actor=actor,
        payload=payload,
        previous=previous,
        note=note,
    )


def _provider_invoice_event(*, record, transition, actor, party, previous, note, payload):
    provider_invoice_event_write(
        invoice=record,
        kind=PROVIDER_INVOICE_EVENT_OF[transition.name],
        actor=actor,
        previous=previous,
        note=note,
        extra={"party": party.value, **payload},
    )


def _provider_invoice_illegal(invoice: ProviderInvoice, spec: Transition) -> str:
    return _("Cannot %(step)s: the provider's invoice %(number)s is %(state)s.") % {
        "step": spec.step,
        "number": invoice.number,
        "state": invoice.get_status_display().lower(),
    }


PROVIDER_INVOICE_WORKFLOW = Workflow(
    name="provider_invoice",
    noun=gettext_lazy("provider's invoice"),
    model=ProviderInvoice,
    transitions=PROVIDER_INVOICE_TRANSITIONS,
    party_of=provider_invoice_party_of,
    write_event=_provider_invoice_event,
    illegal_message=_provider_invoice_illegal,
    illegal_code="provider_invoice_status_illegal",
    select_related=("provider",),
)
