"""The one door for writing audit events."""

from __future__ import annotations

from typing import Any

from django.db import models

from .actor import Actor
from .models import AuditEvent


def audit_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    summary: str = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. Call inside the use case's transaction.

    The row names the user who acted, or for an API key, a signed link or the system, which
    one (`actor_kind`, `actor_detail`: the key's prefix, the link's purpose, the job)."""
    if not isinstance(actor, Actor):
        raise TypeError("audit events are written for an Actor")
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_kind=actor.kind.value,
        actor_detail=actor.detail[:64],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:255],
        payload=payload or {},
    )


def audit_record_many(
    *, actor: Actor, action: str, objects: list[models.Model], payload_of, summary_of
) -> None:
    """One audit event per object in one INSERT: a list that shows patient data (the work
    queue, a search) is a read of every case in it."""
    if not isinstance(actor, Actor):
        raise TypeError("audit events are written for an Actor")
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.user,
            actor_kind=actor.kind.value,
            actor_detail=actor.detail[:64],
            action=action,
            object_type=obj._meta.label_lower,
            object_id=str(obj.pk),
            summary=summary_of(obj)[:255],
            payload=payload_of(obj),
        )
        for obj in objects
    )
