"""Deliveries to a real receiver: signed the Standard Webhooks way, retried with the same id,
given up on final answers, disabling an endpoint that keeps failing, losing nothing when a
worker dies, signing with both secrets while a rotation overlaps, and never to a private
address outside tests."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from medworks.accounts.models import RoleCode
from medworks.bookings import services as bookings
from medworks.core.errors import DomainError
from medworks.notifications.models import OutboxMessage
from medworks.webhooks import services
from medworks.webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery
from tests import factories
from tests.factories import act

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def _submitted(insurer):
    return factories.make_booking_request(insurer=insurer)


def _only_delivery() -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.all()
    return delivery


def _deliver(delivery, *, now=None) -> str:
    return services.webhook_delivery_deliver(delivery_id=delivery.pk, now=now)


def test_a_received_request_is_delivered_signed_and_the_standardwebhooks_verifier_accepts_it(
    insurer, endpoint, receiver
):
    endpoint, secret = endpoint
    case = _submitted(insurer)
    delivery = _only_delivery()
    assert (delivery.kind, delivery.status) == ("created", DeliveryStatus.PENDING)

    assert _deliver(delivery) == "delivered"

    (request,) = receiver.received
    assert request.path == "/hooks/medworks"
    assert request.headers["content-type"] == "application/json"
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload == {
        "id": delivery.event_id,
        "type": "created",
        "timestamp": payload["timestamp"],
        "data": {
            "order_id": case.order_id,
            "insurer_reference": case.insurer_reference,
            "url": f"https://desk.medworks.example/api/v1/booking-requests/{case.order_id}",
        },
    }
    assert request.id == delivery.event_id == payload["id"]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code) == (1, 200)
    assert delivery.last_latency_ms is not None and delivery.last_response == "ok"
    # Another secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(services.signing.secret_generate()).verify(request.body, request.headers)


def test_staff_only_events_and_kinds_the_endpoint_does_not_want_are_not_delivered(
    insurer, insurer_admin, receiver, booking_agent
):
    make_endpoint(
        insurer=insurer, actor_user=insurer_admin, url=receiver.url, kinds=["approve_date"]
    )
    case = _submitted(insurer)  # "created": not wanted
    bookings.booking_request_assign(case=case, owner=booking_agent, actor=act(booking_agent))
    assert case.events.filter(kind="assigned").exists()  # staff only: never sent
    assert not WebhookDelivery.objects.exists()


def test_another_insurers_endpoint_gets_nothing_and_a_paused_one_neither(
    insurer, insurer_admin, endpoint, receiver
):
    endpoint, _secret = endpoint
    other = factories.make_organisation(name="Other Insurer")
    _submitted(other)
    assert not WebhookDelivery.objects.exists()
    services.webhook_endpoint_step(endpoint=endpoint, name="pause", actor=act(insurer_admin))
    _submitted(insurer)
    assert not WebhookDelivery.objects.exists()


def test_a_receiver_that_fails_twice_then_succeeds_gets_each_attempt_once_with_the_same_id(
    insurer, endpoint, receiver
):
    receiver.script = [500, 503]
    _submitted(insurer)
    delivery = _only_delivery()
    start = timezone.now()

    assert _deliver(delivery, now=start) == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == start + dt.timedelta(seconds=30)
    # Re-enqueued for then; a task coming early does nothing.
    assert DBTaskResult.objects.filter(run_after=delivery.next_attempt_at).count() == 1
    assert _deliver(delivery, now=start) == "skipped"

    later = start + dt.timedelta(seconds=30)
    assert _deliver(delivery, now=later) == "retry"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later + dt.timedelta(minutes=1)

    assert _deliver(delivery, now=later + dt.timedelta(minutes=1)) == "delivered"
    assert _deliver(delivery, now=later + dt.timedelta(hours=1)) == "skipped"  # never twice
    assert [r.id for r in receiver.received] == [delivery.event_id] * 3
    assert len({r.body for r in receiver.received}) == 1  # the same event each time
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert delivery.endpoint.consecutive_failures == 0


@pytest.mark.parametrize("status", [408, 429, 502])
def test_timeouts_throttling_and_server_errors_are_retried(insurer, endpoint, receiver, status):
    receiver.script = [status]
    _submitted(insurer)
    assert _deliver(_only_delivery()) == "retry"


@pytest.mark.parametrize("status", [400, 401, 404, 302])
def test_other_client_errors_and_redirects_fail_at_once_and_redirects_are_not_followed(
    insurer, endpoint, receiver, status
):
    receiver.script = [status]
    receiver.extra_headers = {"Location": "http://127.0.0.1:1/elsewhere"}
    _submitted(insurer)
    delivery = _only_delivery()
    assert _deliver(delivery) == "failed"
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.FAILED, status)


def test_a_network_error_is_retried_and_given_up_after_a_day(insurer, insurer_admin, db):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make_endpoint(insurer=insurer, actor_user=insurer_admin, url=f"http://127.0.0.1:{port}/")
    _submitted(insurer)
    delivery = _only_delivery()
    assert _deliver(delivery) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error == "ConnectionRefusedError"
    assert delivery.last_status_code is None
    past_a_day = delivery.give_up_at + dt.timedelta(seconds=1)
    assert _deliver(delivery, now=past_a_day) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_a_410_gone_disables_the_endpoint_and_emails_its_contact(insurer, endpoint, receiver):
    endpoint, _secret = endpoint
    receiver.script = [410]
    _submitted(insurer)
    assert _deliver(_only_delivery()) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED
    (email,) = OutboxMessage.objects.filter(template="webhook_endpoint_disabled")
    assert email.to == ["it@maple-assist.example"]
    assert "410 Gone" in email.body and endpoint.url in email.body
    # Nothing more is queued for a disabled endpoint.
    _submitted(insurer)
    assert WebhookDelivery.objects.count() == 1


def test_repeated_failures_disable_the_endpoint_after_the_threshold(
    insurer, insurer_admin, endpoint, receiver, settings
):
    settings.MEDWORKS_WEBHOOKS_DISABLE_AFTER = 3
    endpoint, _secret = endpoint
    receiver.then = 500
    _submitted(insurer)
    delivery = _only_delivery()
    now = timezone.now()
    for _ in range(2):
        assert _deliver(delivery, now=now) == "retry"
        now += dt.timedelta(hours=1)
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.ACTIVE
    assert _deliver(delivery, now=now) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.status == EndpointStatus.DISABLED
    assert OutboxMessage.objects.filter(template="webhook_endpoint_disabled").count() == 1
    # Its pending delivery is given up at its next attempt, not sent.
    assert _deliver(delivery, now=now + dt.timedelta(hours=1)) == "failed"
    assert len(receiver.received) == 3
    # Resuming it starts the count again.
    services.webhook_endpoint_step(endpoint=endpoint, name="resume", actor=act(insurer_admin))
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.consecutive_failures) == (EndpointStatus.ACTIVE, 0)


class WorkerKilled(BaseException):
    """The process dying: nothing after the send runs (no except clause catches it)."""


def test_a_worker_killed_mid_delivery_loses_nothing_and_the_retry_has_the_same_id(
    insurer, endpoint, receiver, monkeypatch
):
    _submitted(insurer)
    delivery = _only_delivery()
    real_post = services._post

    def dies_after_sending(*args, **kwargs):
        real_post(*args, **kwargs)
        raise WorkerKilled

    monkeypatch.setattr(services, "_post", dies_after_sending)
    start = timezone.now()
    with pytest.raises(WorkerKilled):
        _deliver(delivery, now=start)
    monkeypatch.undo()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENDING  # claimed, never finished
    # While the claim holds, neither a task nor the sweep touches it.
    assert services.webhook_deliveries_sweep(now=start + dt.timedelta(seconds=30)) == 0
    assert _deliver(delivery, now=start + dt.timedelta(seconds=30)) == "skipped"
    # After the lease, the sweep enqueues it and the next attempt delivers it.
    lapsed = start + services.claim_lease() + services.SWEEP_GRACE
    assert services.webhook_deliveries_sweep(now=lapsed) == 1
    assert _deliver(delivery, now=lapsed) == "delivered"
    assert [r.id for r in receiver.received] == [delivery.event_id] * 2


def test_a_delivery_enqueued_twice_is_sent_once(insurer, endpoint, receiver):
    from medworks.webhooks.tasks import deliver_webhook

    _submitted(insurer)
    delivery = _only_delivery()
    assert deliver_webhook.call(delivery.pk) == "delivered"
    assert deliver_webhook.call(delivery.pk) == "skipped"
    assert len(receiver.received) == 1


def test_the_delivery_is_enqueued_only_once_the_events_transaction_commits(
    insurer, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submitted(insurer)
    delivery = _only_delivery()
    webhook_tasks = DBTaskResult.objects.filter(task_path__endswith=".deliver_webhook")
    assert not webhook_tasks.exists()
    for callback in callbacks:
        callback()
    assert webhook_tasks.filter(args_kwargs__args=[delivery.pk]).count() == 1


def test_a_rolled_back_change_leaves_no_delivery(insurer, endpoint):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _submitted(insurer)
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()


def test_during_a_rotation_both_secrets_sign_and_after_the_overlap_only_the_new_one(
    insurer, insurer_admin, endpoint, receiver
):
    endpoint, old_secret = endpoint
    new_secret = services.webhook_endpoint_secret_rotate(
        endpoint=endpoint, actor=act(insurer_admin)
    )
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    _submitted(insurer)
    assert _deliver(_only_delivery()) == "delivered"
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(new_secret).verify(request.body, request.headers)

    endpoint.refresh_from_db()
    endpoint.previous_secret_until = timezone.now() - dt.timedelta(seconds=1)
    endpoint.save(update_fields=["previous_secret_until"])
    services.webhook_test_send(endpoint=endpoint, actor=act(insurer_admin))
    test = WebhookDelivery.objects.get(kind="test")
    assert _deliver(test) == "delivered"
    last = receiver.received[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(last.body, last.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(last.body, last.headers)


def test_the_secret_is_stored_sealed_never_in_clear(insurer, endpoint):
    endpoint, secret = endpoint
    endpoint.refresh_from_db()
    assert secret.encode() not in bytes(endpoint.secret_sealed)
    assert services.secrets_in_use(endpoint) == [secret]


def test_a_resend_is_a_new_delivery_of_the_same_event_id(
    insurer, insurer_admin, endpoint, receiver
):
    _submitted(insurer)
    first = _only_delivery()
    assert _deliver(first) == "delivered"
    again = services.webhook_delivery_resend(delivery=first, actor=act(insurer_admin))
    assert again.pk != first.pk and again.event_id == first.event_id
    assert _deliver(again) == "delivered"
    assert [r.id for r in receiver.received] == [first.event_id] * 2


def test_a_long_answer_is_kept_to_a_few_hundred_bytes(insurer, endpoint, receiver):
    receiver.answer = b"x" * 10_000
    _submitted(insurer)
    delivery = _only_delivery()
    assert _deliver(delivery) == "delivered"
    delivery.refresh_from_db()
    assert len(delivery.last_response) == services.RESPONSE_KEPT


# --- Addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.maple-assist.example/medworks", "webhook_url_not_https"),
        ("https://127.0.0.1/hooks", "webhook_url_private"),
        ("https://localhost:8443/hooks", "webhook_url_private"),
        ("https://10.1.2.3/hooks", "webhook_url_private"),
        ("https://192.168.0.10/hooks", "webhook_url_private"),
        ("https://169.254.169.254/latest/meta-data", "webhook_url_private"),
        ("https://[::1]/hooks", "webhook_url_private"),
        ("https://[fe80::1]/hooks", "webhook_url_private"),
        ("https://user:pw@hooks.maple-assist.example/", "webhook_url_invalid"),
        ("hooks.maple-assist.example", "webhook_url_not_https"),
    ],
)
def test_outside_tests_a_private_or_plain_http_url_is_refused(
    insurer, insurer_admin, settings, url, code
):
    settings.MEDWORKS_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(DomainError) as refused:
        make_endpoint(insurer=insurer, actor_user=insurer_admin, url=url)
    assert refused.value.code == code


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery_time(
    insurer, insurer_admin, receiver, settings, monkeypatch
):
    settings.MEDWORKS_WEBHOOKS_ALLOW_PRIVATE = False
    make_endpoint(
        insurer=insurer, actor_user=insurer_admin, url="https://hooks.maple-assist.example/x"
    )
    _submitted(insurer)
    delivery = _only_delivery()

    def rebinds_to_loopback(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinds_to_loopback)
    assert _deliver(delivery) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "webhook_url_private"
    assert receiver.received == []


def test_only_an_insurers_own_users_or_key_managers_manage_its_endpoints(
    insurer, insurer_admin, endpoint, booking_agent, coordinator
):
    endpoint, _secret = endpoint
    other = factories.make_organisation(name="Other Insurer")
    stranger = factories.make_user(roles=[RoleCode.INSURER_USER], organisation=other)
    for actor in (stranger, booking_agent):
        with pytest.raises(DomainError) as refused:
            services.webhook_endpoint_secret_rotate(endpoint=endpoint, actor=act(actor))
        assert refused.value.code == "webhook_forbidden"
    services.webhook_endpoint_secret_rotate(endpoint=endpoint, actor=act(coordinator))
