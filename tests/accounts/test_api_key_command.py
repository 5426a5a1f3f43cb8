"""`medworks api-key create|revoke`: the secret printed once, bad input in one line, status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from medworks.accounts.models import ApiKey, OrganisationKind
from medworks.accounts.services import api_key_authenticate, api_key_create
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

MEDWORKS = Path(sys.executable).with_name("medworks")


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_create_prints_the_secret_alone_on_stdout(insurer_user):
    out, err = run("create", "--organisation", "maple assist", "--name", "Claims system")

    secret = out.strip()
    assert len(out.splitlines()) == 1
    client = api_key_authenticate(secret=secret)
    assert client.organisation == insurer_user.organisation
    key = ApiKey.objects.get()
    assert key.name == "Claims system" and key.created_by is None
    assert f"API key {key.prefix} for Maple Assist" in err
    assert "shown only this once" in err
    assert secret not in err
    assert AuditEvent.objects.filter(action="api_key.created").count() == 1


@pytest.mark.django_db
def test_revoke_by_prefix_stops_the_key(insurer_user):
    key, secret = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    out, _ = run("revoke", key.prefix)
    assert out.strip() == f"Revoked API key {key.prefix} of Maple Assist."
    assert api_key_authenticate(secret=secret) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--organisation", "Nobody Here", "--name", "x"], "No organisation called"),
        (["create", "--organisation", "Harbour Clinic", "--name", "x"], "not an insurance partner"),
        (["create", "--organisation", "Maple Assist", "--name", " "], "Name the key"),
        (["revoke", "zzzzzzzz"], "No API key"),
    ],
)
def test_bad_input_fails_with_status_2(insurer_user, clinic_user, args, message):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert message in str(caught.value)
    assert not ApiKey.objects.exists()


@pytest.mark.django_db
def test_revoking_a_revoked_key_fails_with_status_2(insurer_user):
    key, _ = api_key_create(organisation=insurer_user.organisation, name="x", actor=act(None))
    run("revoke", key.prefix)
    with pytest.raises(CommandError) as caught:
        run("revoke", key.prefix)
    assert caught.value.returncode == 2
    assert "already revoked" in str(caught.value)


def test_the_console_script_says_what_is_wrong_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="medworks.settings")
    subprocess.run([str(MEDWORKS), "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    result = subprocess.run(
        [str(MEDWORKS), "api-key", "create", "--organisation", "Nobody", "--name", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["CommandError: No organisation called 'Nobody'."]
    assert result.stdout == ""


@pytest.mark.django_db
def test_an_organisation_name_is_matched_whatever_its_case(db):
    factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Travel Cover")
    out, _ = run("create", "--organisation", "BIRCH TRAVEL COVER", "--name", "x")
    assert ApiKey.objects.get().organisation.name == "Birch Travel Cover"
    assert out.strip()
