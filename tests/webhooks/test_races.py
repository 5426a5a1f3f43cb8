"""Two workers on one delivery at the same moment: one attempt is made (PostgreSQL)."""

from __future__ import annotations

import pytest

from medworks.webhooks import services
from medworks.webhooks.models import DeliveryStatus, WebhookDelivery
from tests import factories
from tests.concurrency import run_at_once


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_delivery_send_it_once(insurer, endpoint, receiver):
    factories.make_booking_request(insurer=insurer)
    delivery = WebhookDelivery.objects.get()

    def deliver():
        return services.webhook_delivery_deliver(delivery_id=delivery.pk)

    results, errors = run_at_once(deliver, deliver, deliver)
    assert errors == []
    assert sorted(results) == ["delivered", "skipped", "skipped"]
    assert len(receiver.received) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
