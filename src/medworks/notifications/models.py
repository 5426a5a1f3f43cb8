"""The email outbox: a message is a row written in the same transaction as what caused it.

A worker delivers rows (with retries and backoff), so a crash or an SMTP outage neither loses
nor duplicates mail: a row is claimed with a conditional UPDATE before it is sent.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")  # claimed by one worker
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up after retries")


class OutboxMessage(models.Model):
    to = models.JSONField()  # list of addresses
    subject = models.CharField(max_length=255)
    body = models.TextField()
    language = models.CharField(max_length=2, default="en")
    template = models.CharField(max_length=100)  # which event produced it
    # (filename, mimetype, text content): ICS calendar files and other small attachments; or
    # (filename, mimetype, {"source", "ref"}): bytes kept elsewhere, read at send time
    # (services.ATTACHMENT_SOURCES: the order PDF, stored once with the case's documents).
    attachments = models.JSONField(default=list, blank=True)
    # The case it concerns, as a plain id so notifications depends on no domain app.
    related_type = models.CharField(max_length=64, blank=True)
    related_id = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    # Pending: not before then. Sending: when the worker's claim lapses (it may have died).
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.template} #{self.pk} ({self.status})"


class WorkerHeartbeat(models.Model):
    """One row per `medworks worker` process, written by its own loop (notifications/heartbeats.py).

    /healthz counts the workers whose last claim or sweep is recent. A worker that stops
    properly deletes its row; the row of one that died stays, reported stale, until a worker
    prunes it a day later.
    """

    name = models.CharField(max_length=255, unique=True)  # hostname:pid
    started_at = models.DateTimeField(default=timezone.now)
    # The last time it claimed and ran a task.
    last_claimed_at = models.DateTimeField(null=True, blank=True)
    # The last time it ran the periodic jobs (MEDWORKS_PERIODIC_JOBS).
    last_swept_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
