"""Two identical submissions racing with one Idempotency-Key make one case."""

from __future__ import annotations

import pytest
from django.test import Client

from medworks.bookings import idempotency
from medworks.bookings.models import BookingRequest, IdempotencyKey, Patient
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.concurrency import run_at_once
from tests.factories import act

URL = "/api/v1/booking-requests"


@pytest.mark.django_db
def test_the_loser_of_the_insert_race_answers_with_the_winners_case(insurer_key, monkeypatch):
    """The winner commits between the loser's check and its insert (forced here, on any DB)."""
    data = factories.booking_request_data()
    winner, created = idempotency.booking_request_submit_once(
        insurer=insurer_key.organisation, data=data, idempotency_key="k", actor=act(None)
    )
    assert created
    real_replay = idempotency._replay
    calls = []

    def replay_missing_the_winner_once(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real_replay(**kwargs)

    monkeypatch.setattr(idempotency, "_replay", replay_missing_the_winner_once)
    outbox_before = OutboxMessage.objects.count()

    case, created = idempotency.booking_request_submit_once(
        insurer=insurer_key.organisation, data=data, idempotency_key="k", actor=act(None)
    )

    assert (case, created) == (winner, False)
    assert len(calls) == 2
    # The loser's case, patient and emails were rolled back with its transaction.
    assert BookingRequest.objects.count() == 1
    assert Patient.objects.count() == 1
    assert OutboxMessage.objects.count() == outbox_before


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_identical_requests_sent_at_once_make_one_case(insurer_key):
    data = factories.booking_request_data()

    def send() -> tuple[int, str]:
        response = Client().post(
            URL,
            data,
            content_type="application/json",
            headers={"Authorization": f"Bearer {insurer_key.secret}", "Idempotency-Key": "race-1"},
        )
        return response.status_code, response.json().get("order_id")

    answers, _ = run_at_once(send, send, send, send)

    assert sorted(status for status, _ in answers) == [200, 200, 200, 201]
    assert len({order_id for _, order_id in answers}) == 1
    assert BookingRequest.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
