"""Find a clinic: ranked by drive time, within-area badges, escalation banner, field errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from medworks.network import geo
from tests import factories

FIND = reverse("web:find_clinic")


def clinic_at(postal_code: str, name: str, *, service: str = "XRAY", price: str | None = "120"):
    point = geo.geocode(postal_code)
    location = factories.make_location(
        partner=factories.make_partner(name=name),
        name=f"{name} clinic",
        postal_code=point.postal_code,
        province=point.province,
        city=point.place,
        latitude=point.latitude,
        longitude=point.longitude,
    )
    factories.make_offering(location=location, service_code=service, price=price)
    return location


@pytest.fixture
def clinics(db):
    clinic_at("L5B 1M2", "Mississauga Imaging", price="1250")
    clinic_at("M4W 1A5", "Yorkville X-ray")
    clinic_at("K1P 1J1", "Ottawa Imaging")
    clinic_at("M6P 1A1", "Junction Physio", service="PHYSIO")  # near, but not an X-ray clinic


def _matches(response):
    return [m.partner for m in response.context["result"].matches]


def test_clinics_are_ranked_by_drive_time_with_badges_and_prices(client, booking_agent, clinics):
    client.force_login(booking_agent)
    response = client.post(FIND, {"where": "m5v 3l9", "service": "XRAY", "max_minutes": "60"})
    page = response.content.decode()
    assert _matches(response) == ["Yorkville X-ray", "Mississauga Imaging", "Ottawa Imaging"]
    assert page.count("Within area") == 2 and page.count("Outside area") == 1
    assert 'min <span class="muted">(approximate)</span>' in page
    assert "$1,250.00" in page
    assert "escalate to management" not in page


def test_an_address_is_reduced_to_its_postal_code(client, booking_agent, clinics):
    client.force_login(booking_agent)
    response = client.post(
        FIND,
        {"where": "12 Spadina Ave, Toronto ON M5V3L9", "service": "XRAY", "max_minutes": "60"},
        HTTP_HX_REQUEST="true",
    )
    assert response.context["result"].origin.postal_code == "M5V 3L9"
    # The pushed URL carries the postal code and service only, never the street address.
    pushed = response["HX-Push-Url"]
    assert "postal_code=M5V+3L9" in pushed and "service=XRAY" in pushed
    assert "Spadina" not in pushed


def test_a_get_with_postal_code_and_service_runs_the_same_search(client, booking_agent, clinics):
    client.force_login(booking_agent)
    response = client.get(FIND, {"postal_code": "M5V 3L9", "service": "XRAY"})
    assert _matches(response)[0] == "Yorkville X-ray"
    assert response.context["result"].max_minutes == 60


def test_with_nothing_in_the_area_the_page_says_to_escalate(client, booking_agent, clinics):
    client.force_login(booking_agent)
    response = client.post(FIND, {"where": "V6B 1A1", "service": "XRAY", "max_minutes": "60"})
    page = response.content.decode()
    assert "No affiliate within about 60 minutes — escalate to management." in page
    assert "Within area" not in page
    assert "Outside area" in page


def test_the_form_opens_with_the_default_service_area(client, booking_agent, settings):
    settings.MEDWORKS_SERVICE_AREA_MINUTES = 45
    client.force_login(booking_agent)
    page = client.get(FIND).content.decode()
    assert 'name="max_minutes" value="45"' in page
    assert '<label for="id_where">' in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"where": "", "service": "XRAY"}, "This field is required."),
        ({"where": "Somewhere on Main Street", "service": "XRAY"}, "No postal code found"),
        ({"where": "M5V 3L9", "service": ""}, "This field is required."),
        ({"where": "M5V 3L9", "service": "XRAY", "max_minutes": "0"}, "greater than or equal to 5"),
        ({"where": "W1A1AA", "service": "XRAY"}, "W or Z"),
    ],
)
def test_bad_input_shows_field_errors_and_keeps_the_input(
    client, booking_agent, clinics, data, message
):
    client.force_login(booking_agent)
    data = {"max_minutes": "60", **data}
    response = client.post(FIND, data, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.context["result"] is None
    assert message in page
    if data["where"]:
        assert f'value="{data["where"]}"' in page
