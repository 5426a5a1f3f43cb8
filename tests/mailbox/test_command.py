"""`medworks fetch-mail`: one pass, one line; one line on stderr and exit 2 when it cannot."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .conftest import message


def fetch_mail() -> str:
    from io import StringIO

    out = StringIO()
    call_command("fetch_mail", stdout=out)
    return out.getvalue()


def test_the_command_prints_one_summary_line(mailbox, insurers):
    for name in ["plain.eml", "french-latin1.eml", "malformed.eml"]:
        mailbox.deliver(message(name))

    assert fetch_mail() == (
        "1 new cases, 0 filed on cases, 2 waiting for an agent, 0 already seen.\n"
    )
    mailbox.deliver(message("plain.eml"))
    assert fetch_mail() == (
        "0 new cases, 0 filed on cases, 0 waiting for an agent, 1 already seen.\n"
    )


def test_a_wrong_password_exits_2_with_one_line(mailbox, settings):
    settings.MEDWORKS_IMAP_PASSWORD = "not-the-password"

    with pytest.raises(CommandError) as failed:
        fetch_mail()

    assert failed.value.returncode == 2
    assert "refused the login" in str(failed.value)


def test_an_unreachable_server_exits_2(db, settings):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MEDWORKS_IMAP_HOST, settings.MEDWORKS_IMAP_PORT = "127.0.0.1", port
    settings.MEDWORKS_IMAP_USER, settings.MEDWORKS_IMAP_TLS = "x", "none"

    with pytest.raises(CommandError) as failed:
        fetch_mail()

    assert failed.value.returncode == 2
    assert f"Cannot reach the mailbox at 127.0.0.1:{port}" in str(failed.value)


def test_with_no_mailbox_configured_fetching_is_off(db, settings):
    settings.MEDWORKS_IMAP_HOST = ""

    with pytest.raises(CommandError) as off:
        fetch_mail()

    assert off.value.returncode == 2
    assert str(off.value) == "Fetching mail is off: MEDWORKS_IMAP_HOST is not set."


def test_from_the_shell_a_wrong_password_is_one_line_on_stderr_and_no_traceback(
    imap_server, tmp_path
):
    """The real `medworks fetch-mail` process, as an operator runs it."""
    import os
    from pathlib import Path

    env = {
        **os.environ,
        "MEDWORKS_DATA_DIR": str(tmp_path),
        "MEDWORKS_IMAP_HOST": imap_server.host,
        "MEDWORKS_IMAP_PORT": str(imap_server.port),
        "MEDWORKS_IMAP_USER": imap_server.user,
        "MEDWORKS_IMAP_PASSWORD": "wrong",
        "MEDWORKS_IMAP_TLS": "none",
    }
    env.pop("DATABASE_URL", None)  # the login fails before any database is read
    medworks = Path(sys.executable).with_name("medworks")

    done = subprocess.run(
        [str(medworks), "fetch-mail"], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the login" in lines[0]
    assert "Traceback" not in done.stderr
