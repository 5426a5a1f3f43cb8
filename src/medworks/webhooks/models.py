"""Webhook endpoints of insurers' systems, and the deliveries made to them (an outbox).

An endpoint belongs to one insurer: an HTTPS URL, the event kinds it wants, a signing secret
(sealed at rest, shown once), and a state (workflow.py). A delivery is one event for one
endpoint: a row written in the transaction of the change it tells, then sent by the worker
with retries, claimed with a conditional UPDATE (services.py), as the email outbox does.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class EndpointStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("webhook endpoint", "Active")  # receives its events
    PAUSED = "paused", _("Paused")  # turned off by staff or the insurer; nothing is queued
    DISABLED = "disabled", _("Disabled after failures")  # turned off by the desk: kept failing


class WebhookEndpoint(models.Model):
    insurer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("What receives it"), max_length=100, blank=True)
    # The CASE_EVENTS codes it wants (only kinds the insurer may see; services checks).
    event_kinds = models.JSONField(default=list)
    # Who is told when the desk disables the endpoint.
    contact_email = models.EmailField(_("Contact email"))
    status = models.CharField(
        max_length=16, choices=EndpointStatus.choices, default=EndpointStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The signing secret ("whsec_" + base64), sealed with the documents' key (never shown again).
    secret_sealed = models.BinaryField(editable=False)
    # After a rotation: the previous secret, which still signs until previous_secret_until.
    previous_secret_sealed = models.BinaryField(editable=False, default=b"", blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # Attempts failed in a row (any success resets it); the threshold disables the endpoint.
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["insurer__name", "created_at", "id"]

    def __str__(self) -> str:
        return f"webhook endpoint {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == EndpointStatus.ACTIVE

    @property
    def last_delivery_label(self) -> str:
        """The words of `last_delivery_status` (selectors.endpoints_with_last_delivery)."""
        status = getattr(self, "last_delivery_status", None)
        return str(DeliveryStatus(status).label) if status else ""


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")  # due at next_attempt_at
    SENDING = "sending", _("Being sent")  # claimed by one worker until next_attempt_at
    DELIVERED = "delivered", _("Delivered")  # the receiver answered 2xx
    FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")  # given up


class WebhookDelivery(models.Model):
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The event's id (webhook-id): the same on every attempt and every resend of this event.
    event_id = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=40)  # a CASE_EVENTS code, or "test"
    # The whole body sent (no patient data: services.py builds it from a closed list of keys).
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Pending: not before then. Sending: when the worker's claim lapses (it may have died).
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()  # no attempt starts after it
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)  # the class of a network error
    last_response = models.CharField(max_length=300, blank=True)  # its first few hundred bytes
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["endpoint", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"webhook delivery {self.pk} ({self.status})"
