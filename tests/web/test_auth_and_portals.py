"""Signing in lands each person on their own face; portals show only their organisation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories


def test_the_login_page_has_labelled_fields_and_the_geonames_credit(client, db):
    page = client.get(reverse("web:login")).content.decode()
    assert '<label for="id_username">' in page
    assert '<label for="id_password">' in page
    assert "Postal-code data © <a" in page and "GeoNames" in page and "CC BY 4.0" in page


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("booking_agent", "web:staff_home"),
        ("coordinator", "web:staff_home"),
        ("finance_user", "web:staff_home"),
        ("insurer_user", "web:portal_home"),
        ("clinic_user", "web:clinic_home"),
    ],
)
def test_signing_in_lands_each_role_on_its_own_home(client, db, request, persona, landing):
    user = request.getfixturevalue(persona)
    response = client.post(
        reverse("web:login"),
        {"username": user.username, "password": factories.PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(landing)
    assert response.status_code == 200
    assert user.organisation.name in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message_and_the_username_kept(client, booking_agent):
    response = client.post(reverse("web:login"), {"username": "agent", "password": "nope"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in page
    assert 'value="agent"' in page


def test_a_user_without_a_role_sees_a_clear_403_page_after_signing_in(client, outsider):
    response = client.post(
        reverse("web:login"),
        {"username": "outsider", "password": factories.PASSWORD},
        follow=True,
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "has no role that opens any page here yet" in page
    assert "Nobody Inc" in page


def test_the_home_page_sends_an_anonymous_visitor_to_log_in(client, db):
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_signing_out_needs_a_post(client, booking_agent):
    client.force_login(booking_agent)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:staff_home")).status_code == 302  # back to login


def test_the_insurer_portal_names_the_organisation_and_says_requests_will_appear(
    client, insurer_user
):
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_home")).content.decode()
    assert "Maple Assist" in page
    assert "No booking requests yet" in page


def test_the_clinic_portal_lists_only_the_clinics_own_locations_with_prices(client, clinic_user):
    own = factories.make_partner(name="Harbour Clinic Group", organisation=clinic_user.organisation)
    own_location = factories.make_location(partner=own, name="Harbour Clinic Halifax")
    factories.make_offering(location=own_location, service_code="PHYSIO", price="95.50")
    other = factories.make_location(name="Someone Else's Clinic")
    factories.make_offering(location=other, service_code="MRI", price="900")

    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_prices")).content.decode()  # linked from the home
    assert "Harbour Clinic Halifax" in page
    assert "Physiotherapy" in page and "$95.50" in page
    assert "Someone Else" not in page
    assert "MRI" not in page


def test_a_clinic_not_yet_linked_to_a_partner_sees_an_explanation(client, clinic_user):
    client.force_login(clinic_user)
    page = client.get(reverse("web:clinic_prices")).content.decode()
    assert "No locations are linked to your organisation yet" in page
