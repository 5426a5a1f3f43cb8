"""Endpoints (create, change, rotate the secret, pause, resume) and deliveries (queue, send,
retry, sweep, resend, test): the contract is in README.md in this folder.

A delivery row is written in the transaction of the case event it tells (`deliveries_queue`,
called for each new BookingEvent: apps.py), and a task is enqueued once that transaction
commits. The row, not the task, is the truth: `webhook_delivery_deliver` claims it with a
conditional UPDATE, so two workers never send the same attempt, and `webhook_deliveries_sweep`
re-enqueues whatever is due, so a lost task or a killed worker loses nothing.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import socket
import ssl
import time
import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.accounts.models import Organisation, OrganisationKind
from medworks.accounts.permissions import Capability, actor_can
from medworks.bookings.events import CASE_EVENTS
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied
from medworks.notifications.services import email_queue

from . import signing
from .addresses import AddressRefused, Target, resolve_public, url_check
from .models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from .workflow import ENDPOINT_WORKFLOW

logger = logging.getLogger(__name__)

TEST_KIND = "test"
# Backoff between attempts: 30 s, 1, 2, 4 ... minutes, never more than this.
RETRY_CAP = dt.timedelta(hours=1)
# The sweep leaves a just-due delivery this long to its own task before enqueueing another.
SWEEP_GRACE = dt.timedelta(minutes=1)
SWEEP_BATCH = 500
RESPONSE_KEPT = 300  # bytes of the receiver's answer kept, to show staff what it said
USER_AGENT = "MedWorks-Webhooks/1"

_ADDRESS_MESSAGES = {
    "webhook_url_invalid": gettext_lazy(
        "Enter a full URL such as https://hooks.example.com/medworks."
    ),
    "webhook_url_not_https": gettext_lazy("The URL must start with https://."),
    "webhook_url_private": gettext_lazy(
        "The URL must point to a public address: loopback, link-local and private networks "
        "are refused."
    ),
    "webhook_host_unresolved": gettext_lazy("The URL's host name does not resolve."),
}


def claim_lease() -> dt.timedelta:
    """How long a claim holds: longer than an attempt can take (connect, send, read)."""
    return max(dt.timedelta(minutes=2), 3 * dt.timedelta(seconds=_timeout()))


def _timeout() -> int:
    return settings.MEDWORKS_WEBHOOKS_TIMEOUT_SECONDS


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 30 s, 1, 2, 4 ... minutes, capped."""
    return min(dt.timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), RETRY_CAP)


# --- What an endpoint may want ---------------------------------------------------------------


def wantable_kinds() -> list[tuple[str, str]]:
    """(code, insurer's words) of every case event kind the insurer's timeline may show."""
    return [
        (kind.code, kind.insurer_label({}) or str(kind.staff))
        for kind in CASE_EVENTS
        if kind.insurer is not None
    ]


def _may_manage(actor: Actor, insurer: Organisation) -> bool:
    if actor_can(actor, Capability.API_KEYS_MANAGE):
        return True
    return (
        actor_can(actor, Capability.INSURER_PORTAL)
        and actor.organisation_id_of_principal == insurer.pk
    )


def _require_may_manage(actor: Actor, insurer: Organisation) -> None:
    if not _may_manage(actor, insurer):
        raise PermissionDenied(
            "webhook_forbidden", _("You may not manage this insurer's webhook endpoints.")
        )


def _clean(*, url: str, event_kinds, contact_email: str, description: str) -> dict:
    url = (url or "").strip()
    description = (description or "").strip()
    contact_email = (contact_email or "").strip()
    refuse_card_numbers({"description": description, "url": url})
    try:
        url_check(url)
    except AddressRefused as exc:
        message = str(_ADDRESS_MESSAGES[exc.code])
        raise DomainError(exc.code, message, fields={"url": [message]}) from None
    if len(url) > 500:
        raise DomainError("webhook_url_invalid", _("At most 500 characters."), fields={"url": []})
    known = {code for code, _words in wantable_kinds()}
    kinds = sorted(set(event_kinds or []))
    if not kinds or set(kinds) - known:
        raise DomainError(
            "webhook_kinds_invalid",
            _("Choose at least one event."),
            fields={"event_kinds": [_("Choose at least one event.")]},
        )
    if not contact_email or "@" not in contact_email:
        raise DomainError(
            "webhook_contact_missing",
            _("Give an email address to tell if the endpoint is disabled."),
            fields={"contact_email": [_("Required.")]},
        )
    return {
        "url": url,
        "event_kinds": kinds,
        "contact_email": contact_email,
        "description": description[:100],
    }


