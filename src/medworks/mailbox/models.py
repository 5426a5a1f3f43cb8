"""Messages read from the booking team's mailbox (SOP case 1 step 1), one row each.

An InboundEmail is written in the same transaction as what it became (a received case, a
timeline entry on the case it answers, or a place in the agents' list), so a message is never
half handled; the IMAP \\Seen flag is set only after that commit (services.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundStatus(models.TextChoices):
    NEW = "new", _("New")  # being read: only ever seen inside the fetch's transaction
    CASE_CREATED = "case_created", _("Case created")  # became a received case
    FILED = "filed", _("Filed on its case")  # a reply, filed on the case its subject names
    NEEDS_AGENT = "needs_agent", _("Waiting for an agent")  # malformed, incomplete or refused
    DISMISSED = "dismissed", _("Dismissed")  # set aside by an agent, or the desk's own mail


class InboundEmail(models.Model):
    """One message of the mailbox: the original kept (encrypted), what was read from it, and
    what it became. Status changes only through MAILBOX_WORKFLOW (workflow.py), from services.py."""

    # The Message-ID header (its angle brackets kept), or "sha256:<hex>" of the raw bytes for a
    # message without one (or with one longer than this field): a message read twice is one row.
    message_id = models.CharField(max_length=255, unique=True)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)  # card numbers left out
    subject = models.CharField(max_length=500, blank=True)  # card numbers masked
    received_at = models.DateTimeField(default=timezone.now)
    # The original message, sealed with the documents' key (AES-256-GCM): it holds patient
    # information and, now and then, a card number (RULES.md). Read with selectors.raw_of().
    raw_sealed = models.BinaryField(editable=False)
    raw_sha256 = models.CharField(max_length=64)
    raw_size = models.PositiveIntegerField(default=0)
    # What the intake reader proposed (bookings.intake.IntakeGuess: the form's initial values,
    # the sender's domain, the last four digits of any card number), for the record.
    guess = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=InboundStatus.choices, default=InboundStatus.NEW
    )
    # Why it waits for an agent: [{"code": "incomplete", "fields": [...]}, ...] (reasons.py
    # words them in the reader's language).
    reasons = models.JSONField(default=list, blank=True)
    holds_card_number = models.BooleanField(default=False)
    # The case it made or was filed on (or, for a waiting reply, the case its subject names).
    case = models.ForeignKey(
        "bookings.BookingRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_emails",
    )
    # The agent who made its case from the intake page, or dismissed it.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"Inbound email {self.pk}"  # never the sender or subject: __str__ reaches logs
