"""Event kinds with their labels, declared in one place per app.

Each kind has a label for staff and, where the insurer may see it, one for the insurer (a text,
or a function of the event's payload when the words depend on it: which paper arrived, who
cancelled). A kind with no insurer label is never shown to an insurer. Pages show labels, never
a raw code; an app refuses to write a kind it has not declared (see bookings.models.BookingEvent).

A catalogue belongs to the app whose event rows it describes (the case timeline: bookings); a
higher app that writes rows there (documents: GOP and paperwork events) declares its own kinds
into it from its AppConfig.ready(), so the lower app never imports the higher one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

InsurerLabel = Any  # a lazy text, a function (payload) -> text or None, or None


@dataclass(frozen=True)
class EventKind:
    code: str
    staff: Any  # the staff timeline's words (lazily translated)
    insurer: InsurerLabel = None  # the insurer's words; None: never shown to the insurer
    insurer_sees_note: bool = False  # the note was written for (or by) the insurer

    def insurer_label(self, payload: dict) -> str | None:
        if self.insurer is None:
            return None
        label = self.insurer(payload or {}) if callable(self.insurer) else self.insurer
        return None if label is None else str(label)


class EventCatalogue:
    """The declared kinds of one event table."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._kinds: dict[str, EventKind] = {}

    def declare(self, kinds: Iterable[EventKind]) -> None:
        for kind in kinds:
            known = self._kinds.get(kind.code)
            if known is not None and known != kind:
                raise ValueError(f"{self.name} event {kind.code!r} is declared twice")
            self._kinds[kind.code] = kind

    def __contains__(self, code: str) -> bool:
        return code in self._kinds

    def __iter__(self):
        return iter(self._kinds.values())

    def get(self, code: str) -> EventKind | None:
        return self._kinds.get(code)

    def staff_label(self, code: str) -> str:
        kind = self._kinds.get(code)
        # An undeclared code cannot be written, so this only meets rows from before a rename.
        return str(kind.staff) if kind is not None else code.replace("_", " ").capitalize()

    def choices(self) -> list[tuple[str, str]]:
        return [(k.code, str(k.staff)) for k in self._kinds.values()]

    def require(self, code: str) -> None:
        if code not in self._kinds:
            raise ValueError(f"{self.name} event {code!r} is not declared")


def by_payload(key: str, labels: dict[str, Any], default: Any = None) -> Callable[[dict], Any]:
    """An insurer label chosen by one payload value (None hides the event from the insurer)."""

    def label(payload: dict):
        return labels.get(payload.get(key, ""), default)

    return label