# --- Endpoints ---------------------------------------------------------------------------------


def webhook_endpoint_create(
    *,
    insurer: Organisation,
    url: str,
    event_kinds: list[str],
    contact_email: str,
    description: str = "",
    actor: Actor,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint for an insurer's system. Returns it and its secret, shown this once."""
    _require_may_manage(actor, insurer)
    if insurer.kind != OrganisationKind.INSURER or not insurer.is_active:
        raise DomainError(
            "webhook_insurer_invalid",
            _("Webhooks are for active insurance partners."),
            fields={"insurer": [_("Choose an insurance partner.")]},
        )
    fields = _clean(
        url=url, event_kinds=event_kinds, contact_email=contact_email, description=description
    )
    secret = signing.secret_generate()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            insurer=insurer,
            secret_sealed=signing.secret_seal(secret),
            created_by=actor.user,
            **fields,
        )
        audit_record(
            actor=actor,
            action="webhook_endpoint.created",
            obj=endpoint,
            summary=f"webhook endpoint {endpoint.pk} for insurer {insurer.pk}",
            payload={"kinds": fields["event_kinds"]},
        )
    return endpoint, secret


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    event_kinds: list[str],
    contact_email: str,
    description: str = "",
    actor: Actor,
) -> WebhookEndpoint:
    _require_may_manage(actor, endpoint.insurer)
    fields = _clean(
        url=url, event_kinds=event_kinds, contact_email=contact_email, description=description
    )
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**fields)
        audit_record(
            actor=actor,
            action="webhook_endpoint.changed",
            obj=endpoint,
            summary=f"webhook endpoint {endpoint.pk} changed",
            payload={"kinds": fields["event_kinds"]},
        )
    endpoint.refresh_from_db()
    return endpoint


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint, actor: Actor) -> str:
    """A new secret (returned, shown once). The old one keeps signing beside it for
    MEDWORKS_WEBHOOKS_ROTATION_OVERLAP_HOURS, so the receiver can switch without a gap."""
    _require_may_manage(actor, endpoint.insurer)
    secret = signing.secret_generate()
    now = timezone.now()
    overlap = dt.timedelta(hours=settings.MEDWORKS_WEBHOOKS_ROTATION_OVERLAP_HOURS)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret_sealed = locked.secret_sealed if overlap else b""
        locked.previous_secret_until = now + overlap if overlap else None
        locked.secret_sealed = signing.secret_seal(secret)
        locked.secret_rotated_at = now
        locked.save(
            update_fields=[
                "previous_secret_sealed",
                "previous_secret_until",
                "secret_sealed",
                "secret_rotated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="webhook_endpoint.secret_rotated",
            obj=locked,
            summary=f"webhook endpoint {locked.pk}: secret rotated",
        )
    endpoint.refresh_from_db()
    return secret


def secrets_in_use(endpoint: WebhookEndpoint, *, now: dt.datetime | None = None) -> list[str]:
    """The secrets that sign now: the current one, and the previous one while it overlaps."""
    now = now or timezone.now()
    current = [signing.secret_unseal(endpoint.secret_sealed)]
    previous = bytes(endpoint.previous_secret_sealed or b"")
    if previous and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        current.append(signing.secret_unseal(previous))
    return current


def webhook_endpoint_step(*, endpoint: WebhookEndpoint, name: str, actor: Actor) -> WebhookEndpoint:
    """Pause or resume (workflow.py); resuming forgets the failures counted so far."""
    with transaction.atomic():
        locked = ENDPOINT_WORKFLOW.fire(record=endpoint, name=name, actor=actor)
        if name == "resume":
            WebhookEndpoint.objects.filter(pk=locked.pk).update(consecutive_failures=0)
    endpoint.refresh_from_db()
    return endpoint


# --- Queueing ----------------------------------------------------------------------------------


def event_payload(*, event_id: str, kind: str, at: dt.datetime, case) -> dict:
    """The whole body of a delivery: a closed list of keys, none of them about the patient.
    The receiver fetches the details from the API with its insurer's key."""
    path = reverse("api-v1:booking_request_detail", args=[case.order_id])
    return {
        "id": event_id,
        "type": kind,
        "timestamp": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "order_id": case.order_id,
            "insurer_reference": case.insurer_reference,
            "url": settings.MEDWORKS_BASE_URL.rstrip("/") + path,
        },
    }


