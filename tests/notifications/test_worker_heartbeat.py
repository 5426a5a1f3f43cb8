"""The worker's heartbeat: the real `medworks worker` loop keeps its row (hostname:pid), which
/healthz reads; rows of workers that died long ago are pruned by the workers themselves."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from medworks.notifications.heartbeats import worker_heartbeat_name
from medworks.notifications.models import OutboxMessage, OutboxStatus, WorkerHeartbeat

# The worker's loop closes the connection between tasks, as requests do: a test transaction
# would not survive it on PostgreSQL (as tests/notifications/test_worker.py).
pytestmark = pytest.mark.django_db(transaction=True)

NAME = f"{socket.gethostname()}:{os.getpid()}"


def _worker(*args: str) -> None:
    call_command("worker", "--no-startup-delay", "--interval=0", *args, verbosity=0)


def test_the_heartbeat_is_named_after_the_host_and_the_process():
    assert worker_heartbeat_name() == NAME


def test_a_batch_run_writes_its_sweep_and_its_claim(settings):
    settings.MEDWORKS_PERIODIC_JOBS = ["medworks.notifications.services.outbox_sweep"]
    message = OutboxMessage.objects.create(
        to=["desk@clinic.example"], subject="Hello", body="Text", template="test"
    )
    from medworks.notifications.tasks import deliver_outbox_message

    deliver_outbox_message.enqueue(message_id=message.pk)
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    before = timezone.now()

    _worker("--batch")

    heartbeat = WorkerHeartbeat.objects.get()
    assert heartbeat.name == NAME
    assert before <= heartbeat.started_at <= heartbeat.last_swept_at <= timezone.now()
    # It claimed and ran the task: the email went, and the claim is recorded after the sweep.
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and len(mail.outbox) == 1
    assert heartbeat.last_claimed_at is not None
    assert heartbeat.last_claimed_at >= heartbeat.last_swept_at


def test_a_second_run_of_the_same_process_updates_its_row_not_a_new_one(settings):
    settings.MEDWORKS_PERIODIC_JOBS = []
    _worker("--batch")
    first = WorkerHeartbeat.objects.get()
    _worker("--batch")
    again = WorkerHeartbeat.objects.get()
    assert again.pk == first.pk
    assert again.last_swept_at > first.last_swept_at
    # Nothing to run: no claim written.
    assert again.last_claimed_at is None


def test_a_worker_leaving_the_periodic_jobs_to_others_writes_no_sweep():
    _worker("--batch", "--no-periodic")
    heartbeat = WorkerHeartbeat.objects.get(name=NAME)
    assert heartbeat.last_swept_at is None and heartbeat.last_claimed_at is None


def test_a_worker_that_stops_properly_takes_its_row_away():
    message = OutboxMessage.objects.create(
        to=["desk@clinic.example"], subject="Hello", body="Text", template="test"
    )
    from medworks.notifications.tasks import deliver_outbox_message

    deliver_outbox_message.enqueue(message_id=message.pk)
    # A long-running worker (not --batch), stopped after one task.
    _worker("--no-periodic", "--max-tasks=1")
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert not WorkerHeartbeat.objects.filter(name=NAME).exists()


def test_rows_of_workers_silent_for_a_day_are_pruned_and_recent_ones_kept(settings):
    settings.MEDWORKS_PERIODIC_JOBS = []
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        name="gone:1",
        started_at=now - dt.timedelta(days=3),
        last_claimed_at=now - dt.timedelta(days=2),
        last_swept_at=now - dt.timedelta(hours=25),
    )
    WorkerHeartbeat.objects.create(name="never-beat:2", started_at=now - dt.timedelta(days=2))
    WorkerHeartbeat.objects.create(
        name="died-this-morning:3",
        started_at=now - dt.timedelta(days=3),
        last_swept_at=now - dt.timedelta(hours=2),
    )
    _worker("--batch")
    assert set(WorkerHeartbeat.objects.values_list("name", flat=True)) == {
        "died-this-morning:3",
        NAME,
    }


def test_each_pass_of_the_loop_writes_at_most_one_update(django_assert_max_num_queries):
    """The claim costs one UPDATE per task, whatever else the task does."""
    from medworks.notifications.heartbeats import (
        worker_heartbeat_claimed,
        worker_heartbeat_register,
    )

    worker_heartbeat_register(name=NAME)
    with django_assert_max_num_queries(1):
        worker_heartbeat_claimed(name=NAME)
    assert WorkerHeartbeat.objects.get(name=NAME).last_claimed_at is not None
