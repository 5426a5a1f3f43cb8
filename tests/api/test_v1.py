"""JSON API v1: services (staff, insurers) and matches (staff only), errors as JSON with fields."""

from __future__ import annotations

import pytest

from tests import factories
from tests.factories import act

TORONTO = (43.6426, -79.3871)
OTTAWA = (45.4215, -75.6972)
MATCHES = "/api/v1/matches"
SERVICES = "/api/v1/services"


@pytest.fixture
def api(client):
    def call(user, url, **params):
        if user is not None:
            client.force_login(user)
        return client.get(url, params)

    return call


def clinic(lat_lon, *, service="XRAY"):
    location = factories.make_location(latitude=lat_lon[0], longitude=lat_lon[1])
    return factories.make_offering(location=location, service_code=service)


@pytest.mark.django_db
def test_a_booking_agent_gets_matches_sorted_by_approximate_drive_time(api, booking_agent):
    near = clinic(TORONTO)
    far = clinic(OTTAWA)
    response = api(booking_agent, MATCHES, postal_code="m5v 3l9", service="XRAY")
    assert response.status_code == 200
    body = response.json()
    assert body["origin"]["postal_code"] == "M5V 3L9"
    assert body["service"]["code"] == "XRAY"
    assert body["max_minutes"] == 60
    assert body["any_within"] is True
    assert body["drive_times_are_estimates"] is True
    assert [m["offering_id"] for m in body["matches"]] == [near.id, far.id]
    assert [m["within_area"] for m in body["matches"]] == [True, False]
    assert body["matches"][0]["price"] == "120.00"


@pytest.mark.django_db
def test_max_minutes_and_limit_are_honoured(api, coordinator):
    clinic(TORONTO)
    clinic(OTTAWA)
    response = api(
        coordinator, MATCHES, postal_code="M5V 3L9", service="X-ray", max_minutes=5, limit=1
    )
    body = response.json()
    assert response.status_code == 200
    assert body["max_minutes"] == 5
    assert len(body["matches"]) == 1


@pytest.mark.django_db
def test_staff_list_the_active_services(api, finance_user):
    response = api(finance_user, SERVICES)
    assert response.status_code == 200
    codes = [s["code"] for s in response.json()]
    assert "XRAY" in codes and "MRI" in codes
    assert set(response.json()[0]) == {"code", "name_en", "name_fr", "category"}


@pytest.mark.parametrize("url", [MATCHES, SERVICES])
@pytest.mark.django_db
def test_an_anonymous_caller_gets_401_json(api, url):
    response = api(None, url, postal_code="M5V 3L9", service="XRAY")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("booking_agent", MATCHES, 200),
        ("coordinator", MATCHES, 200),
        ("finance_user", MATCHES, 403),  # finance does not find clinics
        ("insurer_user", MATCHES, 403),
        ("clinic_user", MATCHES, 403),
        ("outsider", MATCHES, 403),
        ("booking_agent", SERVICES, 200),
        ("finance_user", SERVICES, 200),
        ("insurer_user", SERVICES, 200),  # an insurer needs the codes to submit requests
        ("clinic_user", SERVICES, 403),
        ("outsider", SERVICES, 403),
    ],
)
@pytest.mark.django_db
def test_each_persona_gets_what_its_role_allows(api, request, persona, url, status):
    user = request.getfixturevalue(persona)
    response = api(user, url, postal_code="M5V 3L9", service="XRAY")
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_an_insurers_api_key_reads_the_catalogue_codes_it_submits_requests_with(
    client, insurer_key
):
    response = client.get(SERVICES, headers={"Authorization": f"Bearer {insurer_key.secret}"})
    assert response.status_code == 200
    codes = [s["code"] for s in response.json()]
    assert "XRAY" in codes and "MRI" in codes
    # Codes and names only: nothing about clinics or their prices.
    assert all(set(s) == {"code", "name_en", "name_fr", "category"} for s in response.json())
    response = client.get(SERVICES, headers={"X-API-Key": insurer_key.secret})
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_insurers_api_key_still_cannot_match_clinics(client, insurer_key):
    clinic(TORONTO)
    response = client.get(
        MATCHES,
        {"postal_code": "M5V 3L9", "service": "XRAY"},
        headers={"Authorization": f"Bearer {insurer_key.secret}"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.django_db
def test_a_revoked_insurer_key_cannot_read_the_catalogue(client, insurer_key, coordinator):
    from medworks.accounts.services import api_key_revoke

    api_key_revoke(api_key=insurer_key.key, actor=act(coordinator))
    response = client.get(SERVICES, headers={"Authorization": f"Bearer {insurer_key.secret}"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({"postal_code": "W1A 1A1", "service": "XRAY"}, 422, "postal_code_invalid", "postal_code"),
        ({"postal_code": "Y9Z 9Z9", "service": "XRAY"}, 422, "postal_code_unknown", "postal_code"),
        ({"postal_code": "M5V 3L9", "service": "Yoga"}, 422, "service_unknown", "service"),
        ({"postal_code": "M5V 3L9", "service": ""}, 422, "service_missing", "service"),
        ({"postal_code": "M5V 3L9"}, 422, "invalid_input", "service"),
        (
            {"postal_code": "M5V 3L9", "service": "XRAY", "max_minutes": "soon"},
            422,
            "invalid_input",
            "max_minutes",
        ),
        (
            {"postal_code": "M5V 3L9", "service": "XRAY", "max_minutes": 0},
            422,
            "invalid_input",
            "max_minutes",
        ),
        (
            {"postal_code": "M5V 3L9", "service": "XRAY", "limit": 500},
            422,
            "invalid_input",
            "limit",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_json_with_a_message_per_field(
    api, booking_agent, params, status, code, field
):
    response = api(booking_agent, MATCHES, **params)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert body["fields"][field]


@pytest.mark.django_db
def test_the_openapi_document_loads_and_lists_both_routes(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/matches" in paths
    assert "/api/v1/services" in paths