def _new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def _delivery_create(*, endpoint: WebhookEndpoint, event_id: str, kind: str, payload: dict):
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        kind=kind,
        payload=payload,
        next_attempt_at=now,
        give_up_at=now + dt.timedelta(hours=settings.MEDWORKS_WEBHOOKS_GIVE_UP_HOURS),
        created_at=now,
    )
    # robust: a lost enqueue must not turn a committed change into an error; the sweep finds it.
    transaction.on_commit(partial(webhook_delivery_enqueue, delivery_id=delivery.pk), robust=True)
    return delivery


def deliveries_queue(*, event) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the case's insurer that wants this event, written
    in the caller's transaction (the event's). Events the insurer's timeline does not show
    (no insurer label, for this payload) are never sent."""
    kind = CASE_EVENTS.get(event.kind)
    if kind is None or kind.insurer_label(event.payload or {}) is None:
        return []
    case = event.request
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            insurer_id=case.insurer_id, status=EndpointStatus.ACTIVE
        )
        if event.kind in (endpoint.event_kinds or [])
    ]
    if not endpoints:
        return []
    event_id = _new_event_id()
    payload = event_payload(event_id=event_id, kind=event.kind, at=event.occurred_at, case=case)
    return [
        _delivery_create(endpoint=e, event_id=event_id, kind=event.kind, payload=payload)
        for e in endpoints
    ]


def webhook_test_send(*, endpoint: WebhookEndpoint, actor: Actor) -> WebhookDelivery:
    """Queue a "test" event to the endpoint (no case: data is empty), as a delivery."""
    _require_may_manage(actor, endpoint.insurer)
    if not endpoint.is_active:
        raise DomainError("webhook_endpoint_state", _("Resume the endpoint to send to it."))
    event_id = _new_event_id()
    payload = {
        "id": event_id,
        "type": TEST_KIND,
        "timestamp": timezone.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {},
    }
    with transaction.atomic():
        return _delivery_create(
            endpoint=endpoint, event_id=event_id, kind=TEST_KIND, payload=payload
        )


def webhook_delivery_resend(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send an event again: a new delivery with the same event id and body, so a receiver that
    already has it can drop it by its id."""
    endpoint = delivery.endpoint
    _require_may_manage(actor, endpoint.insurer)
    if not endpoint.is_active:
        raise DomainError("webhook_endpoint_state", _("Resume the endpoint to send to it."))
    with transaction.atomic():
        again = _delivery_create(
            endpoint=endpoint,
            event_id=delivery.event_id,
            kind=delivery.kind,
            payload=delivery.payload,
        )
        audit_record(
            actor=actor,
            action="webhook_delivery.resent",
            obj=again,
            summary=f"webhook delivery {delivery.pk} resent as {again.pk}",
        )
    return again


def webhook_delivery_enqueue(*, delivery_id: int, run_after: dt.datetime | None = None) -> None:
    from .tasks import deliver_webhook

    task = deliver_webhook.using(run_after=run_after) if run_after else deliver_webhook
    task.enqueue(delivery_id)


