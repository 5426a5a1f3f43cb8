"""Every write of the privacy office: the breach register and the records of its own reads.

Keyword-only, one transaction each, an audit row each (`core.audit`), for an Actor who holds
`Capability.PRIVACY` (the Chief of Staff, the Director of Operations): the page checks it,
these check it again. Text typed into the register is refused when it holds a card number
(`core.cards.refuse_card_numbers`), so none is ever stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from medworks.accounts.permissions import Capability, user_can
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied

from .models import BreachRecord, RealRisk

# What a breach record holds that a person types or chooses (the form's fields).
BREACH_FIELDS = (
    "found_on",
    "occurred_from",
    "occurred_to",
    "circumstances",
    "information_involved",
    "people_affected_count",
    "people_affected",
    "real_risk",
    "risk_reasoning",
    "commissioner_notified_at",
    "individuals_notified_at",
    "organisations_notified",
    "notes",
)
BREACH_TEXT_FIELDS = (
    "circumstances",
    "information_involved",
    "people_affected",
    "risk_reasoning",
    "organisations_notified",
    "notes",
)
_REQUIRED = ("found_on", "circumstances", "information_involved")


def _require_privacy(actor: Actor) -> None:
    if not user_can(actor.user, Capability.PRIVACY):
        raise PermissionDenied(
            "privacy_forbidden", str(_("Only the people who handle privacy may do this."))
        )


def breach_errors(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The breach's values as the register keeps them, and what is wrong with them, per
    field (the form asks too, so that a page shows every error at once)."""
    values = {name: data.get(name) for name in BREACH_FIELDS}
    for name in BREACH_TEXT_FIELDS:
        values[name] = (values[name] or "").strip()
    errors: dict[str, list[str]] = {}
    for name in _REQUIRED:
        if not values[name]:
            errors[name] = [str(_("This field is required."))]
    today = timezone.localdate()
    found_on = values["found_on"]
    if isinstance(found_on, dt.date) and found_on > today:
        errors["found_on"] = [str(_("A breach cannot be found in the future."))]
    start, end = values["occurred_from"], values["occurred_to"]
    if start and end and end < start:
        errors["occurred_to"] = [str(_("The end comes before the start."))]
    if start and found_on and start > found_on:
        errors["occurred_from"] = [str(_("A breach cannot start after it was found."))]
    values["real_risk"] = values["real_risk"] or RealRisk.UNDETERMINED
    if values["real_risk"] not in RealRisk.values:
        errors["real_risk"] = [str(_("Choose yes, no or not yet determined."))]
    elif values["real_risk"] != RealRisk.UNDETERMINED and not values["risk_reasoning"]:
        errors["risk_reasoning"] = [
            str(_("Say why: the decision on the real risk of significant harm needs its reasons."))
        ]
    count = values["people_affected_count"]
    if count is not None and count < 0:
        errors["people_affected_count"] = [str(_("Enter a number of people, 0 or more."))]
    for name in ("commissioner_notified_at", "individuals_notified_at"):
        when = values[name]
        if when is not None and found_on and timezone.localdate(when) < found_on:
            errors[name] = [str(_("A notification cannot come before the breach was found."))]
    return values, errors


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """The breach's values, checked (card numbers first: no other refusal quotes one);
    DomainError with an error per field otherwise."""
    refuse_card_numbers(data, BREACH_TEXT_FIELDS)
    values, errors = breach_errors(data)
    if errors:
        raise DomainError(
            "breach_invalid", str(_("Please correct the fields marked below.")), fields=errors
        )
    return values


def breach_record_create(*, data: dict[str, Any], actor: Actor) -> BreachRecord:
    """Enter a breach in the register."""
    _require_privacy(actor)
    values = _checked(data)
    now = timezone.now()
    with transaction.atomic():
        breach = BreachRecord.objects.create(
            **values,
            recorded_by=actor.user,
            recorded_at=now,
            updated_by=actor.user,
            updated_at=now,
        )
        audit_record(
            actor=actor,
            action="privacy.breach_recorded",
            obj=breach,
            summary=f"{breach.reference} recorded",
            payload={"found_on": breach.found_on.isoformat(), "real_risk": breach.real_risk},
        )
    return breach


def breach_record_update(
    *, breach: BreachRecord, data: dict[str, Any], actor: Actor
) -> BreachRecord:
    """Change a breach's record (a decision taken, a notification made). The audit row names
    the fields changed, not their text (which may describe people)."""
    _require_privacy(actor)
    values = _checked(data)
    with transaction.atomic():
        breach = BreachRecord.objects.select_for_update().get(pk=breach.pk)
        changed = [name for name in BREACH_FIELDS if getattr(breach, name) != values[name]]
        if not changed:
            return breach
        before_risk = breach.real_risk
        for name in changed:
            setattr(breach, name, values[name])
        breach.updated_by = actor.user
        breach.updated_at = timezone.now()
        breach.save(update_fields=[*changed, "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="privacy.breach_updated",
            obj=breach,
            summary=f"{breach.reference} changed: {', '.join(changed)}"[:255],
            payload={
                "fields": changed,
                "real_risk": breach.real_risk,
                "real_risk_before": before_risk,
            },
        )
    return breach


# --- The access trail's own record -------------------------------------------------------


def _subject(*, patient=None, user=None) -> dict[str, Any]:
    if (patient is None) == (user is None):
        raise ValueError("a trail is of one patient or one user")
    if patient is not None:
        return {"subject": "patient", "subject_patient_id": patient.pk}
    return {"subject": "user", "subject_user_id": user.pk, "subject_username": user.username}


def access_trail_record_viewed(
    *, actor: Actor, rows: int, page: int, patient=None, user=None, origin: str = ""
):
    """The privacy office looked at a trail: whose, how many rows it holds, which page."""
    _require_privacy(actor)
    subject = _subject(patient=patient, user=user)
    return audit_record(
        actor=actor,
        action="privacy.access_trail_viewed",
        obj=patient if patient is not None else user,
        summary=f"access trail of {subject['subject']} viewed ({rows} rows)",
        payload={**subject, "rows": rows, "page": page, "origin": origin[:100]},
    )


def access_trail_record_exported(
    *,
    actor: Actor,
    rows: int,
    until: dt.datetime,
    patient=None,
    user=None,
    origin: str = "",
    reason: str = "",
):
    """The privacy office exported a trail (an access request, an audit): whose, the rows
    written and the moment they run up to."""
    _require_privacy(actor)
    refuse_card_numbers({"reason": reason})
    subject = _subject(patient=patient, user=user)
    return audit_record(
        actor=actor,
        action="privacy.access_trail_exported",
        obj=patient if patient is not None else user,
        summary=f"access trail of {subject['subject']} exported ({rows} rows)",
        payload={
            **subject,
            "rows": rows,
            "until": until.isoformat(),
            "origin": origin[:100],
            "reason": reason[:200],
        },
    )
