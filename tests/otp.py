"""An authenticator app, as the tests hold one: the codes are computed from the device's key
with django-otp's own TOTP (RFC 6238), as a phone would."""

from __future__ import annotations

import time
from binascii import unhexlify

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from medworks.accounts.two_factor import two_factor_enrol, two_factor_key_new
from tests.factories import act


def code_for_key(key: str) -> str:
    """The code an app set up with `key` (hex) shows now."""
    return f"{TOTP(unhexlify(key)).token():06d}"


def app_code(device: TOTPDevice) -> str:
    """A code the app shows that the server has not accepted yet: this time step's or, when
    that one was just used, the next one's (the server allows one step of clock difference)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    for ahead in (0, 1):
        totp.time = now + ahead * device.step
        if totp.t() > device.last_t:
            return f"{totp.token():06d}"
    raise AssertionError("no unused code within the tolerance")


def wrong_code(device: TOTPDevice) -> str:
    """Six digits that no step near now gives."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    near = set()
    for offset in range(-3, 4):
        totp.time = now + offset * device.step
        near.add(f"{totp.token():06d}")
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    """Set up an app for `user` through the use case, as the enrolment page does."""
    key = two_factor_key_new()
    return two_factor_enrol(user=user, key=key, code=code_for_key(key), actor=act(user))
