"""The second factor at sign-in: a code from an authenticator app (TOTP), or a recovery code.

Built on django-otp rather than written here: its `TOTPDevice` (RFC 6238, 6 digits every 30
seconds, one step of clock tolerance either way, a code never accepted twice) is a person's
app, and its `StaticDevice` holds their ten one-time recovery codes (`StaticToken` rows, each
deleted as it is used). A person has at most one confirmed TOTP device; the recovery codes
come and go with it. Both devices throttle wrong codes on their own (django-otp's
ThrottlingMixin, settings.OTP_TOTP_THROTTLE_FACTOR): after n wrong codes in a row the device
refuses every code, the right one included, for 2^(n-1) seconds, so guessing a 6-digit code
takes years while a person who mistypes waits seconds. The refusal says how long
(`TooManyAttempts`, answered 429).

Who must (`two_factor_required`): every MedWorks staff user (the operator organisation, and
anyone who can open the Django admin) while settings.MEDWORKS_STAFF_REQUIRE_2FA is on (the
default), and every user of an organisation with `require_two_factor`. Anyone else may turn it
on from their profile. Whoever has a confirmed device is asked for a code at each sign-in,
required or not.

The sign-in (web.views.two_factor): every way of signing in ends in django.contrib.auth's
`login()`, which sends `user_logged_in`; `_note_sign_in` (connected in AccountsConfig.ready,
the one hook Django gives at that moment, as django-otp's own) writes into the session whether
this sign-in owes a second factor (`SESSION_OWED`: the user has a device or must have one).
Pages then read only the session: a request of a session that owes nothing, or is verified,
costs no query. Until `session_mark_verified` (after a right code, or at the end of
enrolment), the web's TwoFactorMiddleware lets such a session reach only the second step,
enrolment, the language switch and signing out. A session without the note (made before this
module existed) is decided once, on its next request, and noted (`session_two_factor_pending`).
A user who must but has no device enrols at that sign-in: trust on first use, the usual
compromise; a reset by staff (`services.user_two_factor_reset`) ends every session of theirs,
so the next sign-in enrols again.

Recovery codes and TOTP keys are stored as django-otp stores them (in the database, as the
password hashes are; a TOTP key cannot be hashed, the server needs it to compute codes).

Every use case here is keyword-only, takes the actor, and audits in its transaction:
`two_factor.enrolled`, `two_factor.disabled`, `two_factor.recovery_code_used`,
`two_factor.recovery_codes_regenerated` (and `two_factor.reset` in services.py).
"""

from __future__ import annotations

import math
import re
import secrets
import time
from base64 import b32encode
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.models import Device, VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.errors import DomainError

from .models import OrganisationKind, User

# In the session: whether this sign-in owes a second factor (True / False), noted at sign-in;
# and, during enrolment, the key being set up (kept here until confirmed, so an abandoned
# enrolment leaves no half-made device behind and a reload shows the same QR code).
SESSION_OWED = "medworks_two_factor_owed"
SESSION_ENROL_KEY = "medworks_two_factor_enrol_key"

RECOVERY_CODE_COUNT = 10
# 10 characters from 31 (no 0/o, 1/l/i), about 50 bits each; shown as two groups of five.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
KEY_BYTES = 20  # the TOTP key: 160 bits, as RFC 4226 recommends
_TOTP_CODE = re.compile(r"\d{6}")
T = TypeVar("T")


class TooManyAttempts(DomainError):
    """Wrong codes in a row: the device refuses every code for a while (the right one too)."""

    status = 429


# --- Who must, who has ------------------------------------------------------------------


