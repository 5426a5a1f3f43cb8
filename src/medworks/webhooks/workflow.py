"""An endpoint's states, declared on core's machine (see core/README.md).

    active --pause--> paused            (staff, or the insurer's own portal users)
    paused --resume--> active
    active --disable--> disabled        (the system: attempts kept failing, or a 410 Gone)
    disabled --resume--> active         (someone fixed the receiver)

Only an active endpoint gets deliveries queued; a delivery whose endpoint is no longer active
when its attempt comes is given up (services.py). Each move writes an audit row.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.permissions import Capability, actor_can
from medworks.core.actor import Actor, ActorKind, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import EndpointStatus, WebhookEndpoint

S = EndpointStatus
_PEOPLE = frozenset({Party.STAFF, Party.INSURER})

ENDPOINT_TRANSITIONS = [
    Transition("pause", gettext_lazy("Pause"), frozenset({S.ACTIVE}), S.PAUSED, _PEOPLE),
    Transition(
        "resume", gettext_lazy("Resume"), frozenset({S.PAUSED, S.DISABLED}), S.ACTIVE, _PEOPLE
    ),
    Transition(
        "disable",
        S.DISABLED.label,
        frozenset({S.ACTIVE}),
        S.DISABLED,
        frozenset({Party.SYSTEM}),
        button=False,
    ),
]


def party_of(actor: Actor, endpoint: WebhookEndpoint) -> Party | None:
    """Staff who manage API keys; the endpoint's own insurer (a portal user); the system."""
    if actor.kind == ActorKind.SYSTEM:
        return Party.SYSTEM
    if actor_can(actor, Capability.API_KEYS_MANAGE):
        return Party.STAFF
    if (
        actor_can(actor, Capability.INSURER_PORTAL)
        and actor.organisation_id_of_principal == endpoint.insurer_id
    ):
        return Party.INSURER
    return None


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    audit_record(
        actor=actor,
        action=f"webhook_endpoint.{transition.name}",
        obj=record,
        summary=f"webhook endpoint {record.pk}: {previous} -> {record.status}",
        payload={k: v for k, v in payload.items() if k in {"reason", "status_code"}},
    )


def _illegal(endpoint: WebhookEndpoint, spec: Transition) -> str:
    return _("Cannot %(step)s: the endpoint is %(state)s.") % {
        "step": spec.step,
        "state": endpoint.get_status_display().lower(),
    }


ENDPOINT_WORKFLOW = Workflow(
    name="webhook_endpoint",
    noun=gettext_lazy("endpoint"),
    model=WebhookEndpoint,
    transitions=ENDPOINT_TRANSITIONS,
    party_of=party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    illegal_code="webhook_endpoint_state",
)
