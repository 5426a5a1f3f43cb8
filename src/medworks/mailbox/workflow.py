"""The inbound email's lifecycle, declared on core's machine (see core/README.md).

    (stored) new --create_case--> case_created      (the fetch: a request it made a case of)
             new --file---------> filed             (the fetch: a reply, on its case)
             new --wait_for_agent--> needs_agent    (the fetch: anything less)
             new --set_aside----> dismissed         (the fetch: the desk's own mail)
    needs_agent --make_case--> case_created         (an agent, from the intake page)
    needs_agent --dismiss----> dismissed            (an agent, from the inbox)

A row is born `new` (the model's default) inside the fetch's transaction and leaves it in the
same transaction, by the system (services._settle). An agent's decision leaves `needs_agent`:
`MAILBOX_WORKFLOW.fire()` locks the row and checks it still waits, so two agents cannot both
make its case (or one make it while another dismisses it): the second is refused with
"inbound_not_waiting". What a step records beside the state (the case, the reasons, who
decided and when) is written by services.py in the same transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import InboundEmail, InboundStatus

S = InboundStatus
_NEW = frozenset({S.NEW})
_WAITING = frozenset({S.NEEDS_AGENT})
_SYSTEM = frozenset({Party.SYSTEM})
_STAFF = frozenset({Party.STAFF})

# The fetch's steps, each named in the table by the state it leads to (never a button).
SETTLE_TRANSITIONS = [
    Transition("create_case", S.CASE_CREATED.label, _NEW, S.CASE_CREATED, _SYSTEM, button=False),
    Transition("file", S.FILED.label, _NEW, S.FILED, _SYSTEM, button=False),
    Transition("wait_for_agent", S.NEEDS_AGENT.label, _NEW, S.NEEDS_AGENT, _SYSTEM, button=False),
    Transition("set_aside", S.DISMISSED.label, _NEW, S.DISMISSED, _SYSTEM, button=False),
]
# The step the fetch takes to settle a row in each state.
SETTLE_STEP: dict[str, str] = {t.target: t.name for t in SETTLE_TRANSITIONS}

MAILBOX_TRANSITIONS = [
    *SETTLE_TRANSITIONS,
    Transition(
        "make_case",
        gettext_lazy("Create the case"),
        _WAITING,
        S.CASE_CREATED,
        _STAFF,
        button=False,
    ),
    Transition("dismiss", gettext_lazy("Dismiss"), _WAITING, S.DISMISSED, _STAFF, button=False),
]


def party_of(actor: Actor, inbound: InboundEmail) -> Party | None:
    """The fetch acts as the system; the booking team (BOOKING_WORK, as on the inbox and the
    intake page) as staff; anyone else has no business with the inbox."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor_can(actor, Capability.BOOKING_WORK):
        return Party.STAFF
    return None


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    """The audit row of a step: an agent's dismissal (a case made is told by the case's own
    events, and the fetch's steps by the row itself)."""
    if transition.name == "dismiss":
        audit_record(
            actor=actor,
            action="inbound_email.dismissed",
            obj=record,
            summary=f"inbound email {record.pk} dismissed",
        )


def _illegal(inbound: InboundEmail, spec: Transition) -> str:
    return _("This email is no longer waiting: someone has handled it.")


def _forbidden(spec: Transition) -> str:
    # Core's sentence, the record named by the word the pages already use.
    return _("You may not %(step)s on this %(record)s.") % {
        "step": spec.step,
        "record": _("Email").lower(),
    }


MAILBOX_WORKFLOW = Workflow(
    name="inbound_email",
    noun=gettext_lazy("Email"),
    model=InboundEmail,
    transitions=MAILBOX_TRANSITIONS,
    party_of=party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    forbidden_message=_forbidden,
    illegal_code="inbound_not_waiting",
    changed_at_field=None,  # the row has no such field: when it came is `received_at`
)
