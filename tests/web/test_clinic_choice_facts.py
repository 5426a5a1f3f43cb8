"""The ranked clinics show how to reach each one and whether it meets the patient's needs: its
phone and languages, and, for a patient who needs it, its wheelchair access (users' trials)."""

from __future__ import annotations

from django.urls import reverse

from medworks.bookings.models import Patient
from medworks.bookings.services import booking_request_take
from medworks.network.models import Location
from tests import factories
from tests.factories import act


def clinic(name: str, **fields) -> Location:
    location = factories.make_location(
        partner=factories.make_partner(name=name), name=name, **fields
    )
    factories.make_offering(location=location, service_code="XRAY")
    return location


def facts_of(page: str, name: str) -> str:
    row = page.split(f"<strong>{name}</strong>", 1)[1].split("</td>", 1)[0]
    return row


def test_a_french_speaking_patient_in_a_wheelchair_sees_which_clinics_meet_both(
    client, booking_agent, insurer_user
):
    clinic(
        "Clinique Accessible",
        phone="416-555-0101",
        languages="French, English",
        wheelchair_accessible=True,
    )
    clinic(
        "Stairs Only Imaging",
        phone="416-555-0102",
        languages="English",
        wheelchair_accessible=False,
        latitude=43.6436,
    )
    clinic("Unknown Access X-ray", languages="", latitude=43.6446)
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_language="fr",
        patient_needs_wheelchair_access=True,
    )
    assert Patient.objects.get(pk=case.patient_id).needs_wheelchair_access is True
    booking_request_take(case=case, actor=act(booking_agent))
    client.force_login(booking_agent)

    page = client.get(reverse("web:staff_booking_detail", args=[case.order_id])).content.decode()

    good = facts_of(page, "Clinique Accessible")
    assert "416-555-0101" in good and "French, English" in good
    assert "Speaks the patient's language" in good and ">Wheelchair accessible<" in good
    bad = facts_of(page, "Stairs Only Imaging")
    assert "Patient's language not listed" in bad and "Not wheelchair accessible" in bad
    unknown = facts_of(page, "Unknown Access X-ray")
    assert "languages not listed" in unknown and "Wheelchair access not known" in unknown
    assert "Needs wheelchair access" in page  # on the patient's details


def test_without_a_wheelchair_need_no_access_warning_is_shown(client, booking_agent, insurer_user):
    clinic("Stairs Only Imaging", languages="English", wheelchair_accessible=False)
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    booking_request_take(case=case, actor=act(booking_agent))
    client.force_login(booking_agent)
    page = client.get(reverse("web:staff_booking_detail", args=[case.order_id])).content.decode()
    row = facts_of(page, "Stairs Only Imaging")
    assert "wheelchair" not in row.lower()
    assert "Speaks the patient's language" in row


def test_the_directory_records_a_locations_wheelchair_access(client, coordinator):
    location = clinic("Harbour Imaging")
    client.force_login(coordinator)
    response = client.post(
        reverse("web:location_edit", args=[location.pk]),
        {
            "name": location.name,
            "province": "ON",
            "postal_code": location.postal_code,
            "wheelchair_accessible": "true",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.wheelchair_accessible is True


def test_the_api_takes_the_wheelchair_need(client, insurer_user):
    from medworks.accounts.services import api_key_create

    _key, secret = api_key_create(
        organisation=insurer_user.organisation, name="system", actor=act(None)
    )
    data = factories.booking_request_data(patient_needs_wheelchair_access=True)
    response = client.post(
        "/api/v1/booking-requests",
        data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["order_id"]
    assert Patient.objects.get(requests__order_id=order_id).needs_wheelchair_access is True
