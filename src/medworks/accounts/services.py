"""Use cases that change accounts: API keys for insurers' systems; turning organisations and
users off and on.

An API key is shown once, when it is made; only its sha256 is stored, so a leaked database
does not leak working keys. Creating and revoking are audited.

Deactivating takes effect at once: an organisation's API keys are revoked and the sessions of
its users deleted (a user's own sessions, for a user), in the same transaction as the change.
Reactivating restores sign-in, not keys: revoked keys stay revoked, staff make new ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied

from .models import ApiKey, Organisation, OrganisationKind, RoleCode, User, UserSession
from .permissions import Capability, actor_can
from .two_factor import two_factor_devices_delete

PREFIX_LENGTH = 8
# last_used_at is a hint for staff ("is this key still in use?"), not an audit trail: writing
# it on every request would put a write (and on SQLite, the database's one write lock) in the
# path of every read, so it is refreshed at most this often.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def api_key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, organisation: Organisation, name: str, actor: Actor) -> tuple[ApiKey, str]:
    """A new key for an insurer's system. Returns the key and its secret, shown this once."""
    name = (name or "").strip()
    refuse_card_numbers({"name": name})
    if organisation.kind != OrganisationKind.INSURER:
        raise DomainError(
            "api_key_organisation_invalid",
            _("%(name)s is not an insurance partner: API keys are for insurers.")
            % {"name": organisation.name},
            fields={"organisation": [_("Choose an insurance partner.")]},
        )
    if not organisation.is_active:
        raise DomainError(
            "api_key_organisation_inactive",
            _("%(name)s is not active.") % {"name": organisation.name},
            fields={"organisation": [_("This insurer is not active.")]},
        )
    if not name:
        raise DomainError(
            "api_key_name_missing",
            _("Name the key (what system uses it)."),
            fields={"name": [_("Required.")]},
        )
    if len(name) > 100:
        raise DomainError(
            "api_key_name_too_long",
            _("At most 100 characters."),
            fields={"name": [_("Too long.")]},
        )
    # token_urlsafe: 43 characters of [A-Za-z0-9_-], safe in a header without quoting.
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation=organisation,
            name=name,
            prefix=secret[:PREFIX_LENGTH],
            secret_hash=api_key_hash(secret),
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action="api_key.created",
            obj=key,
            summary=f"API key {key.prefix} for {organisation.name}",
            payload={"organisation_id": organisation.pk, "name": name, "prefix": key.prefix},
        )
    return key, secret


def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Stop a key from working. Kept (not deleted): the audit trail names it."""
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if locked.revoked_at is not None:
            raise DomainError("api_key_revoked", f"Key {locked.prefix} is already revoked.")
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_key.revoked",
            obj=locked,
            summary=f"API key {locked.prefix} revoked",
            payload={"organisation_id": locked.organisation_id, "prefix": locked.prefix},
        )
    api_key.revoked_at = locked.revoked_at
    return locked


def organisation_set_active(
    *, organisation: Organisation, active: bool, actor: Actor
) -> Organisation:
    """Turn an organisation on or off. Off: its API keys are revoked and its users signed out
    (their accounts stay active, so turning the organisation on again lets them back in; the
    login page and every request refuse them meanwhile). Audited; no change, no row."""
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if locked.is_active == active:
            organisation.is_active = active
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        revoked: list[str] = []
        sessions_ended = 0
        if not active:
            for key in locked.api_keys.filter(revoked_at__isnull=True).order_by("pk"):
                api_key_revoke(api_key=key, actor=actor)
                revoked.append(key.prefix)
            sessions_ended, _ = UserSession.objects.filter(user__organisation=locked).delete()
        state = "activated" if active else "deactivated"
        audit_record(
            actor=actor,
            action=f"organisation.{state}",
            obj=locked,
            summary=f"{locked.name} {state}",
            payload={"api_keys_revoked": revoked, "sessions_ended": sessions_ended},
        )
    organisation.is_active = active
    return locked


def user_set_active(*, user: User, active: bool, actor: Actor) -> User:
    """Turn a user's account on or off. Off: every session of theirs ends at once (their
    organisation's API keys are the organisation's, untouched). Audited; no change, no row."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            user.is_active = active
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        sessions_ended = 0
        if not active:
            sessions_ended, _ = UserSession.objects.filter(user=locked).delete()
        state = "activated" if active else "deactivated"
        audit_record(
            actor=actor,
            action=f"user.{state}",
            obj=locked,
            summary=f"User {locked.username} {state}",
            payload={"organisation_id": locked.organisation_id, "sessions_ended": sessions_ended},
        )
    user.is_active = active
    return locked


