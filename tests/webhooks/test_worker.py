"""`medworks worker` delivers webhooks through the task queue after commit, exactly once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from medworks.webhooks.models import DeliveryStatus, WebhookDelivery
from tests import factories


def _run_worker_batch():
    call_command("worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_each_committed_event_once_and_a_second_run_sends_nothing(
    insurer, endpoint, receiver
):
    _endpoint, secret = endpoint
    case = factories.make_booking_request(insurer=insurer)
    assert receiver.received == []  # committed, enqueued, not sent by the web request

    _run_worker_batch()

    (request,) = receiver.received
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["data"]["order_id"] == case.order_id
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    _run_worker_batch()
    assert len(receiver.received) == 1
