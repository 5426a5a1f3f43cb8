"""The access trail: a patient's (every read and change of their cases, every list that
showed them, every document of theirs opened) and a user's (all they did), the page and its
CSV export showing the same rows, each view and each export recorded."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.bookings.selectors import booking_request_get, case_search
from medworks.core.models import AuditEvent
from medworks.privacy import selectors
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(booking_agent, insurer_user):
    """Jean Tremblay's case and Ana Silva's, each opened by the agent; Jean's also found by
    the agent's search and opened by the insurer's user."""
    insurer = insurer_user.organisation
    jean = factories.make_booking_request(insurer=insurer)
    ana = factories.make_booking_request(
        insurer=insurer, patient_first_name="Ana", patient_last_name="Silva"
    )
    booking_request_get(user=booking_agent, order_id=jean.order_id, origin="10.0.0.7")
    booking_request_get(user=booking_agent, order_id=ana.order_id, origin="10.0.0.7")
    case_search(user=booking_agent, q="Tremblay", origin="10.0.0.7")
    booking_request_get(user=insurer_user, order_id=jean.order_id, origin="192.0.2.4")
    return jean, ana


def _rows(trail):
    return selectors.trail_rows(trail)


def test_a_patients_trail_holds_the_reads_of_their_cases_and_none_of_another_patients(
    cases, booking_agent, insurer_user
):
    jean, ana = cases
    rows = _rows(selectors.patient_trail(patient=jean.patient, until=timezone.now()))
    actions = [(row.action, row.case, row.origin) for row in rows]
    assert ("booking_request.viewed", jean.order_id, "10.0.0.7") in actions
    assert ("booking_request.viewed", jean.order_id, "192.0.2.4") in actions
    assert ("booking_request.listed", jean.order_id, "10.0.0.7") in actions
    assert all(row.case != ana.order_id for row in rows)
    who = {row.who for row in rows if row.action == "booking_request.viewed"}
    assert any("agent" in name for name in who) and any("insurer" in name for name in who)
    # Newest first.
    assert [row.at for row in rows] == sorted((row.at for row in rows), reverse=True)


def test_a_users_trail_holds_what_they_did_on_every_patients_cases(cases, booking_agent):
    jean, ana = cases
    rows = _rows(selectors.user_trail(user=booking_agent, until=timezone.now()))
    viewed = {row.case for row in rows if row.action == "booking_request.viewed"}
    assert viewed == {jean.order_id, ana.order_id}
    assert all("agent" in row.who for row in rows)


def test_a_trail_stops_at_its_moment(cases, booking_agent):
    jean, _ana = cases
    before = timezone.now()
    booking_request_get(user=booking_agent, order_id=jean.order_id, origin="10.0.0.8")
    rows = _rows(selectors.patient_trail(patient=jean.patient, until=before))
    assert "10.0.0.8" not in {row.origin for row in rows}
    rows = _rows(selectors.patient_trail(patient=jean.patient, until=timezone.now()))
    assert "10.0.0.8" in {row.origin for row in rows}


def test_a_document_opened_is_in_the_patients_trail(cases, booking_agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from medworks.documents import services as documents
    from medworks.documents.models import DocumentKind
    from tests.documents import samples
    from tests.factories import act

    jean, _ana = cases
    version = documents.document_upload(
        case=jean,
        kind=DocumentKind.OTHER,
        title="Referral",
        file=SimpleUploadedFile("referral.pdf", samples.pdf("referral")),
        filename="referral.pdf",
        actor=act(booking_agent),
    )
    documents.document_open(
        version=version, actor=act(booking_agent), origin="10.0.0.9", action="downloaded"
    )
    rows = _rows(selectors.patient_trail(patient=jean.patient, until=timezone.now()))
    opened = [row for row in rows if row.source == "document"]
    assert [(r.action, r.case, r.origin) for r in opened] == [
        ("document.downloaded", jean.order_id, "10.0.0.9")
    ]


# --- The pages --------------------------------------------------------------------------------


def _page_rows(response) -> list[str]:
    return re.findall(r'data-row="([a-z]+-\d+)"', response.content.decode())


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_holds_the_rows_of_the_page_and_is_recorded(client, chief, cases):
    jean, _ana = cases
    client.force_login(chief)
    page = client.get(reverse("web:privacy_patient_trail", args=[jean.patient_id]))
    assert page.status_code == 200
    shown = _page_rows(page)
    assert len(shown) == 3  # the agent's read and list, the insurer's read

    export = client.post(
        reverse("web:privacy_patient_trail_export", args=[jean.patient_id]),
        {"reason": "Access request AR-12"},
    )
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    rows = _csv_rows(export)
    assert [f"{r['source']}-{r['row']}" for r in rows] == shown
    assert {r["case"] for r in rows} == {jean.order_id}

    viewed = AuditEvent.objects.get(action="privacy.access_trail_viewed")
    assert viewed.actor == chief
    assert viewed.payload["subject_patient_id"] == jean.patient_id
    assert viewed.payload["rows"] == len(shown)
    exported = AuditEvent.objects.get(action="privacy.access_trail_exported")
    assert exported.actor == chief
    assert exported.payload["rows"] == len(rows)
    assert exported.payload["reason"] == "Access request AR-12"


def test_each_export_is_recorded_again(client, director, cases, booking_agent):
    client.force_login(director)
    url = reverse("web:privacy_user_trail_export", args=[booking_agent.pk])
    first = _csv_rows(client.post(url))
    second = _csv_rows(client.post(url))
    assert len(first) == len(second) > 0
    exports = AuditEvent.objects.filter(action="privacy.access_trail_exported")
    assert exports.count() == 2
    assert {e.payload["subject_user_id"] for e in exports} == {booking_agent.pk}
    assert {e.payload["rows"] for e in exports} == {len(first)}


def test_the_trail_page_is_paginated(client, chief, cases, booking_agent, settings):
    from medworks.web.staff import privacy as pages

    jean, _ana = cases
    for _ in range(3):
        booking_request_get(user=booking_agent, order_id=jean.order_id)
    client.force_login(chief)
    total = selectors.patient_trail(patient=jean.patient, until=timezone.now()).count()
    old = pages.PAGE_SIZE
    pages.PAGE_SIZE = 2
    try:
        url = reverse("web:privacy_patient_trail", args=[jean.patient_id])
        first, second = client.get(url), client.get(url + "?page=2")
    finally:
        pages.PAGE_SIZE = old
    assert len(_page_rows(first)) == 2 and len(_page_rows(second)) == 2
    assert not set(_page_rows(first)) & set(_page_rows(second))
    assert total > 4


def test_a_patient_is_found_by_order_id_or_name_and_birth_date_with_nothing_in_the_url(
    client, chief, cases
):
    jean, _ana = cases
    client.force_login(chief)
    url = reverse("web:privacy_access")
    by_order = client.post(url, {"find": "patient", "order_id": jean.order_id})
    assert by_order.status_code == 302
    assert by_order["Location"] == reverse("web:privacy_patient_trail", args=[jean.patient_id])
    by_name = client.post(
        url, {"find": "patient", "name": "jean tremblay", "date_of_birth": "1980-04-12"}
    )
    assert by_name["Location"] == by_order["Location"]
    assert "Tremblay" not in by_name["Location"] and "1980" not in by_name["Location"]


def test_a_name_alone_does_not_find_a_patient(client, chief, cases):
    client.force_login(chief)
    response = client.post(reverse("web:privacy_access"), {"find": "patient", "name": "Tremblay"})
    assert response.status_code == 400
    assert "Enter the date of birth with the name." in response.content.decode()


def test_a_user_is_found_by_username(client, chief, booking_agent):
    client.force_login(chief)
    response = client.post(reverse("web:privacy_access"), {"find": "user", "username": "AGENT"})
    assert response["Location"] == reverse("web:privacy_user_trail", args=[booking_agent.pk])
    missing = client.post(reverse("web:privacy_access"), {"find": "user", "username": "nobody"})
    assert missing.status_code == 400
    assert "No user has this username." in missing.content.decode()
