"""Delivery through a real SMTP server: sent once, retried with backoff, never lost."""

import datetime as dt

import icalendar
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from medworks.notifications.models import OutboxMessage, OutboxStatus
from medworks.notifications.services import (
    CLAIM_LEASE,
    email_queue,
    outbox_message_deliver,
    outbox_sweep,
    retry_delay,
)
from medworks.notifications.tasks import deliver_outbox_message

TASK_PATH = "medworks.notifications.tasks.deliver_outbox_message"


def _queue(to="adjuster@maple-assist.example", **context) -> OutboxMessage:
    return email_queue(
        to=[to], template="results_direct", context={"order_id": "MW-2026-000042", **context}
    )


def _tasks_for(message) -> list[DBTaskResult]:
    return [
        t
        for t in DBTaskResult.objects.filter(task_path=TASK_PATH)
        if t.args_kwargs["args"] == [message.pk]
    ]


def test_a_booking_confirmation_arrives_by_smtp_with_its_calendar_file(booked, smtp_server):
    case, appointment = booked
    message = OutboxMessage.objects.get(template="insurer_booked")
    assert outbox_message_deliver(message_id=message.pk) == "sent"
    (received,) = smtp_server.received
    assert received.rcpt_tos == [case.insurer_contact_email]
    assert received.subject == f"Booked: {case.order_id} (your reference {case.insurer_reference})"
    assert "The appointment for order" in received.body
    assert received.message["Message-ID"] == f"<outbox-{message.pk}@medworks.example>"
    assert received.message["Auto-Submitted"] == "auto-generated"
    (event,) = icalendar.Calendar.from_ical(received.attachment("appointment.ics")).walk("VEVENT")
    assert event.decoded("DTSTART") == appointment.starts_at
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert message.sent_at is not None


def test_a_french_email_arrives_in_french(db, smtp_server):
    message = email_queue(
        to=["patient@example.com"],
        template="results_direct",
        language="fr",
        context={"order_id": "MW-2026-000042", "insurer_reference": "CLM-1"},
    )
    outbox_message_deliver(message_id=message.pk)
    (received,) = smtp_server.received
    assert received.subject == "Les résultats de MW-2026-000042 vont directement au patient"
    assert "la clinique communiquera les résultats" in received.body
    assert received.message["Content-Language"] == "fr"


def test_a_message_enqueued_twice_is_sent_once(db, smtp_server):
    message = _queue()
    assert deliver_outbox_message.call(message.pk) == "sent"
    assert deliver_outbox_message.call(message.pk) == "skipped"
    assert len(smtp_server.received) == 1


def test_delivery_is_enqueued_only_once_the_writing_transaction_commits(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = _queue()
    assert _tasks_for(message) == []  # not committed yet: nothing to deliver
    for callback in callbacks:
        callback()
    (task,) = _tasks_for(message)
    assert task.status == "READY"


def test_an_smtp_outage_keeps_the_message_with_backoff_and_it_is_delivered_once_when_back(
    db, smtp_server
):
    message = _queue()
    smtp_server.stop()
    start = timezone.now()

    assert outbox_message_deliver(message_id=message.pk, now=start) == "retry"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.next_attempt_at == start + dt.timedelta(minutes=1)
    assert message.last_error.startswith("ConnectionRefusedError")
    (retry,) = _tasks_for(message)
    assert retry.run_after == message.next_attempt_at  # re-enqueued for then

    # Not due yet: a second task for the same message does nothing.
    assert outbox_message_deliver(message_id=message.pk, now=start) == "skipped"

    later = start + dt.timedelta(minutes=1)
    assert outbox_message_deliver(message_id=message.pk, now=later) == "retry"
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.next_attempt_at == later + dt.timedelta(minutes=2)

    smtp_server.start()
    back = later + dt.timedelta(minutes=2)
    assert outbox_message_deliver(message_id=message.pk, now=back) == "sent"
    assert outbox_message_deliver(message_id=message.pk, now=back) == "skipped"
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 3, "")


def test_backoff_doubles_from_one_minute_and_is_capped_at_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


def test_after_the_last_attempt_the_message_is_given_up_as_failed(db, smtp_server, settings):
    settings.MEDWORKS_EMAIL_MAX_ATTEMPTS = 2
    message = _queue()
    smtp_server.stop()
    now = timezone.now()
    assert outbox_message_deliver(message_id=message.pk, now=now) == "retry"
    now += dt.timedelta(minutes=1)
    assert outbox_message_deliver(message_id=message.pk, now=now) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 2)
    smtp_server.start()
    assert outbox_message_deliver(message_id=message.pk, now=now + dt.timedelta(hours=1)) == (
        "skipped"
    )
    assert smtp_server.received == []


def test_an_address_the_server_refuses_for_good_fails_at_once(db, smtp_server):
    smtp_server.collector.refuse.add("gone@example.com")
    message = _queue(to="gone@example.com")
    assert outbox_message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.attempts == 1
    assert "SMTPRecipientsRefused" in message.last_error


def test_a_message_left_sending_by_a_crashed_worker_is_reclaimed_after_the_lease(db, smtp_server):
    message = _queue()
    now = timezone.now()
    # A worker claimed it and died: 'sending', its claim running until now + lease.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING, attempts=1, next_attempt_at=now + CLAIM_LEASE
    )
    assert outbox_message_deliver(message_id=message.pk, now=now) == "skipped"
    assert outbox_message_deliver(message_id=message.pk, now=now + CLAIM_LEASE) == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert len(smtp_server.received) == 1


def test_the_sweep_enqueues_due_messages_whose_task_was_lost_and_nothing_else(db):
    now = timezone.now()
    lost = _queue()  # in a test transaction: its on-commit enqueue never ran
    waiting = _queue()
    sent = _queue()
    OutboxMessage.objects.filter(pk=waiting.pk).update(
        next_attempt_at=now + dt.timedelta(minutes=5)
    )
    OutboxMessage.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)

    assert outbox_sweep(now=now) == 0  # just written: its own task gets a minute first
    assert outbox_sweep(now=now + dt.timedelta(minutes=2)) == 1
    assert len(_tasks_for(lost)) == 1
    assert _tasks_for(waiting) == [] and _tasks_for(sent) == []


def test_a_message_with_no_recipient_fails_at_once_instead_of_retrying(db, smtp_server):
    message = _queue(to="")
    assert message.to == []
    assert outbox_message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert smtp_server.received == []