# --- Sending -----------------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address checked by addresses.resolve_public, not to a new lookup."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is verified for the URL's host name."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST once; (status, first bytes of the answer). Redirects are answers, never followed:
    http.client does not follow them. Raises AddressRefused, OSError, HTTPException."""
    target = resolve_public(url)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=_timeout())
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(RESPONSE_KEPT)
    finally:
        connection.close()


def delivery_body(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)


def _retryable(status: int | None) -> bool:
    """Timeouts and network errors (no status), 408, 429 and 5xx; other answers are final."""
    return status is None or status in {408, 429} or status >= 500


def webhook_delivery_deliver(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Make one attempt if it is due. Returns delivered, retry, failed or skipped.

    Safe to call any number of times for one delivery: only the call whose conditional UPDATE
    claims the row makes the attempt; the others find it done, claimed or not due, and skip.
    """
    clock = (lambda: now) if now is not None else timezone.now
    claimed_at = clock()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
        next_attempt_at__lte=claimed_at,
    ).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=claimed_at + claim_lease(),
        last_attempt_at=claimed_at,
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    # Writes below land only while this claim holds (nobody reclaimed a lapsed lease).
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.SENDING, attempts=delivery.attempts
    )
    if not endpoint.is_active:
        mine.update(status=DeliveryStatus.FAILED, last_error="endpoint not active")
        return "failed"
    if claimed_at > delivery.give_up_at:
        mine.update(status=DeliveryStatus.FAILED, last_error="gave up")
        return "failed"
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signing.signature_headers(
            secrets_in_use=secrets_in_use(endpoint),
            msg_id=delivery.event_id,
            body=body,
            at=timezone.now(),
        ),
    }
    status: int | None = None
    answer = b""
    error = ""
    refused = False
    started = time.monotonic()
    try:
        status, answer = _post(endpoint.url, body.encode(), headers)
    except AddressRefused as exc:
        refused, error = True, exc.code
    except (OSError, http.client.HTTPException) as exc:
        error = type(exc).__name__
    latency = int((time.monotonic() - started) * 1000)
    recorded = {
        "last_status_code": status,
        "last_latency_ms": latency,
        "last_error": error[:200],
        "last_response": answer.decode("utf-8", "replace")[:RESPONSE_KEPT],
    }
    if status is not None and 200 <= status < 300:
        mine.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), **recorded)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
        return "delivered"
    _endpoint_failed(endpoint, gone=status == 410)
    if refused or not _retryable(status) or clock() >= delivery.give_up_at:
        mine.update(status=DeliveryStatus.FAILED, **recorded)
        logger.warning("webhook delivery %s failed (%s)", delivery_id, status or error)
        return "failed"
    next_at = min(clock() + retry_delay(delivery.attempts), delivery.give_up_at)
    mine.update(status=DeliveryStatus.PENDING, next_attempt_at=next_at, **recorded)
    logger.info(
        "webhook delivery %s attempt %s failed (%s); next at %s",
        delivery_id,
        delivery.attempts,
        status or error,
        next_at.isoformat(),
    )
    try:
        webhook_delivery_enqueue(delivery_id=delivery_id, run_after=next_at)
    except Exception:  # the sweep picks the row up
        logger.warning("webhook delivery %s: retry not enqueued, left to the sweep", delivery_id)
    return "retry"


def _endpoint_failed(endpoint: WebhookEndpoint, *, gone: bool) -> None:
    """Count a failed attempt; a 410 Gone, or too many in a row, disables the endpoint and
    emails its contact."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "status"])
    too_many = endpoint.consecutive_failures >= settings.MEDWORKS_WEBHOOKS_DISABLE_AFTER
    if not (gone or too_many) or not endpoint.is_active:
        return
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if not locked.is_active:  # another worker disabled it first
            return
        ENDPOINT_WORKFLOW.fire(
            record=locked,
            name="disable",
            actor=Actor.system("webhooks"),
            payload={"reason": "gone" if gone else "failures"},
        )
        insurer = locked.insurer
        email_queue(
            to=[locked.contact_email],
            template="webhook_endpoint_disabled",
            language=insurer.correspondence_language,
            context={
                "insurer": insurer.name,
                "url": locked.url,
                "gone": gone,
                "failures": locked.consecutive_failures,
                "portal_url": settings.MEDWORKS_BASE_URL.rstrip("/")
                + reverse("web:portal_webhooks"),
            },
            related=locked,
        )
    logger.warning("webhook endpoint %s disabled (%s)", endpoint.pk, "gone" if gone else "failures")


def webhook_deliveries_sweep(*, now: dt.datetime | None = None) -> int:
    """Enqueue every delivery due for more than a minute: a lost enqueue, a worker that died
    with a claim. Run periodically by `medworks worker` (MEDWORKS_PERIODIC_JOBS)."""
    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
            next_attempt_at__lte=now - SWEEP_GRACE,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        webhook_delivery_enqueue(delivery_id=pk)
    return len(due)
