"""An order's reconciliation and a month's close, on core's machine.

    (born) open --flag (a check in discrepancy)--> discrepancy --clear--> open
           open | discrepancy --reconcile (the coordinator)--> reconciled
           reconciled --reopen (a reason; not in a closed month)--> open

    (born) open --close (finance)--> closed --reopen (finance, a reason)--> open

`flag` and `clear` follow the checks (the system's sweep or a person's "check again"); only the
coordinator reconciles, and a discrepancy is reconciled only with a note that accepts it
(services.reconciliation_reconcile): nothing is reconciled silently. A closed month locks its
reconciled orders: a correction needs finance to reopen the month first, audited.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.permissions import Capability, actor_can, capability_guard
from medworks.bookings.timeline import record_step_on_cases
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import (
    CheckName,
    MonthStatus,
    Reconciliation,
    ReconciliationMonth,
    ReconciliationStatus,
)

S = ReconciliationStatus
_STAFF = frozenset({Party.STAFF})
_STAFF_OR_SYSTEM = frozenset({Party.STAFF, Party.SYSTEM})


_needs = capability_guard


def _nothing_missing(record: Reconciliation, actor: Actor) -> str | None:
    missing = [name for name, state in record.checks() if state == "missing"]
    if missing:
        return _("still missing: %(checks)s.") % {
            "checks": ", ".join(str(CheckName(name).label).lower() for name in missing)
        }
    return None


def _month_open(record: Reconciliation, actor: Actor) -> str | None:
    if ReconciliationMonth.objects.filter(month=record.month, status=MonthStatus.CLOSED).exists():
        return _("%(month)s is closed: finance reopens the month first.") % {
            "month": f"{record.month:%Y-%m}"
        }
    return None


_reconciles = _needs(Capability.RECONCILE, gettext_lazy("only the booking coordinator reconciles."))


def _reconciles_or_closes(record, actor: Actor) -> str | None:
    if actor_can(actor, Capability.RECONCILE) or actor_can(actor, Capability.MONTH_CLOSE):
        return None
    return _("only the booking coordinator or finance reopens a reconciliation.")


RECONCILIATION_TRANSITIONS = [
    Transition(
        "flag",
        gettext_lazy("Flag a discrepancy"),
        frozenset({S.OPEN}),
        S.DISCREPANCY,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
    Transition(
        "clear",
        gettext_lazy("Clear the discrepancy"),
        frozenset({S.DISCREPANCY}),
        S.OPEN,
        _STAFF_OR_SYSTEM,
        button=False,
    ),
    Transition(
        "reconcile",
        gettext_lazy("Reconcile"),
        frozenset({S.OPEN, S.DISCREPANCY}),
        S.RECONCILED,
        _STAFF,
        guards=(_reconciles, _nothing_missing),
        button=False,
    ),
    Transition(
        "reopen",
        gettext_lazy("Reopen for a correction"),
        frozenset({S.RECONCILED}),
        S.OPEN,
        _STAFF,
        needs_note=True,
        guards=(_reconciles_or_closes, _month_open),
        button=False,
    ),
]

_EVENT_OF = {
    "flag": ("reconciliation_flagged", "reconciliation.flagged"),
    "clear": ("reconciliation_cleared", "reconciliation.cleared"),
    "reconcile": ("reconciled", "reconciliation.reconciled"),
    "reopen": ("reconciliation_reopened", "reconciliation.reopened"),
}


def _party_of(actor: Actor, record) -> Party | None:
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor.kind != ActorKind.USER:
        return None
    capabilities = (Capability.RECONCILIATION_VIEW, Capability.RECONCILE, Capability.MONTH_CLOSE)
    if any(actor_can(actor, c) for c in capabilities):
        return Party.STAFF
    return None


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    kind, action = _EVENT_OF[transition.name]
    record_step_on_cases(
        obj=record,
        case_ids=[record.case_id],
        kind=kind,
        action=action,
        actor=actor,
        payload={"from": previous, "to": record.status, "party": party.value, **payload},
        previous=previous,
        note=note,
    )


def _illegal(record: Reconciliation, spec: Transition) -> str:
    return _("Cannot %(step)s: the order %(order)s is %(state)s.") % {
        "step": spec.step,
        "order": record.case.order_id,
        "state": record.get_status_display().lower(),
    }


RECONCILIATION_WORKFLOW = Workflow(
    name="reconciliation",
    noun=gettext_lazy("reconciliation"),
    model=Reconciliation,
    transitions=RECONCILIATION_TRANSITIONS,
    party_of=_party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    illegal_code="reconciliation_status_illegal",
    select_related=("case",),
)


# --- A month ---------------------------------------------------------------------------------

M = MonthStatus
_closes = _needs(Capability.MONTH_CLOSE, gettext_lazy("only finance closes and reopens a month."))

MONTH_TRANSITIONS = [
    Transition(
        "close",
        gettext_lazy("Close the month"),
        frozenset({M.OPEN}),
        M.CLOSED,
        _STAFF,
        guards=(_closes,),
        button=False,
    ),
    Transition(
        "reopen",
        gettext_lazy("Reopen the month"),
        frozenset({M.CLOSED}),
        M.OPEN,
        _STAFF,
        needs_note=True,
        guards=(_closes,),
        button=False,
    ),
]


def _month_party_of(actor: Actor, record) -> Party | None:
    if actor.kind == ActorKind.USER and actor_can(actor, Capability.RECONCILIATION_VIEW):
        return Party.STAFF
    return None


def _month_event(*, record, transition, actor, party, previous, note, payload) -> None:
    audit_record(
        actor=actor,
        action=f"reconciliation_month.{transition.name}",
        obj=record,
        summary=f"{record.month:%Y-%m} {previous} -> {record.status}",
        payload={"from": previous, "to": record.status, "note": note, **payload},
    )


def _month_illegal(record: ReconciliationMonth, spec: Transition) -> str:
    return _("Cannot %(step)s: %(month)s is %(state)s.") % {
        "step": spec.step,
        "month": f"{record.month:%Y-%m}",
        "state": record.get_status_display().lower(),
    }


MONTH_WORKFLOW = Workflow(
    name="reconciliation_month",
    noun=gettext_lazy("month"),
    model=ReconciliationMonth,
    transitions=MONTH_TRANSITIONS,
    party_of=_month_party_of,
    write_event=_month_event,
    illegal_message=_month_illegal,
    illegal_code="month_status_illegal",
)
