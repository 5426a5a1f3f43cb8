"""Passwords are hashed with Argon2; a session ends after a while idle and a while after sign-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from medworks import settings as project_settings
from medworks.accounts.models import User, UserSession
from medworks.accounts.sessions import SEEN_AT, SIGNED_IN_AT
from medworks.settings import env_int
from tests import factories

pytestmark = pytest.mark.django_db

STAFF_HOME = "/staff/"
MINUTE = 60
HOUR = 3600


@pytest.fixture
def argon2(settings):
    """The production hashers (the suite's own fixture swaps in a fast one)."""
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def _now() -> int:
    return int(timezone.now().timestamp())


def _shift(client: Client, **ago_seconds: int) -> None:
    """Move the session's stamps into the past: signed_in=..., seen=... seconds ago."""
    session = client.session
    if "signed_in" in ago_seconds:
        session[SIGNED_IN_AT] = _now() - ago_seconds["signed_in"]
    if "seen" in ago_seconds:
        session[SEEN_AT] = _now() - ago_seconds["seen"]
    session.save()


def _signed_out_to_login(response) -> bool:
    return response.status_code == 302 and response.url.startswith("/login/")


# --- passwords ----------------------------------------------------------------------------------


def test_a_password_set_today_is_stored_as_an_argon2_hash(argon2, booking_agent):
    booking_agent.set_password("a-new-long-passphrase-77")
    booking_agent.save()
    booking_agent.refresh_from_db()
    assert booking_agent.password.startswith("argon2$argon2id$")
    assert booking_agent.check_password("a-new-long-passphrase-77")


def test_an_older_pbkdf2_hash_becomes_argon2_at_the_next_sign_in(argon2, client, booking_agent):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    old = PBKDF2PasswordHasher().encode(factories.PASSWORD, "somesalt", iterations=1000)
    User.objects.filter(pk=booking_agent.pk).update(password=old)

    response = client.post("/login/", {"username": "agent", "password": factories.PASSWORD})

    assert response.status_code == 302
    booking_agent.refresh_from_db()
    assert booking_agent.password.startswith("argon2$")


# --- the session's record -------------------------------------------------------------------------


def test_signing_in_on_the_page_records_whose_session_it_is_and_when(client, booking_agent):
    before = _now()
    response = client.post("/login/", {"username": "agent", "password": factories.PASSWORD})
    assert response.status_code == 302

    session = client.session
    assert before <= session[SIGNED_IN_AT] <= _now()
    assert UserSession.objects.get(session_key=session.session_key).user == booking_agent
    assert client.get(STAFF_HOME).status_code == 200


def test_the_test_clients_force_login_is_recorded_the_same_way(client, booking_agent):
    client.force_login(booking_agent)
    assert SIGNED_IN_AT in client.session
    assert UserSession.objects.get(session_key=client.session.session_key).user == booking_agent
    assert client.get(STAFF_HOME).status_code == 200


def test_a_session_from_before_the_stamp_is_stamped_on_its_next_request_not_ended(
    client, booking_agent
):
    client.force_login(booking_agent)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()

    assert client.get(STAFF_HOME).status_code == 200
    assert _now() - client.session[SIGNED_IN_AT] < MINUTE


def test_signing_out_removes_the_session(client, booking_agent):
    client.force_login(booking_agent)
    client.post("/logout/")
    assert not UserSession.objects.filter(user=booking_agent).exists()


# --- idle and absolute limits ---------------------------------------------------------------------


def test_a_session_idle_longer_than_the_limit_is_signed_out(client, booking_agent, settings):
    settings.MEDWORKS_SESSION_IDLE_MINUTES = 30
    client.force_login(booking_agent)
    _shift(client, signed_in=40 * MINUTE, seen=31 * MINUTE)

    response = client.get(STAFF_HOME)

    assert _signed_out_to_login(response)
    assert SESSION_KEY not in client.session
    assert not UserSession.objects.filter(user=booking_agent).exists()
    page = client.get(response.url).content.decode()
    assert "signed out after 30 minutes without activity" in page


def test_a_session_in_use_stays_signed_in_and_its_activity_is_refreshed(
    client, booking_agent, settings
):
    settings.MEDWORKS_SESSION_IDLE_MINUTES = 30
    client.force_login(booking_agent)
    _shift(client, signed_in=3 * HOUR, seen=29 * MINUTE)

    assert client.get(STAFF_HOME).status_code == 200
    assert _now() - client.session[SEEN_AT] < MINUTE
    # 29 minutes later again: still within the limit, counted from the last request.
    _shift(client, seen=29 * MINUTE)
    assert client.get(STAFF_HOME).status_code == 200


def test_requests_within_a_minute_do_not_rewrite_the_session(client, booking_agent):
    client.force_login(booking_agent)
    client.get(STAFF_HOME)
    stored = UserSession.objects.get(user=booking_agent).session_data
    client.get(STAFF_HOME)
    assert UserSession.objects.get(user=booking_agent).session_data == stored


def test_a_session_older_than_the_absolute_lifetime_ends_even_when_in_use(
    client, booking_agent, settings
):
    settings.MEDWORKS_SESSION_MAX_HOURS = 12
    client.force_login(booking_agent)
    _shift(client, signed_in=12 * HOUR + 1, seen=10)

    response = client.get(STAFF_HOME)

    assert _signed_out_to_login(response)
    assert SESSION_KEY not in client.session
    assert "a session lasts at most 12 hours" in client.get(response.url).content.decode()


def test_just_under_the_absolute_lifetime_the_session_still_works(client, booking_agent):
    client.force_login(booking_agent)
    _shift(client, signed_in=12 * HOUR - MINUTE, seen=10)
    assert client.get(STAFF_HOME).status_code == 200


def test_an_expired_session_on_the_api_is_answered_401_not_a_redirect(client, insurer_user):
    client.force_login(insurer_user)
    assert client.get("/api/v1/booking-requests").status_code == 200
    _shift(client, signed_in=13 * HOUR, seen=10)
    assert client.get("/api/v1/booking-requests").status_code == 401


# --- settings from the environment ----------------------------------------------------------------


def test_the_limits_default_to_30_minutes_idle_and_12_hours_in_all():
    assert project_settings.MEDWORKS_SESSION_IDLE_MINUTES == 30
    assert project_settings.MEDWORKS_SESSION_MAX_HOURS == 12


@pytest.mark.parametrize("raw", ["half an hour", "0", "-5", "1.5"])
def test_a_bad_limit_in_the_environment_stops_start_up(monkeypatch, raw):
    monkeypatch.setenv("MEDWORKS_SESSION_IDLE_MINUTES", raw)
    with pytest.raises(ImproperlyConfigured, match="MEDWORKS_SESSION_IDLE_MINUTES"):
        env_int("MEDWORKS_SESSION_IDLE_MINUTES", 30, minimum=1)


def test_the_limits_are_read_from_the_environment_at_start_up(tmp_path):
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDWORKS_")}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="medworks.settings",
        MEDWORKS_DATA_DIR=str(tmp_path),
        PYTHONPATH=src,
        MEDWORKS_SESSION_IDLE_MINUTES="15",
        MEDWORKS_SESSION_MAX_HOURS="zero",
    )
    code = "import django; django.setup()"
    refused = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0
    assert "MEDWORKS_SESSION_MAX_HOURS must be a whole number, not 'zero'" in refused.stderr

    env["MEDWORKS_SESSION_MAX_HOURS"] = "4"
    code += "; from django.conf import settings as s"
    code += "; print(s.MEDWORKS_SESSION_IDLE_MINUTES, s.MEDWORKS_SESSION_MAX_HOURS)"
    started = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["15", "4"]
