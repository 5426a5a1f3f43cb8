"""The worker fetches the mailbox on its own cadence; the settings that say where it is."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from medworks.bookings.models import BookingRequest
from medworks.mailbox.services import mailbox_fetch_scheduled
from medworks.notifications.models import OutboxMessage, OutboxStatus

from .conftest import message

FETCH_JOB = "medworks.mailbox.services.mailbox_fetch_scheduled"


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_mail_fetch_and_delivers_what_it_queued(mailbox, maple, settings):
    settings.MEDWORKS_SCHEDULED_JOBS = [(FETCH_JOB, 60)]
    mailbox.deliver(message("plain.eml"))

    call_command("worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=0)

    case = BookingRequest.objects.get()
    assert case.channel == "email"
    assert mailbox.unseen() == []
    # The emails the new case queued were delivered by the same batch.
    assert OutboxMessage.objects.exists()
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_the_scheduled_fetch_is_quiet_when_off_and_logs_one_line_when_it_fails(
    db, settings, caplog
):
    settings.MEDWORKS_IMAP_HOST = ""
    assert mailbox_fetch_scheduled() is None

    settings.MEDWORKS_IMAP_HOST, settings.MEDWORKS_IMAP_PORT = "127.0.0.1", 9
    settings.MEDWORKS_IMAP_USER, settings.MEDWORKS_IMAP_TLS = "x", "none"
    with caplog.at_level("WARNING", logger="medworks.mailbox"):
        assert mailbox_fetch_scheduled() is None
    assert "mail fetch failed: Cannot reach the mailbox at 127.0.0.1:9" in caplog.text


def _settings(**env) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MEDWORKS_IMAP_")}
    base.pop("MEDWORKS_ENV", None)
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='medworks.settings';"
        "from django.conf import settings as s;"
        "print(s.MEDWORKS_IMAP_TLS, s.MEDWORKS_IMAP_PORT, s.MEDWORKS_SCHEDULED_JOBS)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )
    return (done.stdout + done.stderr).strip()


def test_the_imap_settings_default_to_tls_and_refuse_what_would_leak_the_password():
    assert _settings() == "ssl 993 []"
    assert (
        _settings(
            MEDWORKS_IMAP_HOST="imap.example.com",
            MEDWORKS_IMAP_USER="bookings",
            MEDWORKS_IMAP_TLS="starttls",
            MEDWORKS_IMAP_POLL_SECONDS="120",
        )
        == f"starttls 143 [('{FETCH_JOB}', 120)]"
    )
    assert "MEDWORKS_IMAP_TLS must be ssl, starttls or none" in _settings(MEDWORKS_IMAP_TLS="tls")
    assert "sends the mailbox password in clear" in _settings(
        MEDWORKS_ENV="production",
        SECRET_KEY="x" * 50,
        MEDWORKS_DOCUMENT_KEY="A" * 43 + "=",
        MEDWORKS_CARD_KEYS="k1:" + "B" * 43 + "=",
        MEDWORKS_IMAP_HOST="imap.example.com",
        MEDWORKS_IMAP_USER="bookings",
        MEDWORKS_IMAP_TLS="none",
    )
