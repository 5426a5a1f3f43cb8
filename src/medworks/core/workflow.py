"""The one state machine every record with states is declared on.

A domain app declares a `Workflow`: its model, its transitions (name, label, from which states,
to which state, which parties may take it, whether a note is required, its guards), how a party
is derived from an actor on a record, and how an event row is written. `Workflow.fire()` is the
record's one door:

    the move exists -> its note holds no card number -> lock the row -> the actor's party may
    take it -> legal from the current state -> every guard passes (its own, then those other
    apps registered) -> a note if needed -> set the state -> write the event row
                                                        (all in the caller's transaction)

A refusal is a DomainError naming the current state. `moves(record, actor)` lists the steps the
actor's party may take from the current state, each with the reason it is refused now, if any;
pages and the API show only what it allows.

Guards receive the record and the actor: "the approver is not the preparer" is a guard. A higher
app adds a guard to a lower app's transition with `register_guard` from its AppConfig.ready(),
so the lower app never imports the higher one (documents: "billing waits for the signed
paperwork"; reconciliation, later: "closed only once reconciled"). Likewise `register_effect`
lets a higher app write its own rows when a move is taken, in the same transaction (billing: a
clinic chosen gets a quote).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .actor import Actor, Party
from .cards import refuse_card_numbers
from .errors import DomainError

# A guard reads the (locked) record and the actor; it returns why the move is refused now, or None.
Guard = Callable[[Any, Actor], "str | None"]
# An effect a higher app runs when a move is taken: in the same transaction, after the event row
# (billing: "a clinic chosen gets a quote"). It writes its own rows; it never changes the state.
Effect = Callable[..., None]


@dataclass(frozen=True)
class Transition:
    name: str
    label: Any  # a lazily translated label ("Mark completed")
    sources: frozenset[str]
    target: str
    parties: frozenset[Party]
    needs_note: bool = False
    guards: tuple[Guard, ...] = ()
    # Shown as a plain button on the record's staff page (others are taken through a form).
    button: bool = True
    # How the step is named inside a sentence ("Cannot %(step)s: ..."), lazily translated as a
    # phrase of its own ("mark completed"); None: the label in lower case.
    phrase: Any = None

    @property
    def step(self) -> str:
        """The step inside a sentence, in the active language."""
        return str(self.phrase) if self.phrase is not None else str(self.label).lower()


@dataclass(frozen=True)
class Move:
    """A step the actor's party may take from the record's current state, and whether it may
    take it now (`reason` says why not)."""

    transition: Transition
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def label(self):
        return self.transition.label


class EventWriter(Protocol):
    def __call__(
        self,
        *,
        record: Any,
        transition: Transition,
        actor: Actor,
        party: Party,
        previous: str,
        note: str,
        payload: dict,
    ) -> None: ...


@dataclass
class Workflow:
    """A record type's table of transitions on the one machine (see the module docstring)."""

    name: str  # "booking", "gop": names the workflow in errors and docs
    noun: Any  # how people call the record: "case", "GOP" (lazily translated)
    model: type[models.Model]
    transitions: Iterable[Transition]
    party_of: Callable[[Actor, Any], Party | None]
    write_event: EventWriter
    # The refusal of a move not legal from the current state, naming that state.
    illegal_message: Callable[[Any, Transition], str] = lambda record, t: (
        _("Cannot %(step)s: the record is %(state)s.")
        % {"step": t.step, "state": record.get_status_display().lower()}
    )
    # The refusal of a move the actor's party may not take (an app names its record in a
    # whole sentence of its own: "You may not %(step)s on this case.").
    forbidden_message: Callable[[Transition], str] | None = None
    # The refusal's code for a move not legal now (an app may keep a code its API documents).
    illegal_code: str = "transition_illegal"
    state_field: str = "status"
    changed_at_field: str | None = "status_changed_at"
    # Extra row locks taken before the record's own (the one lock order: case, then its parts).
    lock_first: Callable[[Any], None] | None = None
    select_related: tuple[str, ...] = ()
    _table: dict[str, Transition] = field(init=False, repr=False)
    _registered: dict[str, list[Guard]] = field(init=False, repr=False)
    _effects: dict[str, list[Effect]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._table = {t.name: t for t in self.transitions}
        self._registered = {name: [] for name in self._table}
        self._effects = {name: [] for name in self._table}

    # --- declaring -------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Transition:
        return self._table[name]

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def __iter__(self):
        return iter(self._table.values())

    def register_guard(self, name: str, guard: Guard) -> None:
        """Add a guard to transition `name`, from a higher app (its AppConfig.ready())."""
        if name not in self._table:
            raise KeyError(f"{self.name} has no transition {name!r}")
        if guard not in self._registered[name]:
            self._registered[name].append(guard)

    def register_effect(self, name: str, effect: Effect) -> None:
        """Run `effect(record=, actor=, payload=)` when transition `name` is taken, from a higher
        app (its AppConfig.ready()), inside the move's transaction."""
        if name not in self._table:
            raise KeyError(f"{self.name} has no transition {name!r}")
        if effect not in self._effects[name]:
            self._effects[name].append(effect)

    def guards_of(self, name: str) -> tuple[Guard, ...]:
        return (*self._table[name].guards, *self._registered[name])

    # --- reading ---------------------------------------------------------------------------

    def state_of(self, record) -> str:
        return getattr(record, self.state_field)

    def refusal(self, record, transition: Transition, actor: Actor) -> str | None:
        """Why the actor may not take `transition` on `record` now, or None when it may."""
        for guard in self.guards_of(transition.name):
            if reason := guard(record, actor):
                return reason
        return None

    def moves(self, record, actor: Actor) -> list[Move]:
        """The steps the actor's party may take from the current state, each with its refusal
        reason now (None when allowed). Steps of other parties are not listed."""
        party = self.party_of(actor, record)
        if party is None:
            return []
        state = self.state_of(record)
        return [
            Move(t, self.refusal(record, t, actor))
            for t in self._table.values()
            if state in t.sources and party in t.parties
        ]

    def allowed(self, record, actor: Actor) -> list[Transition]:
        return [m.transition for m in self.moves(record, actor) if m.allowed]

    def allowed_names(self, record, actor: Actor) -> set[str]:
        return {t.name for t in self.allowed(record, actor)}

    def _forbidden(self, spec: Transition) -> str:
        if self.forbidden_message is not None:
            return self.forbidden_message(spec)
        return _("You may not %(step)s on this %(record)s.") % {
            "step": spec.step,
            "record": self.noun,
        }

    # --- the door --------------------------------------------------------------------------

    def fire(
        self,
        *,
        record,
        name: str,
        actor: Actor,
        note: str = "",
        payload: dict | None = None,
    ):
        """Take transition `name` on `record` as `actor`. Returns the locked, updated record
        (and updates `record`'s state in place). Raises DomainError naming the current state."""
        spec = self._table.get(name)
        if spec is None:
            raise DomainError(
                "transition_unknown", _("There is no step called %(name)s.") % {"name": name}
            )
        if not isinstance(actor, Actor):
            raise TypeError("a transition is taken by an Actor")
        # Every record's every step: a note is typed text, so it never holds a card number
        # (RULES.md, cards); refused before anything reads it.
        refuse_card_numbers({"note": note})
        with transaction.atomic():
            if self.lock_first is not None:
                self.lock_first(record)
            queryset = self.model.objects.select_for_update(of=("self",))
            if self.select_related:
                queryset = queryset.select_related(*self.select_related)
            locked = queryset.get(pk=record.pk)
            party = self.party_of(actor, locked)
            if party is None or party not in spec.parties:
                raise DomainError("transition_forbidden", self._forbidden(spec))
            if self.state_of(locked) not in spec.sources:
                raise DomainError(self.illegal_code, self.illegal_message(locked, spec))
            if reason := self.refusal(locked, spec, actor):
                raise DomainError(
                    "transition_refused",
                    _("Cannot %(step)s: %(reason)s") % {"step": spec.step, "reason": reason},
                )
            note = (note or "").strip()
            if spec.needs_note and not note:
                raise DomainError(
                    "note_required",
                    _("Say why (%(step)s).") % {"step": spec.step},
                    fields={"note": [_("Say why.")]},
                )
            previous = self.state_of(locked)
            setattr(locked, self.state_field, spec.target)
            update = [self.state_field]
            if self.changed_at_field:
                setattr(locked, self.changed_at_field, timezone.now())
                update.append(self.changed_at_field)
            if any(f.name == "updated_at" for f in self.model._meta.concrete_fields):
                update.append("updated_at")
            locked.save(update_fields=update)
            self.write_event(
                record=locked,
                transition=spec,
                actor=actor,
                party=party,
                previous=previous,
                note=note,
                payload=payload or {},
            )
            for effect in self._effects[spec.name]:
                effect(record=locked, actor=actor, payload=payload or {})
        setattr(record, self.state_field, spec.target)
        if self.changed_at_field:
            setattr(record, self.changed_at_field, getattr(locked, self.changed_at_field))
        return locked
