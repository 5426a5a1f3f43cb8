"""Who acts: one typed Actor carried by every use case.

An actor is one of four kinds: a signed-in user, an insurer's system calling with an API key,
a person following a signed link from an email (no login), or the system itself (scheduled
work, the command line). Services take it as `actor=`; the party it acts as on a record
(staff, insurer, clinic, ...) is derived from it by that record's workflow, never passed by the
caller. Events and audit rows record `kind` and `detail` (the API key's prefix, the job's
name), so a move made by a key names the key.

`core` sits below `accounts`, so the Actor holds its principal without knowing its class: a
User for USER, the accounts.ApiClient for API_CLIENT (both answer the permission table).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ActorKind(StrEnum):
    USER = "user"  # a signed-in person (staff, an insurer's or a clinic's user)
    API_CLIENT = "api_client"  # an insurer's system with an API key
    SIGNED_LINK = "signed_link"  # someone holding a signed one-click link from an email
    SYSTEM = "system"  # the worker, a scheduled job, the command line


class Party(StrEnum):
    """The side an actor takes on a record; a workflow's transitions say which parties may."""

    STAFF = "staff"  # MedWorks
    INSURER = "insurer"  # the case's own insurer (a user or its API key)
    CLINIC = "clinic"  # the clinic of the case's location
    SIGNED_LINK = "signed_link"  # the insurer contact, through a signed email link
    SYSTEM = "system"  # scheduled work


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    # What the permission table reads: a User (USER) or an ApiClient (API_CLIENT); else None.
    principal: Any = None
    # The organisation a signed link was sent for (SIGNED_LINK), so it acts only on its cases.
    organisation_id: int | None = None
    # A short name for the record: the API key's prefix, the link's purpose, the job's name.
    detail: str = ""
    # A clinic's signed link names one case and the one location asked (SIGNED_LINK): the
    # clinic it was sent to may have no portal organisation, so the link is scoped by these.
    case_id: int | None = None
    location_id: int | None = None

    @classmethod
    def for_user(cls, user) -> Actor:
        if user is None or not getattr(user, "is_authenticated", False):
            raise ValueError("an anonymous visitor is not an actor; use a signed link or system")
        return cls(ActorKind.USER, principal=user)

    @classmethod
    def for_api_client(cls, client) -> Actor:
        return cls(ActorKind.API_CLIENT, principal=client, detail=client.api_key.prefix)

    @classmethod
    def for_signed_link(cls, *, organisation_id: int, purpose: str) -> Actor:
        return cls(ActorKind.SIGNED_LINK, organisation_id=organisation_id, detail=purpose)

    @classmethod
    def for_clinic_link(cls, *, case_id: int, location_id: int, purpose: str) -> Actor:
        """Whoever holds the link a clinic was emailed to give dates for one case: it acts as
        that case's clinic while the case is with that location (bookings.workflow.party_of)."""
        return cls(ActorKind.SIGNED_LINK, case_id=case_id, location_id=location_id, detail=purpose)

    @property
    def is_clinic_link(self) -> bool:
        return self.kind == ActorKind.SIGNED_LINK and self.location_id is not None

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.SYSTEM, detail=job)

    @property
    def user(self):
        """The User to record as the one who acted, or None (a key, a link, the system)."""
        return self.principal if self.kind == ActorKind.USER else None

    @property
    def api_key(self):
        return self.principal.api_key if self.kind == ActorKind.API_CLIENT else None

    @property
    def organisation_id_of_principal(self) -> int | None:
        if self.kind in (ActorKind.USER, ActorKind.API_CLIENT):
            return self.principal.organisation_id
        return self.organisation_id

    def describe(self) -> dict[str, str]:
        """What events and audit rows record beside the user: the kind and its detail."""
        return {"actor_kind": self.kind.value, "actor_detail": self.detail}

    def __str__(self) -> str:
        if self.kind == ActorKind.USER:
            return str(self.principal)
        return f"{self.kind.value}:{self.detail}"