def two_factor_required(user) -> bool:
    """Must this person sign in with a second factor? No query: the organisation is loaded
    with the user by every request (the session checks read it first)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    organisation = user.organisation if user.organisation_id else None
    if organisation is not None and organisation.require_two_factor:
        return True
    if not settings.MEDWORKS_STAFF_REQUIRE_2FA:
        return False
    staff = organisation is not None and organisation.kind == OrganisationKind.OPERATOR
    admin = getattr(user, "is_staff", False) or getattr(user, "is_superuser", False)
    return staff or admin  # whoever opens the Django admin is MedWorks staff too


def two_factor_device(user) -> TOTPDevice | None:
    """The person's confirmed authenticator app, or None."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def _recovery_device(user) -> StaticDevice | None:
    return StaticDevice.objects.filter(user_id=user.pk).order_by("pk").first()


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool  # a confirmed authenticator app
    required: bool  # may not be turned off
    recovery_codes_left: int
    enabled_at: object = None  # when the app was set up (datetime), if known


def two_factor_status(user) -> TwoFactorStatus:
    """What the profile and the two-step page show."""
    device = two_factor_device(user)
    left = StaticToken.objects.filter(device__user_id=user.pk).count() if device else 0
    return TwoFactorStatus(
        enabled=device is not None,
        required=two_factor_required(user),
        recovery_codes_left=left,
        enabled_at=device.created_at if device is not None else None,
    )


# --- The session ------------------------------------------------------------------------


def two_factor_owed_at_sign_in(user) -> bool:
    """A sign-in owes a second factor when the person has an app or must have one."""
    return two_factor_required(user) or two_factor_device(user) is not None


def _note_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver (every way of signing in): note what this session owes."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SESSION_OWED] = two_factor_owed_at_sign_in(user)


def connect_signals() -> None:
    user_logged_in.connect(_note_sign_in, dispatch_uid="medworks.two_factor.note_sign_in")


def session_is_verified(*, session, user) -> bool:
    """Verified with a second factor in this session: django-otp's OTPMiddleware has put the
    device that verified it on the user (and dropped a device since removed). Without that
    middleware nothing is verified: closed, not open."""
    return getattr(user, "otp_device", None) is not None and DEVICE_ID_SESSION_KEY in session


def session_two_factor_pending(*, session, user) -> bool:
    """Does this signed-in session still owe its second factor? No query when the session
    was noted at sign-in (always, but for sessions older than this module)."""
    if not getattr(user, "is_authenticated", False) or session_is_verified(
        session=session, user=user
    ):
        return False
    owed = session.get(SESSION_OWED)
    if not isinstance(owed, bool):
        owed = session[SESSION_OWED] = two_factor_owed_at_sign_in(user)
    # Required since signing in (the organisation turned it on): owed now.
    return owed or two_factor_required(user)


def session_settle(*, session) -> None:
    """This session owes nothing (its user has no app and need not have one)."""
    session[SESSION_OWED] = False