def user_two_factor_reset(*, user: User, actor: Actor) -> int:
    """Remove a person's second factor (their phone is lost): their authenticator app and
    recovery codes are deleted and every session of theirs ends, so whoever holds a session
    or the phone gets nothing more. Their next sign-in then asks them to set up an app again
    when it is required of them (accounts/two_factor.py), or lets them in with the password
    when it is not. Only Capability.TWO_FACTOR_RESET (senior manager, director of
    operations); never one's own (ask a colleague: one person alone cannot swap the factor
    that guards their own account). Audited (`two_factor.reset`), also when there was
    nothing to remove. Returns how many apps were removed."""
    if not actor_can(actor, Capability.TWO_FACTOR_RESET):
        raise PermissionDenied(
            "two_factor_reset_forbidden",
            _("Only a senior manager or the director of operations may reset a second factor."),
        )
    if actor.user is not None and actor.user.pk == user.pk:
        raise PermissionDenied(
            "two_factor_reset_own",
            _("You cannot reset your own second factor: ask a colleague who may."),
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        removed = two_factor_devices_delete(user=locked)
        sessions_ended, _counts = UserSession.objects.filter(user=locked).delete()
        audit_record(
            actor=actor,
            action="two_factor.reset",
            obj=locked,
            summary=f"Second factor of {locked.username} reset",
            payload={"devices_removed": removed, "sessions_ended": sessions_ended},
        )
    return removed


def organisation_set_two_factor_required(
    *, organisation: Organisation, required: bool, actor: Actor
) -> Organisation:
    """Require (or stop requiring) a second factor of every user of the organisation. Takes
    effect on each user's next request: a signed-in session without one is sent to the
    second step, or to set up an app (web TwoFactorMiddleware). Audited; no change, no row."""
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if locked.require_two_factor != required:
            locked.require_two_factor = required
            locked.save(update_fields=["require_two_factor"])
            audit_record(
                actor=actor,
                action="organisation.two_factor_required_set",
                obj=locked,
                summary=f"{locked.name}: two-step sign-in {'required' if required else 'optional'}",
                payload={"require_two_factor": required},
            )
    organisation.require_two_factor = required
    return locked


@dataclass(frozen=True, eq=False)
class ApiClient:
    """Who calls with an API key: the key's insurer, acting as one of its portal users.

    It answers what `accounts.permissions.user_can` asks of a user (authenticated, active,
    organisation, roles), so the one permission table and `BookingRequest.objects.for_user`
    decide for keys exactly as for people. It has no `pk`: it is not a User, so use cases record
    no actor for it (audit rows name the key's prefix instead).
    """

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    role_codes = frozenset({RoleCode.INSURER_USER})

    @property
    def is_active(self) -> bool:
        return self.api_key.revoked_at is None and self.api_key.organisation.is_active

    @property
    def organisation(self) -> Organisation:
        return self.api_key.organisation

    @property
    def organisation_id(self) -> int:
        return self.api_key.organisation_id

    @property
    def organisation_kind(self) -> str:
        return self.api_key.organisation.kind

    @property
    def username(self) -> str:
        return f"api-key:{self.api_key.prefix}"

    def __str__(self) -> str:
        return self.username


def api_key_authenticate(*, secret: str, now: dt.datetime | None = None) -> ApiClient | None:
    """The client a presented key stands for, or None (unknown, revoked, inactive insurer)."""
    secret = (secret or "").strip()
    if not secret or len(secret) > 200:
        return None
    key = (
        ApiKey.objects.select_related("organisation")
        .filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    client = ApiClient(api_key=key)
    if not client.is_active or key.organisation.kind != OrganisationKind.INSURER:
        return None
    now = now or timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional: of several workers seeing the same stale value, one writes.
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return client


LANGUAGES = frozenset({"en", "fr"})


def user_set_language(*, user: User, language: str, actor: Actor) -> User:
    """A person's language for pages and emails (their own choice, or staff's for them)."""
    if language not in LANGUAGES | {""}:
        raise DomainError(
            "language_invalid",
            _("Choose English or French."),
            fields={"language": [_("Choose English or French.")]},
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        previous = locked.preferred_language
        locked.preferred_language = language
        locked.save(update_fields=["preferred_language"])
        audit_record(
            actor=actor,
            action="user.language_set",
            obj=locked,
            summary=f"language {previous or '-'} -> {language or '-'}",
            payload={"from": previous, "to": language},
        )
    user.preferred_language = language
    return locked


SERVICE_AREA_MINUTES_MIN = 1
SERVICE_AREA_MINUTES_MAX = 600


def insurer_service_area_set(*, actor: Actor, insurer: Organisation, minutes: int | None):
    """An insurer's designated service area, in whole minutes by road from 1 to 600, or None
    for the desk's default (the setting MEDWORKS_SERVICE_AREA_MINUTES): no affiliate this near
    the patient escalates its case to management. Only staff who edit the directory
    (Capability.DIRECTORY_EDIT: the coordinator and management) may; audited with the old and
    new values; no change, no row. Returns the organisation."""
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, Capability.DIRECTORY_EDIT):
        raise PermissionDenied(
            "service_area_forbidden",
            _("Only the booking coordinator and management may change an insurer's service area."),
        )
    if insurer.kind != OrganisationKind.INSURER:
        raise DomainError(
            "insurer_invalid",
            _("%(name)s is not an insurance partner.") % {"name": insurer.name},
        )
    if minutes is not None and (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not SERVICE_AREA_MINUTES_MIN <= minutes <= SERVICE_AREA_MINUTES_MAX
    ):
        raise DomainError(
            "service_area_minutes_invalid",
            _(
                "%(value)s is not accepted: enter whole minutes from %(min)s to %(max)s, or "
                "nothing for the default."
            )
            % {
                "value": repr(minutes),
                "min": SERVICE_AREA_MINUTES_MIN,
                "max": SERVICE_AREA_MINUTES_MAX,
            },
            fields={
                "minutes": [
                    _("Enter whole minutes from %(min)s to %(max)s.")
                    % {"min": SERVICE_AREA_MINUTES_MIN, "max": SERVICE_AREA_MINUTES_MAX}
                ]
            },
        )
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=insurer.pk)
        previous = locked.service_area_minutes
        if previous != minutes:
            locked.service_area_minutes = minutes
            locked.save(update_fields=["service_area_minutes"])
            audit_record(
                actor=actor,
                action="organisation.service_area_set",
                obj=locked,
                summary=(
                    f"Service area of {locked.name}: {previous or 'default'} -> "
                    f"{minutes or 'default'} minutes"
                ),
                payload={
                    "changes": {
                        "service_area_minutes": [
                            "" if previous is None else str(previous),
                            "" if minutes is None else str(minutes),
                        ]
                    }
                },
            )
    insurer.service_area_minutes = minutes
    return locked
