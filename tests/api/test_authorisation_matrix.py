"""Every API operation x every persona, generated from the OpenAPI schema, so a new operation
cannot be forgotten: anonymous, the case's insurer (its key and its user's session), another
insurer's key, a booking agent, a clinic user, a person of no organisation.

Reads are called as they are; writes with an empty body, which a caller allowed in must see
refused as a field error (422), never acted on. Another insurer never learns a case exists
(404 on object routes, an empty list on collections)."""

from __future__ import annotations

import pytest

from medworks.api.v1 import api as ninja_api

PERSONAS = ["anonymous", "own_key", "other_key", "agent", "clinic", "insurer_session", "outsider"]
ANSWERED = PERSONAS[1:]  # anonymous is always 401

# (method, path): what own_key, other_key, agent, clinic, insurer_session, outsider each get.
# "own_key" and "insurer_session" act for the case's insurer, "other_key" for another insurer.
# 422: a write let in, refused for its empty body (its fields are checked before its scope, so
# it tells an outsider nothing but that the body is empty).
EXPECTED = {
    ("GET", "/api/v1/services"): (200, 200, 200, 403, 200, 403),
    ("GET", "/api/v1/matches"): (422, 422, 422, 422, 422, 422),
    ("POST", "/api/v1/booking-requests"): (422, 422, 422, 422, 422, 422),
    ("GET", "/api/v1/booking-requests"): (200, 200, 200, 403, 200, 403),
    ("GET", "/api/v1/booking-requests/{order_id}"): (200, 404, 200, 403, 200, 403),
    ("POST", "/api/v1/booking-requests/{order_id}/offers/approve"): (422,) * 6,
    ("POST", "/api/v1/booking-requests/{order_id}/offers/decline"): (422,) * 6,
    ("POST", "/api/v1/booking-requests/{order_id}/cancel"): (422,) * 6,
    ("POST", "/api/v1/booking-requests/{order_id}/documents"): (422,) * 6,
    ("GET", "/api/v1/booking-requests/{order_id}/documents"): (200, 404, 200, 200, 200, 403),
    ("GET", "/api/v1/documents/{version_id}/download"): (404, 404, 404, 404, 404, 403),
    ("POST", "/api/v1/booking-requests/{order_id}/gops"): (422, 404, 422, 403, 422, 403),
    ("GET", "/api/v1/booking-requests/{order_id}/gops"): (200, 404, 200, 200, 200, 403),
    ("POST", "/api/v1/booking-requests/{order_id}/gops/{gop_id}/amend"): (404,) * 5 + (403,),
    ("GET", "/api/v1/booking-requests/{order_id}/quote"): (200, 404, 200, 403, 200, 403),
    ("POST", "/api/v1/booking-requests/{order_id}/quote/dispute"): (422,) * 6,
    # An insurer's own invoices only (tests/api/test_invoices_api.py); the number is made up.
    ("GET", "/api/v1/invoices"): (200, 200, 403, 403, 200, 403),
    ("GET", "/api/v1/invoices/{number}"): (404, 404, 403, 403, 404, 403),
    ("GET", "/api/v1/invoices/{number}/pdf"): (404, 404, 403, 403, 404, 403),
}  # fmt: skip
# Acting once changes what the next persona sees: checked on its own below.
ACTS = {("POST", "/api/v1/booking-requests/{order_id}/quote/confirm")}


def operations() -> set[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    return {(m.upper(), path) for path, ops in schema["paths"].items() for m in ops}


def test_the_matrix_covers_every_operation_of_the_schema():
    assert operations() == set(EXPECTED) | ACTS


@pytest.fixture
def call(
    client, api, insurer_key, other_insurer_key, booking_agent, clinic_user, insurer_user, outsider
):
    sessions = {
        "agent": booking_agent,
        "clinic": clinic_user,
        "insurer_session": insurer_user,
        "outsider": outsider,
    }
    keys = {"own_key": insurer_key.secret, "other_key": other_insurer_key.secret}

    def _call(persona, method, url):
        client.logout()
        if persona in sessions:
            client.force_login(sessions[persona])
        return api(method.lower(), url, key=keys.get(persona))

    return _call


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_exactly_its_answer_on_every_operation(call, offered_case, persona):
    case = offered_case.case
    for (method, path), answers in EXPECTED.items():
        url = path.replace("{order_id}", case.order_id)
        url = url.replace("{version_id}", "999999").replace("{gop_id}", "999999")
        url = url.replace("{number}", "INV-2026-999999")
        expected = 401 if persona == "anonymous" else answers[ANSWERED.index(persona)]
        response = call(persona, method, url)
        assert response.status_code == expected, (persona, method, path, response.content[:200])
        assert response["Content-Type"].startswith("application/json"), (method, path)


def test_only_the_cases_insurer_confirms_its_quote(call, offered_case):
    url = f"/api/v1/booking-requests/{offered_case.case.order_id}/quote/confirm"
    for persona, expected in [("anonymous", 401), ("other_key", 404), ("clinic", 403),
                              ("outsider", 403), ("agent", 403)]:  # fmt: skip
        assert call(persona, "POST", url).status_code == expected, persona
    assert call("own_key", "POST", url).status_code == 200
    assert call("insurer_session", "POST", url).status_code == 409  # already confirmed
