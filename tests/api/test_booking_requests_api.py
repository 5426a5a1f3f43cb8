"""Booking requests through the JSON API, as an insurer's system with an API key sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from medworks.bookings.models import (
    Appointment,
    BookingEvent,
    BookingRequest,
    BookingStatus,
    Channel,
    IdempotencyKey,
    OfferSlot,
    SlotStatus,
)
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

URL = "/api/v1/booking-requests"

pytestmark = pytest.mark.django_db


def detail_url(order_id: str) -> str:
    return f"{URL}/{order_id}"


# --- submitting -------------------------------------------------------------------------------


def test_an_insurer_system_submits_a_request_and_gets_its_order_id(api, insurer_key):
    data = factories.booking_request_data(insurer_reference="CLM-9001", services=["X-ray"])
    response = api("post", URL, key=insurer_key.secret, json=data)

    assert response.status_code == 201, response.json()
    body = response.json()
    case = BookingRequest.objects.get()
    assert body["order_id"] == case.order_id
    assert body["order_id"].startswith(f"MW-{timezone.localdate().year}-")
    assert body["status"] == "received"
    assert body["status_label"] == "Received"
    assert body["insurer_reference"] == "CLM-9001"
    assert body["links"]["self"] == detail_url(case.order_id)
    assert case.insurer == insurer_key.organisation
    assert case.channel == Channel.API
    assert case.created_by is None
    assert list(case.services.values_list("code", flat=True)) == ["XRAY"]
    assert case.preferred_dates == data["preferred_dates"]


def test_the_x_api_key_header_works_like_a_bearer_token(api, insurer_key):
    data = factories.booking_request_data()
    response = api("post", URL, json=data, headers={"X-API-Key": insurer_key.secret})
    assert response.status_code == 201
    assert BookingRequest.objects.get().insurer == insurer_key.organisation


def test_a_retry_with_the_same_idempotency_key_returns_the_first_case(api, insurer_key):
    data = factories.booking_request_data()
    headers = {"Idempotency-Key": "c0ffee-1"}
    first = api("post", URL, key=insurer_key.secret, json=data, headers=headers)
    again = api("post", URL, key=insurer_key.secret, json=data, headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["order_id"] == first.json()["order_id"]
    assert BookingRequest.objects.count() == 1
    assert IdempotencyKey.objects.get().booking_request.order_id == first.json()["order_id"]


def test_a_new_idempotency_key_makes_a_new_case(api, insurer_key):
    data = factories.booking_request_data()
    api("post", URL, key=insurer_key.secret, json=data, headers={"Idempotency-Key": "a"})
    api("post", URL, key=insurer_key.secret, json=data, headers={"Idempotency-Key": "b"})
    assert BookingRequest.objects.count() == 2


def test_the_same_idempotency_key_with_a_different_body_is_refused(api, insurer_key):
    headers = {"Idempotency-Key": "k-1"}
    data = factories.booking_request_data(insurer_reference="CLM-1")
    api("post", URL, key=insurer_key.secret, json=data, headers=headers)
    changed = {**data, "insurer_reference": "CLM-2"}
    response = api("post", URL, key=insurer_key.secret, json=changed, headers=headers)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert BookingRequest.objects.count() == 1


def test_idempotency_keys_belong_to_one_insurer(api, insurer_key, other_insurer_key):
    """Two insurers may pick the same key string: each gets its own case."""
    headers = {"Idempotency-Key": "order-1"}
    data = factories.booking_request_data()
    mine = api("post", URL, key=insurer_key.secret, json=data, headers=headers)
    theirs = api("post", URL, key=other_insurer_key.secret, json=data, headers=headers)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["order_id"] != theirs.json()["order_id"]


def test_an_idempotency_key_that_is_too_long_is_refused(api, insurer_key):
    data = factories.booking_request_data()
    headers = {"Idempotency-Key": "x" * 201}
    response = api("post", URL, key=insurer_key.secret, json=data, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("patient_postal_code", "ZZZ", "should look like A1A 1A1"),
        ("patient_date_of_birth", "2999-01-01", "in the future"),
        ("insurer_contact_email", "not-an-email", "valid email"),
        ("services", ["NO-SUCH-SERVICE"], "Unknown service"),
        ("preferred_dates", ["2020-01-01"], "in the past"),
        ("preferred_dates", ["next tuesday"], "not a date"),
        ("urgency", "yesterday", "Select a valid choice"),
        ("patient_first_name", "", "required"),
    ],
)
def test_a_field_error_is_422_naming_the_field(api, insurer_key, field, value, message):
    data = factories.booking_request_data(**{field: value})
    response = api("post", URL, key=insurer_key.secret, json=data)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "request_invalid"
    assert set(body) == {"detail", "code", "fields"}
    assert message.lower() in " ".join(body["fields"][field]).lower()
    assert not BookingRequest.objects.exists()


def test_a_missing_or_mistyped_field_is_422_in_the_same_shape(api, insurer_key):
    data = factories.booking_request_data(paperwork_required="perhaps")
    del data["patient_last_name"]
    response = api("post", URL, key=insurer_key.secret, json=data)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert set(body["fields"]) == {"patient_last_name", "paperwork_required"}


def test_a_postal_code_of_another_province_is_refused(api, insurer_key):
    data = factories.booking_request_data(patient_province="QC")  # M5V is Toronto
    response = api("post", URL, key=insurer_key.secret, json=data)
    assert response.status_code == 422
    assert "patient_postal_code" in response.json()["fields"]


# --- who may call -----------------------------------------------------------------------------


def test_without_a_key_the_api_answers_401(api, db):
    response = api("post", URL, json=factories.booking_request_data())
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_an_unknown_key_answers_401(api, db, header):
    value = "Bearer not-a-key" if header == "Authorization" else "not-a-key"
    response = api("get", URL, headers={header: value})
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"


def test_a_revoked_key_answers_401_even_on_a_post(api, insurer_key, coordinator):
    from medworks.accounts.services import api_key_revoke

    api_key_revoke(api_key=insurer_key.key, actor=act(coordinator))
    response = api("post", URL, key=insurer_key.secret, json=factories.booking_request_data())
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_invalid"
    assert not BookingRequest.objects.exists()


def test_a_staff_session_may_not_submit_for_an_insurer(client, booking_agent):
    client.force_login(booking_agent)
    response = client.post(URL, factories.booking_request_data(), content_type="application/json")
    # The session is checked like a page form: without a CSRF token the POST goes no further.
    assert response.status_code == 403
    assert not BookingRequest.objects.exists()


# --- reading ----------------------------------------------------------------------------------


def test_an_insurer_reads_its_case_and_the_read_is_logged(api, insurer_key):
    case = factories.make_booking_request(insurer=insurer_key.organisation)
    response = api("get", detail_url(case.order_id), key=insurer_key.secret)

    assert response.status_code == 200
    body = response.json()
    assert body["order_id"] == case.order_id
    assert body["services"] == ["XRAY"]
    assert [e["kind"] for e in body["timeline"]] == ["created"]
    assert body["open_offer"] is None and body["appointment"] is None
    assert "patient_first_name" not in body  # the caller sent it; it is not echoed back
    read = AuditEvent.objects.get(action="booking_request.viewed")
    assert read.object_id == str(case.pk)
    assert read.payload["origin"] == f"api key {insurer_key.key.prefix}"


def test_an_insurer_gets_404_for_another_insurers_case(api, insurer_key, other_insurer_key):
    theirs = factories.make_booking_request(insurer=other_insurer_key.organisation)
    response = api("get", detail_url(theirs.order_id), key=insurer_key.secret)

    assert response.status_code == 404
    assert response.json()["code"] == "request_not_found"
    assert not AuditEvent.objects.filter(action="booking_request.viewed").exists()


def test_an_insurer_cannot_act_on_another_insurers_case(api, insurer_key, other_insurer_key):
    theirs = factories.make_booking_request(insurer=other_insurer_key.organisation)
    response = api(
        "post", detail_url(theirs.order_id) + "/cancel", key=insurer_key.secret, json={"note": "x"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.RECEIVED


def test_the_list_shows_only_the_callers_cases_filtered_and_paged(
    clinic_near_patient,
    api,
    insurer_key,
    other_insurer_key,
    booking_agent,
    django_assert_max_num_queries,
):
    mine = [factories.make_booking_request(insurer=insurer_key.organisation) for _ in range(3)]
    factories.make_booking_request(insurer=other_insurer_key.organisation)
    from medworks.bookings.services import booking_request_take

    booking_request_take(case=mine[0], actor=act(booking_agent))

    everything = api("get", URL, key=insurer_key.secret).json()
    assert everything["count"] == 3
    assert [r["order_id"] for r in everything["results"]] == [c.order_id for c in mine[::-1]]

    sourcing = api("get", URL, key=insurer_key.secret, status="sourcing").json()
    assert [r["order_id"] for r in sourcing["results"]] == [mine[0].order_id]

    beyond = api("get", URL, key=insurer_key.secret, page=2).json()
    assert beyond["results"] == [] and beyond["pages"] == 1

    # Key lookup, count, page: the number of queries does not grow with the page.
    with django_assert_max_num_queries(4):
        api("get", URL, key=insurer_key.secret)


def test_an_unknown_status_filter_is_422(api, insurer_key):
    response = api("get", URL, key=insurer_key.secret, status="lost")
    assert response.status_code == 422
    assert "status" in response.json()["fields"]


def test_a_staff_session_reads_every_case(client, booking_agent, insurer_key, other_insurer_key):
    case = factories.make_booking_request(insurer=other_insurer_key.organisation)
    factories.make_booking_request(insurer=insurer_key.organisation)
    client.force_login(booking_agent)

    assert client.get(URL).json()["count"] == 2
    response = client.get(detail_url(case.order_id))
    assert response.status_code == 200
    read = AuditEvent.objects.get(action="booking_request.viewed")
    assert read.actor == booking_agent
    assert read.payload["origin"] == "api"


def test_a_clinic_user_session_may_not_read_cases_through_the_api(client, clinic_user):
    client.force_login(clinic_user)
    assert client.get(URL).status_code == 403


def test_the_timeline_hides_what_is_internal_to_medworks(
    clinic_near_patient, api, insurer_key, booking_agent, coordinator
):
    from medworks.bookings.services import (
        booking_request_assign,
        booking_request_escalate,
        booking_request_take,
    )

    case = factories.make_booking_request(insurer=insurer_key.organisation)
    booking_request_take(case=case, actor=act(booking_agent))
    booking_request_assign(case=case, owner=coordinator, actor=act(booking_agent))
    booking_request_escalate(case=case, actor=act(booking_agent), note="Clinic X refused us")

    body = api("get", detail_url(case.order_id), key=insurer_key.secret).json()
    assert [e["kind"] for e in body["timeline"]] == ["created", "start_sourcing", "escalate"]
    assert body["timeline"][-1] == {
        "kind": "escalate",
        "label": "No network clinic nearby: MedWorks is finding a provider",
        "from_status": "sourcing",
        "to_status": "escalated",
        "at": body["timeline"][-1]["at"],
        "note": "",
    }
    assert "Clinic X" not in str(body)


# --- answering offered dates ------------------------------------------------------------------


def test_an_insurer_sees_the_offered_dates_and_approves_one(api, insurer_key, offered_case):
    case = offered_case.case
    body = api("get", detail_url(case.order_id), key=insurer_key.secret).json()
    offer = body["open_offer"]
    assert offer["id"] == offered_case.offer.pk
    assert offer["location"]["name"] == "Harbour Clinic King West"
    assert offer["location"]["address"] == "500 King St W"
    assert [s["id"] for s in offer["slots"]] == [s.pk for s in offered_case.slots]
    assert all(s["available"] for s in offer["slots"])

    chosen = offered_case.slots[1]
    response = api(
        "post",
        detail_url(case.order_id) + "/offers/approve",
        key=insurer_key.secret,
        json={"slot_id": chosen.pk},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "booked"
    assert body["open_offer"] is None
    assert body["appointment"]["location"]["name"] == "Harbour Clinic King West"
    assert dt.datetime.fromisoformat(body["appointment"]["starts_at"]) == chosen.starts_at
    appointment = Appointment.objects.get(request=case)
    assert appointment.slot == chosen
    event = BookingEvent.objects.get(request=case, kind="approve_date")
    assert event.actor is None
    assert event.payload["party"] == "insurer"


def test_an_expired_date_cannot_be_approved(api, insurer_key, offered_case):
    slot = offered_case.slots[0]
    OfferSlot.objects.filter(pk=slot.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    response = api(
        "post",
        detail_url(offered_case.case.order_id) + "/offers/approve",
        key=insurer_key.secret,
        json={"slot_id": slot.pk},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "slot_expired"
    assert not Appointment.objects.exists()


def test_a_date_already_taken_cannot_be_approved_again(api, insurer_key, offered_case):
    url = detail_url(offered_case.case.order_id) + "/offers/approve"
    first, second = offered_case.slots
    assert api("post", url, key=insurer_key.secret, json={"slot_id": first.pk}).status_code == 200
    response = api("post", url, key=insurer_key.secret, json={"slot_id": second.pk})
    assert response.status_code == 409
    assert response.json()["code"] in {"slot_taken", "transition_illegal"}
    assert Appointment.objects.count() == 1


def test_a_slot_of_another_case_is_not_found(api, insurer_key, offered_case):
    mine = factories.make_booking_request(insurer=insurer_key.organisation)
    response = api(
        "post",
        detail_url(mine.order_id) + "/offers/approve",
        key=insurer_key.secret,
        json={"slot_id": offered_case.slots[0].pk},
    )
    assert response.status_code == 404
    assert response.json()["code"] == "slot_not_found"
    assert not Appointment.objects.exists()


def test_an_insurer_declines_every_date_with_a_note(api, insurer_key, offered_case):
    case = offered_case.case
    response = api(
        "post",
        detail_url(case.order_id) + "/offers/decline",
        key=insurer_key.secret,
        json={"note": "The patient travels that week."},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "sourcing"
    assert body["open_offer"] is None
    assert body["timeline"][-1]["kind"] == "decline_dates"
    assert body["timeline"][-1]["note"] == "The patient travels that week."
    assert set(OfferSlot.objects.values_list("status", flat=True)) == {SlotStatus.RELEASED}


def test_declining_needs_a_note(api, insurer_key, offered_case):
    response = api(
        "post",
        detail_url(offered_case.case.order_id) + "/offers/decline",
        key=insurer_key.secret,
        json={"note": ""},
    )
    assert response.status_code == 422
    assert "note" in response.json()["fields"]
    offered_case.case.refresh_from_db()
    assert offered_case.case.status == BookingStatus.DATES_OFFERED


def test_declining_when_no_dates_are_offered_is_a_conflict(api, insurer_key):
    case = factories.make_booking_request(insurer=insurer_key.organisation)
    response = api(
        "post",
        detail_url(case.order_id) + "/offers/decline",
        key=insurer_key.secret,
        json={"note": "No."},
    )
    assert response.status_code == 409


def test_an_insurer_cancels_its_request(api, insurer_key, offered_case):
    case = offered_case.case
    response = api(
        "post",
        detail_url(case.order_id) + "/cancel",
        key=insurer_key.secret,
        json={"note": "Claim withdrawn."},
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    event = BookingEvent.objects.get(request=case, kind="cancel")
    assert event.payload == {"party": "insurer", "cancelled_by": "insurer"}
    assert event.note == "Claim withdrawn."
    assert set(OfferSlot.objects.values_list("status", flat=True)) == {SlotStatus.RELEASED}


def test_a_cancelled_case_cannot_be_cancelled_again(api, insurer_key):
    case = factories.make_booking_request(insurer=insurer_key.organisation)
    url = detail_url(case.order_id) + "/cancel"
    api("post", url, key=insurer_key.secret, json={"note": "Withdrawn."})
    response = api("post", url, key=insurer_key.secret, json={"note": "Again."})
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]


# --- the document -----------------------------------------------------------------------------


def test_the_openapi_document_describes_the_booking_endpoints(client, db):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert "get" in paths[URL + "/{order_id}"]
    for action in ("offers/approve", "offers/decline", "cancel"):
        assert "post" in paths[URL + "/{order_id}/" + action]
    post = paths[URL]["post"]
    assert {"201", "200", "401", "422"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    schemas = document["components"]["schemas"]
    assert schemas["BookingRequestIn"]["examples"][0]["services"] == ["XRAY"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyBearer"] == {"type": "http", "scheme": "bearer"}
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_the_detail_lists_the_steps_the_insurer_may_take_now_from_the_workflow(
    api, insurer_key, offered_case
):
    response = api("get", detail_url(offered_case.case.order_id), key=insurer_key.secret)
    assert response.status_code == 200
    actions = {a["name"]: a for a in response.json()["actions"]}
    # Dates offered: the insurer approves, declines (saying why) or cancels; staff steps are
    # not listed.
    assert set(actions) == {"approve_date", "decline_dates", "cancel"}
    assert all(a["allowed"] and a["reason"] == "" for a in actions.values())
    assert actions["decline_dates"]["needs_note"] is True
    assert actions["approve_date"]["needs_note"] is False
