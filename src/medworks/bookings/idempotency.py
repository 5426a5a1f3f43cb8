"""A submission made with an Idempotency-Key creates at most one case, however often it is sent.

An insurer's system that lost our answer (timeout, dropped connection) sends the same request
again with the same key: it gets the case the first one made. The database decides who was
first: the unique (organisation, key) constraint. Two identical requests racing both create a
case in their own transaction; the loser's insert of the key fails (before any email is queued),
its whole transaction (case, patient, Order Id number) rolls back, and it answers with the
winner's case.

The fingerprint is a hash of the request as the client meant it (canonical JSON), so a key
re-used for a different request is refused rather than silently answered with another case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError
from django.utils.translation import gettext as _

from medworks.accounts.models import Organisation
from medworks.core.actor import Actor
from medworks.core.errors import DomainError

from .models import BookingRequest, Channel, IdempotencyKey
from .services import booking_request_submit

MAX_KEY_LENGTH = 200


class IdempotencyConflict(DomainError):
    """The key was used before for a different request."""

    status = 422


def request_fingerprint(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, organisation: Organisation, key: str, fingerprint: str) -> BookingRequest | None:
    found = (
        IdempotencyKey.objects.filter(organisation=organisation, key=key)
        .select_related("booking_request")
        .first()
    )
    if found is None:
        return None
    if found.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
            fields={"Idempotency-Key": [_("Use a new key for a new request.")]},
        )
    return found.booking_request


def booking_request_submit_once(
    *,
    insurer: Organisation,
    data: Mapping[str, Any],
    idempotency_key: str,
    actor: Actor,
    channel: str = Channel.API,
) -> tuple[BookingRequest, bool]:
    """Submit, or return the case this key already made. Returns (case, created)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            "idempotency_key_invalid",
            _("An Idempotency-Key is 1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH},
            fields={"Idempotency-Key": [_("1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH}]},
        )
    fingerprint = request_fingerprint(data)
    existing = _replay(organisation=insurer, key=key, fingerprint=fingerprint)
    if existing is not None:
        return existing, False

    def record_key(case: BookingRequest) -> None:
        IdempotencyKey.objects.create(
            organisation=insurer, key=key, request_fingerprint=fingerprint, booking_request=case
        )

    try:
        # The key is written in the case's own transaction (no outer one: the form is then
        # validated before any write lock is taken, which matters on SQLite).
        case = booking_request_submit(
            insurer=insurer,
            data=data,
            actor=actor,
            channel=channel,
            on_created=record_key,
        )
    except IntegrityError:
        # Another request with this key committed first: answer with its case.
        existing = _replay(organisation=insurer, key=key, fingerprint=fingerprint)
        if existing is None:  # the IntegrityError was something else
            raise
        return existing, False
    return case, True
