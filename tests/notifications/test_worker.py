"""`medworks worker`: the django-tasks database backend for real, plus the periodic jobs."""

import logging
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from medworks.bookings import services
from medworks.notifications.management.commands.worker import run_periodic_jobs
from medworks.notifications.models import OutboxMessage, OutboxStatus
from tests import factories
from tests.factories import act


def _run_worker_batch():
    call_command("worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_a_booking_is_delivered_by_the_worker_through_the_task_queue_exactly_once(
    smtp_server, insurer_user, booking_agent, clinic_location
):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=1)], actor=act(booking_agent)
    )
    services.availability_offer_approve(slot=offer.slots.get(), actor=act(insurer_user))
    queued = OutboxMessage.objects.count()
    # Each committed use case enqueued one task per message in the database backend.
    assert DBTaskResult.objects.filter(status="READY").count() == queued
    assert smtp_server.received == []

    _run_worker_batch()

    # The batch ran the periodic jobs first: tomorrow's appointment got its two reminders,
    # and those were delivered in the same batch.
    assert OutboxMessage.objects.count() == queued + 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    subjects = [r.subject for r in smtp_server.received]
    assert len(subjects) == queued + 2
    assert f"Booked: {case.order_id} (your reference {case.insurer_reference})" in subjects
    assert any(s.startswith("Reminder: your appointment tomorrow") for s in subjects)
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists()

    _run_worker_batch()  # a second run (and its sweep) sends nothing again
    assert len(smtp_server.received) == queued + 2


def test_a_failing_periodic_job_does_not_stop_the_others_and_logs_no_details(db, settings, caplog):
    settings.MEDWORKS_PERIODIC_JOBS = [
        "medworks.notifications.tests_missing.job",
        "medworks.notifications.services.outbox_sweep",
    ]
    with caplog.at_level(logging.ERROR, logger="medworks.worker"):
        results = run_periodic_jobs()
    assert results == {
        "medworks.notifications.tests_missing.job": None,
        "medworks.notifications.services.outbox_sweep": 0,
    }
    assert "periodic job medworks.notifications.tests_missing.job failed" in caplog.text


def _settings_in_subprocess(**env) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    base.pop("MEDWORKS_ENV", None)
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='medworks.settings';"
        "from django.conf import settings as s;"
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL,"
        " s.EMAIL_TIMEOUT)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
    )
    return (done.stdout + done.stderr).strip()


def test_mail_is_written_to_files_in_development_and_sent_by_smtp_once_a_host_is_set():
    assert _settings_in_subprocess().startswith("django.core.mail.backends.filebased.EmailBackend ")
    assert _settings_in_subprocess(
        EMAIL_HOST="smtp.example.com", EMAIL_PORT="465", EMAIL_TIMEOUT="12"
    ) == ("django.core.mail.backends.smtp.EmailBackend smtp.example.com 465 False True 12")
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive" in _settings_in_subprocess(
        EMAIL_HOST="smtp.example.com", EMAIL_USE_TLS="true", EMAIL_USE_SSL="true"
    )