def session_mark_verified(request, device: Device) -> None:
    """The second factor is given: the session is django-otp-verified, under a new key (the
    password-only session's id is no longer worth anything)."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session[SESSION_OWED] = False
    request.session.pop(SESSION_ENROL_KEY, None)


# --- Enrolment --------------------------------------------------------------------------


def two_factor_key_new() -> str:
    """A new TOTP key, hex (as django-otp stores it)."""
    return random_hex(KEY_BYTES)


def _key_bytes(key: str) -> bytes | None:
    try:
        raw = unhexlify((key or "").encode())
    except (BinasciiError, ValueError):
        return None
    return raw if len(raw) == KEY_BYTES else None


def two_factor_key_is_valid(key) -> bool:
    return isinstance(key, str) and _key_bytes(key) is not None


@dataclass(frozen=True)
class Provisioning:
    """What an authenticator app is given: the otpauth:// URL (the QR code) and the secret
    written out, in groups of four, for typing in by hand."""

    url: str
    secret: str


def two_factor_provisioning(*, user: User, key: str) -> Provisioning:
    device = TOTPDevice(user=user, key=key)  # unsaved: only its URL is wanted
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return Provisioning(
        url=device.config_url, secret=" ".join(secret[i : i + 4] for i in range(0, 32, 4))
    )


def _recovery_codes_new(user: User) -> list[str]:
    """Ten new recovery codes for the user, replacing any older ones (same device, so a
    session verified with one of the old codes stays verified)."""
    device = _recovery_device(user)
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    device.throttle_reset(commit=True)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def two_factor_enrol(*, user: User, key: str, code: str, actor: Actor) -> tuple[TOTPDevice, list]:
    """Turn the second factor on with the app set up from `key`, once it shows a right code.

    Returns the device and the ten recovery codes, which are shown this once. Refused when the
    person already has an app (one at a time: turn it off, or ask staff to reset it, first)."""
    raw = _key_bytes(key)
    if raw is None:
        raise DomainError("two_factor_key_invalid", _("Start again: the setup has expired."))
    digits = _totp_code(code)
    if digits is None:
        raise DomainError(
            "two_factor_code_invalid",
            _("Enter the 6-digit code your app shows."),
            fields={"code": [_("Enter the 6-digit code your app shows.")]},
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if TOTPDevice.objects.filter(user=locked, confirmed=True).exists():
            raise DomainError(
                "two_factor_already_on", _("Two-step sign-in is already on for your account.")
            )
        device = TOTPDevice(user=locked, name="Authenticator app", key=key, confirmed=True)
        totp = TOTP(raw, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        if not totp.verify(int(digits), device.tolerance):
            raise DomainError(
                "two_factor_code_wrong",
                _("That code is not right. Check the clock of your phone, and try the new code."),
                fields={
                    "code": [
                        _(
                            "That code is not right. Check the clock of your phone, "
                            "and try the new code."
                        )
                    ]
                },
            )
        device.last_t = totp.t()  # this code is used: it cannot also turn it off
        device.drift = totp.drift
        TOTPDevice.objects.filter(user=locked).delete()  # unconfirmed leftovers, if any
        device.save()
        codes = _recovery_codes_new(locked)
        audit_record(
            actor=actor,
            action="two_factor.enrolled",
            obj=locked,
            summary=f"Two-step sign-in turned on for {locked.username}",
            payload={"device_id": device.pk, "recovery_codes": len(codes)},
        )
    return device, codes


# --- Codes ------------------------------------------------------------------------------


def _totp_code(code: str) -> str | None:
    text = re.sub(r"\s", "", code or "")
    return text if _TOTP_CODE.fullmatch(text) else None


def _recovery_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", code or "").lower()


def _throttled(device: Device) -> TooManyAttempts | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    if (data or {}).get("reason") != VerifyNotAllowed.N_FAILED_ATTEMPTS:
        return TooManyAttempts("two_factor_throttled", _("Codes are not accepted right now."))
    seconds = max(1, math.ceil((data["locked_until"] - timezone.now()).total_seconds()))
    message = ngettext(
        "Too many wrong codes: no code is accepted for the next %(seconds)d second, not "
        "even the right one. Wait, then enter the new code your app shows.",
        "Too many wrong codes: no code is accepted for the next %(seconds)d seconds, not "
        "even the right one. Wait, then enter the new code your app shows.",
        seconds,
    ) % {"seconds": seconds}
    return TooManyAttempts("two_factor_throttled", message, fields={"code": [message]})


def _wrong(message) -> DomainError:
    return DomainError("two_factor_code_wrong", message, fields={"code": [message]})


def _code_accept(*, user: User, code: str, then: Callable[[Device, int | None], T]) -> T:
    """Check `code` (6 digits: the app's; anything else: a recovery code, used up when right)
    and, in the same transaction, run `then(device, recovery_codes_left)` (None for the app).

    A refusal is raised after the transaction, not inside it: a wrong code's count on the
    device's throttle must be kept, not rolled back with the refusal."""
    digits = _totp_code(code)
    recovery = _recovery_code(code)
    model = TOTPDevice if digits is not None else StaticDevice
    refusal: DomainError | None = None
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user_id=user.pk, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None and digits is not None:
            refusal = DomainError(
                "two_factor_not_enrolled", _("Two-step sign-in is not on for your account.")
            )
        elif device is None or not recovery:
            refusal = _wrong(_("That recovery code is not right, or it has been used already."))
        elif (throttled := _throttled(device)) is not None:
            refusal = throttled
        elif device.verify_token(digits if digits is not None else recovery):
            left = device.token_set.count() if isinstance(device, StaticDevice) else None
            return then(device, left)
        elif digits is not None:
            refusal = _wrong(
                _(
                    "That code is not right. Enter the code your app shows now, "
                    "or one of your recovery codes."
                )
            )
        else:
            refusal = _wrong(_("That recovery code is not right, or it has been used already."))
    raise refusal


def _audit_recovery_code_used(*, user: User, actor: Actor, left: int | None, purpose: str):
    if left is None:
        return
    audit_record(
        actor=actor,
        action="two_factor.recovery_code_used",
        obj=user,
        summary=f"Recovery code used by {user.username} ({left} left)",
        payload={"recovery_codes_left": left, "purpose": purpose},
    )


def two_factor_verify(*, user: User, code: str, actor: Actor) -> tuple[Device, int | None]:
    """The second step of signing in. Returns the device that accepted the code and, for a
    recovery code, how many are left (None for the app's code). Wrong: DomainError;
    too many wrong in a row: TooManyAttempts (the right code is refused too, meanwhile)."""

    def accepted(device: Device, left: int | None) -> tuple[Device, int | None]:
        _audit_recovery_code_used(user=user, actor=actor, left=left, purpose="sign_in")
        return device, left

    return _code_accept(user=user, code=code, then=accepted)


def two_factor_recovery_codes_regenerate(*, user: User, code: str, actor: Actor) -> list[str]:
    """Ten new recovery codes, after a right code (the app's, or one of the old codes): the
    old ones stop working."""
    if two_factor_device(user) is None:
        raise DomainError(
            "two_factor_not_enrolled", _("Two-step sign-in is not on for your account.")
        )

    def accepted(device: Device, left: int | None) -> list[str]:
        _audit_recovery_code_used(user=user, actor=actor, left=left, purpose="regenerate")
        codes = _recovery_codes_new(user)
        audit_record(
            actor=actor,
            action="two_factor.recovery_codes_regenerated",
            obj=user,
            summary=f"New recovery codes for {user.username}",
            payload={"recovery_codes": len(codes)},
        )
        return codes

    return _code_accept(user=user, code=code, then=accepted)


def two_factor_devices_delete(*, user: User) -> int:
    """Remove the person's app and recovery codes (inside the caller's transaction)."""
    apps, _detail = TOTPDevice.objects.filter(user_id=user.pk).delete()
    StaticDevice.objects.filter(user_id=user.pk).delete()
    return apps


def two_factor_disable(*, user: User, code: str, actor: Actor) -> int:
    """Turn the second factor off, after a right code (the app's or a recovery code). Refused
    when it is required. Returns how many apps were removed (1)."""
    if two_factor_required(user):
        raise DomainError(
            "two_factor_required",
            _("Two-step sign-in is required for your account: it cannot be turned off."),
        )
    if two_factor_device(user) is None:
        raise DomainError(
            "two_factor_not_enrolled", _("Two-step sign-in is not on for your account.")
        )

    def accepted(device: Device, left: int | None) -> int:
        removed = two_factor_devices_delete(user=user)
        audit_record(
            actor=actor,
            action="two_factor.disabled",
            obj=user,
            summary=f"Two-step sign-in turned off by {user.username}",
            payload={"devices_removed": removed, "with_recovery_code": left is not None},
        )
        return removed

    return _code_accept(user=user, code=code, then=accepted)
