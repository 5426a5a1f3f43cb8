"""The GOP lifecycle, declared on core's machine: the worked example of core/README.md.

    (created) requested --issue--> issued --acknowledge--> acknowledged
                                     |  \\                     |
                                     |   +--render / expire ---+--> service_rendered | expired
      requested | issued | acknowledged --cancel--> cancelled
      issued | acknowledged | service_rendered | expired --supersede--> amended

A GOP is born `requested` (the model's default): MedWorks asks for one (`gop_request`), or
the insurer issues one at once (`gop_issue` creates it and takes `issue` in one transaction).
An amendment supersedes the standing version (`supersede`) and a new version is born and
issued (`issue_amendment`). Every other state is reached only through `GOP_WORKFLOW.fire()`,
which locks the case first (the one lock order), then the GOP.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingEvent
from medworks.bookings.workflow import party_of as case_party_of
from medworks.core.actor import Actor, Party
from medworks.core.audit import audit_record
from medworks.core.workflow import Transition, Workflow

from .models import Gop, GopStatus

G = GopStatus
_STAFF = frozenset({Party.STAFF})
_INSURER_OR_STAFF = frozenset({Party.STAFF, Party.INSURER})
_IN_FORCE = frozenset({G.ISSUED, G.ACKNOWLEDGED})

GOP_TRANSITIONS = [
    Transition(
        "issue",
        gettext_lazy("Issue"),
        frozenset({G.REQUESTED}),
        G.ISSUED,
        _INSURER_OR_STAFF,
        phrase=pgettext_lazy("GOP step in a sentence", "issue"),
    ),
    Transition(
        "issue_amendment",
        gettext_lazy("Issue an amended version"),
        frozenset({G.REQUESTED}),
        G.ISSUED,
        _INSURER_OR_STAFF,
        button=False,
        phrase=pgettext_lazy("GOP step in a sentence", "issue an amended version"),
    ),
    Transition(
        "acknowledge",
        gettext_lazy("Acknowledge"),
        frozenset({G.ISSUED}),
        G.ACKNOWLEDGED,
        frozenset({Party.CLINIC, Party.STAFF}),
        phrase=pgettext_lazy("GOP step in a sentence", "acknowledge"),
    ),
    # The steps staff record of what became of a GOP are named by the state they lead to.
    Transition(
        "render",
        pgettext_lazy("GOP status", "Service rendered"),
        _IN_FORCE,
        G.SERVICE_RENDERED,
        _STAFF,
        phrase=pgettext_lazy("GOP step in a sentence", "service rendered"),
    ),
    Transition(
        "expire",
        pgettext_lazy("GOP status", "Expired"),
        _IN_FORCE,
        G.EXPIRED,
        _STAFF,
        phrase=pgettext_lazy("GOP step in a sentence", "expired"),
    ),
    Transition(
        "cancel",
        pgettext_lazy("GOP status", "Cancelled"),
        frozenset({G.REQUESTED, *_IN_FORCE}),
        G.CANCELLED,
        _STAFF,
        phrase=pgettext_lazy("GOP step in a sentence", "cancelled"),
    ),
    Transition(
        "supersede",
        gettext_lazy("Amend"),
        frozenset({*_IN_FORCE, G.SERVICE_RENDERED, G.EXPIRED}),
        G.AMENDED,
        _INSURER_OR_STAFF,
        button=False,
        phrase=pgettext_lazy("GOP step in a sentence", "amend"),
    ),
]
# The case timeline's kind for each move (documents/events.py declares them).
EVENT_OF = {
    "issue": "gop_issued",
    "issue_amendment": "gop_amended",
    "acknowledge": "gop_acknowledged",
    "render": "gop_service_rendered",
    "expire": "gop_expired",
    "cancel": "gop_cancelled",
    "supersede": "gop_superseded",
}
# What staff record of a GOP from its panel: the step that leads to each of these states.
STATUS_STEPS = {G.SERVICE_RENDERED: "render", G.EXPIRED: "expire", G.CANCELLED: "cancel"}


def gop_party_of(actor: Actor, gop: Gop) -> Party | None:
    """A GOP's parties are its case's."""
    return case_party_of(actor, gop.request)


def gop_event_write(
    *, gop: Gop, kind: str, actor: Actor, previous: str = "", note: str = ""
) -> None:
    """The GOP's event on the case timeline and in the audit trail (which API key, if any)."""
    payload = {"gop_id": gop.pk, "version": gop.version, "from": previous, "to": gop.status}
    if actor.api_key is not None:
        payload["api_key"] = actor.api_key.prefix
    BookingEvent.objects.record(
        request=gop.request, actor=actor, kind=kind, note=note, payload=payload
    )
    audit_record(
        actor=actor,
        action=kind.replace("gop_", "gop."),
        obj=gop,
        summary=f"GOP v{gop.version} {previous + ' -> ' if previous else ''}{gop.status}",
        payload=payload,
    )


def _write_event(*, record, transition, actor, party, previous, note, payload) -> None:
    gop_event_write(
        gop=record, kind=EVENT_OF[transition.name], actor=actor, previous=previous, note=note
    )


# Each state named inside a sentence ("it is %(state)s", "make GOP version 2 %(target)s").
_STATE = {
    G.REQUESTED: pgettext_lazy("the GOP is ...", "requested"),
    G.ISSUED: pgettext_lazy("the GOP is ...", "issued"),
    G.ACKNOWLEDGED: pgettext_lazy("the GOP is ...", "acknowledged by the clinic"),
    G.SERVICE_RENDERED: pgettext_lazy("the GOP is ...", "service rendered"),
    G.AMENDED: pgettext_lazy("the GOP is ...", "amended"),
    G.EXPIRED: pgettext_lazy("the GOP is ...", "expired"),
    G.CANCELLED: pgettext_lazy("the GOP is ...", "cancelled"),
}


def gop_state_phrase(status: str) -> str:
    """A GOP's state inside a sentence ("it is %(state)s"), in the active language."""
    phrase = _STATE.get(status)
    return str(phrase) if phrase is not None else str(status).replace("_", " ")


def _illegal(gop: Gop, spec: Transition) -> str:
    state = gop_state_phrase(gop.status)
    if spec.name == "supersede":
        return _("Cannot amend GOP version %(version)s: it is %(state)s.") % {
            "version": gop.version,
            "state": state,
        }
    return _("Cannot make GOP version %(version)s %(target)s: it is %(state)s.") % {
        "version": gop.version,
        "target": gop_state_phrase(spec.target),
        "state": state,
    }


def _forbidden(spec: Transition) -> str:
    return _("You may not %(step)s on this GOP.") % {"step": spec.step}


GOP_WORKFLOW = Workflow(
    name="gop",
    noun=gettext_lazy("GOP"),
    model=Gop,
    transitions=GOP_TRANSITIONS,
    party_of=gop_party_of,
    write_event=_write_event,
    illegal_message=_illegal,
    forbidden_message=_forbidden,
    illegal_code="gop_status_illegal",
    lock_first=lambda gop: lock_case(gop.request_id),
    select_related=("request__location__partner",),
)
