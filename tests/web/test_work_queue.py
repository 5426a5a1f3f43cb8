"""The staff work queue: open cases by state, their age and owner, filters, what waits too long."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings.models import BookingRequest, BookingStatus, Patient
from medworks.core.models import AuditEvent
from medworks.network.models import Service
from medworks.settings import env_hours_by_state
from tests import factories

QUEUE = reverse("web:staff_booking_queue")
_numbers = itertools.count(1)


def bulk_cases(count: int, *, insurer=None, status=BookingStatus.RECEIVED, age_hours=1.0, **fields):
    """Cases written straight to the tables (fast): the queue only reads them."""
    insurer = insurer or factories.make_organisation(kind=OrganisationKind.INSURER)
    patients = Patient.objects.bulk_create(
        Patient(
            insurer=insurer,
            first_name="Zelda",
            last_name=f"Quinnell{i}",
            date_of_birth=dt.date(1970, 1, 1),
            address="1 Main St",
            city="Toronto",
            province="ON",
            postal_code="M5V 3L9",
        )
        for i in range(count)
    )
    changed = timezone.now() - dt.timedelta(hours=age_hours)
    cases = BookingRequest.objects.bulk_create(
        BookingRequest(
            order_id=f"MW-2099-{next(_numbers):06d}",
            insurer=insurer,
            insurer_reference=f"REF-{next(_numbers)}",
            insurer_contact_name="Ines",
            insurer_contact_email="ines@example.com",
            patient=patient,
            channel="portal",
            status=status,
            status_changed_at=changed,
            **fields,
        )
        for patient in patients
    )
    xray = Service.objects.get(code="XRAY")
    BookingRequest.services.through.objects.bulk_create(
        BookingRequest.services.through(bookingrequest_id=c.pk, service_id=xray.pk) for c in cases
    )
    return cases


def rows(response) -> list[str]:
    return [row.case.order_id for row in response.context["rows"]]


def test_a_booking_agent_sees_open_cases_longest_waiting_first(client, booking_agent):
    older = bulk_cases(1, age_hours=30, status=BookingStatus.SOURCING)[0]
    newer = bulk_cases(1, age_hours=1)[0]
    bulk_cases(1, status=BookingStatus.CLOSED)
    bulk_cases(1, status=BookingStatus.CANCELLED)
    client.force_login(booking_agent)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert rows(response) == [older.order_id, newer.order_id]
    # Staff see each case's patient and city, and each case listed is recorded as read.
    assert b"Zelda" in response.content and b"Quinnell" in response.content
    listed = AuditEvent.objects.filter(action="booking_request.listed")
    assert sorted(listed.values_list("object_id", flat=True)) == sorted(
        [str(older.pk), str(newer.pk)]
    )
    assert {e.payload["list"] for e in listed} == {"queue"}


def test_the_queue_counts_cases_per_state_on_top(client, booking_agent):
    bulk_cases(3)
    bulk_cases(2, status=BookingStatus.DATES_OFFERED)
    client.force_login(booking_agent)

    tabs = {t["state"]: t["total"] for t in client.get(QUEUE).context["tabs"]}

    assert tabs["received"] == 3
    assert tabs["dates_offered"] == 2
    assert tabs["booked"] == 0
    assert list(tabs) == [
        "received", "sourcing", "escalated", "awaiting_availability", "dates_offered", "booked",
        "no_show",
    ]  # fmt: skip


def test_a_case_waiting_longer_than_its_states_threshold_is_highlighted(
    client, booking_agent, settings
):
    settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS = {
        **settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS,
        "received": 2,
        "sourcing": 24,
    }
    late = bulk_cases(1, age_hours=3)[0]
    fresh = bulk_cases(1, age_hours=1)[0]
    not_late_in_sourcing = bulk_cases(1, age_hours=3, status=BookingStatus.SOURCING)[0]
    client.force_login(booking_agent)

    response = client.get(QUEUE)

    overdue = {row.case.order_id: row.overdue for row in response.context["rows"]}
    assert overdue == {
        late.order_id: True,
        fresh.order_id: False,
        not_late_in_sourcing.order_id: False,
    }
    assert response.content.count(b'class="is-overdue"') == 1
    received = next(t for t in response.context["tabs"] if t["state"] == "received")
    assert received["overdue"] == 1

    only_overdue = client.get(QUEUE, {"overdue": "on"})
    assert rows(only_overdue) == [late.order_id]


def test_the_queue_filters_by_state_owner_insurer_and_urgency(client, booking_agent, coordinator):
    maple = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple")
    birch = factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch")
    mine = bulk_cases(1, insurer=maple, status=BookingStatus.SOURCING, owner=booking_agent)[0]
    theirs = bulk_cases(1, insurer=birch, status=BookingStatus.SOURCING, owner=coordinator)[0]
    nobodys = bulk_cases(1, insurer=birch, urgency="urgent")[0]
    client.force_login(booking_agent)

    assert rows(client.get(QUEUE, {"owner": "mine"})) == [mine.order_id]
    assert rows(client.get(QUEUE, {"owner": "unassigned"})) == [nobodys.order_id]
    assert set(rows(client.get(QUEUE, {"state": "sourcing"}))) == {mine.order_id, theirs.order_id}
    assert set(rows(client.get(QUEUE, {"insurer": birch.pk}))) == {
        theirs.order_id,
        nobodys.order_id,
    }
    assert rows(client.get(QUEUE, {"urgency": "urgent"})) == [nobodys.order_id]
    assert rows(client.get(QUEUE, {"q": mine.order_id.lower()})) == [mine.order_id]
    assert rows(client.get(QUEUE, {"q": theirs.insurer_reference})) == [theirs.order_id]


def test_an_unknown_filter_value_shows_every_open_case_rather_than_failing(client, booking_agent):
    bulk_cases(2)
    client.force_login(booking_agent)

    response = client.get(QUEUE, {"state": "nonsense", "owner": "everyone"})

    assert response.status_code == 200
    assert len(rows(response)) == 2


def test_the_queue_shows_fifty_cases_a_page(client, booking_agent):
    bulk_cases(51)
    client.force_login(booking_agent)

    first, second = client.get(QUEUE), client.get(QUEUE, {"page": 2})

    assert len(rows(first)) == 50 and len(rows(second)) == 1
    assert first.context["page"].paginator.count == 51


def _queue_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(QUEUE, params).status_code == 200
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(
    client, booking_agent, coordinator, django_assert_num_queries
):
    client.force_login(booking_agent)
    bulk_cases(5, owner=coordinator)
    with_five = _queue_queries(client)

    other = factories.make_organisation(kind=OrganisationKind.INSURER)
    bulk_cases(20, insurer=other, status=BookingStatus.BOOKED, owner=booking_agent)
    bulk_cases(25, status=BookingStatus.ESCALATED)

    with django_assert_num_queries(with_five):
        client.get(QUEUE)


def test_the_queue_page_with_filters_costs_the_same_queries_too(client, booking_agent):
    client.force_login(booking_agent)
    bulk_cases(5, owner=booking_agent, age_hours=100)  # overdue, so they are listed
    params = {"owner": "mine", "overdue": "on", "urgency": "routine"}
    with_five = _queue_queries(client, **params)
    bulk_cases(45, owner=booking_agent, age_hours=100)

    assert _queue_queries(client, **params) == with_five


def test_htmx_filtering_returns_the_table_alone(client, booking_agent):
    bulk_cases(1)
    client.force_login(booking_agent)

    response = client.get(QUEUE, {"state": "received"}, HTTP_HX_REQUEST="true")

    assert b"<html" not in response.content
    assert b'data-testid="queue"' in response.content


@pytest.mark.parametrize("persona", ["insurer_user", "clinic_user", "outsider"])
def test_only_staff_see_the_work_queue(client, persona, request):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(QUEUE).status_code == 403


def test_finance_reads_the_queue_but_is_not_offered_email_intake(client, finance_user):
    client.force_login(finance_user)

    response = client.get(QUEUE)

    assert response.status_code == 200
    assert reverse("web:staff_booking_new").encode() not in response.content


def test_the_staff_home_counts_open_new_and_late_cases(client, booking_agent, settings):
    settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS = {
        **settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS,
        "received": 2,
    }
    bulk_cases(2, age_hours=5)
    bulk_cases(1, status=BookingStatus.SOURCING)
    client.force_login(booking_agent)

    response = client.get(reverse("web:staff_home"))

    assert response.context["booking_counts"]["open"] == 3
    assert response.context["booking_counts"]["received"] == 2
    assert response.context["booking_counts"]["overdue"] == 2
    assert b"2 waiting too long" in response.content


def test_a_clinic_manager_is_staff_and_also_sees_the_queue(client, db):
    manager = factories.make_user(roles=[RoleCode.CLINIC_MANAGER])
    client.force_login(manager)

    assert client.get(QUEUE).status_code == 200


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", {"received": 2, "sourcing": 24}),
        ('{"received": 4}', {"received": 4.0, "sourcing": 24}),
        ("received=0.5, sourcing=12", {"received": 0.5, "sourcing": 12.0}),
    ],
)
def test_queue_thresholds_come_from_the_environment_as_json_or_pairs(monkeypatch, raw, expected):
    monkeypatch.setenv("THRESHOLDS", raw)

    assert env_hours_by_state("THRESHOLDS", {"received": 2, "sourcing": 24}) == expected


@pytest.mark.parametrize("raw", ["received", "nonsense=3", "received=-1", "[1, 2]", "received=x"])
def test_a_bad_queue_threshold_stops_start_up(monkeypatch, raw):
    monkeypatch.setenv("THRESHOLDS", raw)

    with pytest.raises(ImproperlyConfigured):
        env_hours_by_state("THRESHOLDS", {"received": 2, "sourcing": 24})
