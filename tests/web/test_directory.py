"""The staff directory: search, filters, paging, the partner page, and its edit forms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from medworks.core.models import AuditEvent
from medworks.network import geo
from medworks.network.models import AffiliatePartner, Offering
from tests import factories
from tests.factories import act

LIST = reverse("web:partner_list")


@pytest.fixture
def network(db):
    """Three partners in three provinces, one of them inactive and one not an affiliate."""
    toronto = factories.make_partner(name="Queen West Imaging", kind="network")
    factories.make_offering(
        location=factories.make_location(partner=toronto, city="Toronto", postal_code="M5V 3L9"),
        service_code="MRI",
    )
    factories.make_location(partner=toronto, city="Ottawa", postal_code="K1P 1J1")
    montreal = factories.make_partner(name="Clinique Médicale Ste-Catherine", is_active=False)
    factories.make_offering(
        location=factories.make_location(
            partner=montreal, city="Montréal", province="QC", postal_code="H3B 1A7"
        ),
        service_code="PHYSIO",
    )
    factories.make_location(
        partner=factories.make_partner(name="Granville Walk-in", is_affiliate=False),
        city="Vancouver",
        province="BC",
        postal_code="V6B 1A1",
    )


def _names(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200
    return [partner.name for partner, _ in response.context["rows"]]


def test_the_list_shows_each_partner_with_its_location_count_and_provinces(
    client, booking_agent, network
):
    client.force_login(booking_agent)
    response = client.get(LIST)
    rows = {
        partner.name: (partner.location_count, provinces)
        for partner, provinces in response.context["rows"]
    }
    assert rows["Queen West Imaging"] == (2, ["ON"])
    assert rows["Granville Walk-in"] == (1, ["BC"])
    assert "3 partners" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "queen"}, ["Queen West Imaging"]),
        ({"q": "medicale ste"}, ["Clinique Médicale Ste-Catherine"]),  # accents ignored
        ({"q": "montréal"}, ["Clinique Médicale Ste-Catherine"]),  # a city
        ({"q": "ottawa"}, ["Queen West Imaging"]),  # the city of a second location
        ({"q": "k1p"}, ["Queen West Imaging"]),  # the start of a postal code
        ({"q": "v6b1a1"}, ["Granville Walk-in"]),  # a postal code without its space
        ({"province": "QC"}, ["Clinique Médicale Ste-Catherine"]),
        ({"service": "MRI"}, ["Queen West Imaging"]),
        ({"kind": "network"}, ["Queen West Imaging"]),
        ({"active": "no"}, ["Clinique Médicale Ste-Catherine"]),
        ({"affiliate": "no"}, ["Granville Walk-in"]),
        ({"province": "ON", "service": "PHYSIO"}, []),
    ],
)
def test_search_and_filters_narrow_the_list(client, booking_agent, network, params, expected):
    client.force_login(booking_agent)
    assert _names(client, **params) == expected


def test_a_search_with_no_match_explains_what_to_try(client, booking_agent, network):
    client.force_login(booking_agent)
    page = client.get(LIST, {"q": "zzz"}).content.decode()
    assert "No partner matches." in page


def test_an_htmx_request_gets_only_the_table(client, booking_agent, network):
    client.force_login(booking_agent)
    full = client.get(LIST, {"q": "queen"}).content.decode()
    partial = client.get(LIST, {"q": "queen"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and 'hx-trigger="keyup changed delay:300ms' in full
    assert "<html" not in partial
    assert "Queen West Imaging" in partial


def test_the_list_is_paginated_fifty_to_a_page(client, booking_agent, db):
    for n in range(55):
        factories.make_partner(name=f"Partner {n:03d}")
    client.force_login(booking_agent)
    first = client.get(LIST)
    assert len(first.context["rows"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(LIST, {"page": 2})
    assert [p.name for p, _ in second.context["rows"]][-1] == "Partner 054"


def _count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_the_list_page_query_count_does_not_grow_with_the_number_of_partners(
    client, booking_agent, db, django_assert_max_num_queries
):
    def add_partners(n):
        for _ in range(n):
            partner = factories.make_partner()
            for _ in range(2):
                factories.make_offering(location=factories.make_location(partner=partner))

    client.force_login(booking_agent)
    add_partners(10)
    with django_assert_max_num_queries(12):
        client.get(LIST)
    with_ten = _count_list_queries(client)
    add_partners(50)
    with django_assert_max_num_queries(12):
        client.get(LIST)
    assert _count_list_queries(client) == with_ten


def test_the_partner_page_shows_locations_services_prices_and_recent_changes(
    client, coordinator, directory
):
    from medworks.network import services

    services.offering_set_price(
        offering=directory.offering, price="1250.00", actor=act(coordinator)
    )
    services.partner_update(
        partner=directory.partner, data={"tax_number": "123456789RT0001"}, actor=act(coordinator)
    )
    client.force_login(coordinator)
    page = client.get(reverse("web:partner_detail", args=[directory.partner.pk])).content.decode()
    for text in [
        "Lakeshore Imaging King West",
        "500 King St W",
        "Toronto, ON M5V 3L9",
        "Postal code",  # how the location was placed on the map
        "416-555-0100",
        "English, French",
        "X-ray",
        "$1,250.00",
        "123456789RT0001",
        "Changed tax_number",
    ]:
        assert text in page, text


def test_a_missing_partner_is_a_404(client, booking_agent, db):
    client.force_login(booking_agent)
    assert client.get(reverse("web:partner_detail", args=[999999])).status_code == 404


# --- editing -----------------------------------------------------------------------------------


def _partner_post(partner, **overrides):
    data = {
        "name": partner.name,
        "kind": partner.kind,
        "is_affiliate": "on",
        "billing_arrangements": ["direct_billing"],
        "tax_number": "",
        "contact_name": "",
        "contact_email": "",
        "contact_phone": "",
        "is_active": "on",
        "notes": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_coordinator_edits_a_partner(client, coordinator, directory):
    client.force_login(coordinator)
    url = reverse("web:partner_edit", args=[directory.partner.pk])
    form_page = client.get(url).content.decode()
    assert 'value="Lakeshore Imaging"' in form_page
    response = client.post(
        url,
        _partner_post(
            directory.partner,
            billing_arrangements=["credit_card", "eft"],
            accepts_prepayment="on",
            contact_name="Dana Roy",
            is_active=None,  # unticked
        ),
    )
    assert response.status_code == 302
    partner = AffiliatePartner.objects.get(pk=directory.partner.pk)
    assert partner.billing_arrangements == ["credit_card", "eft"]
    assert partner.accepts_prepayment and not partner.is_active
    assert partner.contact_name == "Dana Roy"
    assert AuditEvent.objects.filter(action="partner.updated", actor=coordinator).count() == 1


def test_a_partner_takes_the_insurers_card_and_payment_terms(client, coordinator, directory):
    client.force_login(coordinator)
    url = reverse("web:partner_edit", args=[directory.partner.pk])
    assert "The insurer&#x27;s corporate card" in client.get(url).content.decode()
    too_long = client.post(url, _partner_post(directory.partner, payment_terms_days="400"))
    assert "Ensure this value is less than or equal to 365." in too_long.content.decode()
    response = client.post(
        url,
        _partner_post(
            directory.partner,
            billing_arrangements=["insurer_card"],
            payment_terms_days="45",
        ),
    )
    assert response.status_code == 302
    partner = AffiliatePartner.objects.get(pk=directory.partner.pk)
    assert (partner.billing_arrangements, partner.payment_terms_days) == (["insurer_card"], 45)
    detail = client.get(reverse("web:partner_detail", args=[partner.pk])).content.decode()
    assert "45 days" in detail and "The insurer&#x27;s corporate card" in detail
    # Left blank, the terms stay as they were.
    client.post(url, _partner_post(partner, payment_terms_days=""))
    assert AffiliatePartner.objects.get(pk=partner.pk).payment_terms_days == 45


def test_a_partner_form_with_errors_shows_them_and_keeps_the_input(client, coordinator, directory):
    factories.make_partner(name="Taken Name")
    client.force_login(coordinator)
    response = client.post(
        reverse("web:partner_edit", args=[directory.partner.pk]),
        _partner_post(directory.partner, name="Taken  name", contact_email="nope"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter a valid email address." in page
    assert 'value="nope"' in page
    # The form's own check fails first; the service's rule shows once the e-mail is fixed.
    response = client.post(
        reverse("web:partner_edit", args=[directory.partner.pk]),
        _partner_post(directory.partner, name="Taken  name"),
    )
    page = response.content.decode()
    assert "Another partner already has this name." in page
    assert 'value="Taken  name"' in page
    assert AuditEvent.objects.count() == 0


def _location_post(**overrides):
    data = {
        "name": "Harbourfront",
        "address": "1 Front St",
        "city": "Toronto",
        "province": "ON",
        "postal_code": "M5V 3L9",
        "phone": "",
        "email": "",
        "languages": "",
        "is_active": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_a_coordinator_adds_a_location_that_is_geocoded(client, coordinator, directory):
    client.force_login(coordinator)
    response = client.post(
        reverse("web:location_create", args=[directory.partner.pk]),
        _location_post(postal_code="k1p1j1", city="Ottawa"),
    )
    assert response.status_code == 302
    location = directory.partner.locations.get(name="Harbourfront")
    assert location.postal_code == "K1P 1J1"
    assert location.latitude == geo.geocode("K1P 1J1").latitude


def test_a_location_in_the_wrong_province_is_refused_on_the_province_field(
    client, coordinator, directory
):
    client.force_login(coordinator)
    response = client.post(
        reverse("web:location_edit", args=[directory.location.pk]),
        _location_post(postal_code="H3B 1A7", province="ON"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A postal code starting with H is in QC, not ON." in page
    assert 'value="H3B 1A7"' in page


def test_an_unknown_postal_code_is_refused_with_its_message(client, coordinator, directory):
    client.force_login(coordinator)
    response = client.post(
        reverse("web:location_edit", args=[directory.location.pk]),
        _location_post(postal_code="W1A 1AA"),
    )
    assert "no Canadian code starts with W or Z" in response.content.decode()


def test_a_price_is_changed_inline_with_htmx(client, coordinator, directory):
    client.force_login(coordinator)
    url = reverse("web:offering_price", args=[directory.offering.pk])
    response = client.post(url, {"price": "$1,300.50"}, HTTP_HX_REQUEST="true")
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="offering-{directory.offering.pk}"')
    assert "$1,300.50" in row and "Saved" in row
    assert Offering.objects.get(pk=directory.offering.pk).clinic_price == Decimal("1300.50")


def test_a_bad_inline_price_shows_its_error_in_the_row(client, coordinator, directory):
    client.force_login(coordinator)
    url = reverse("web:offering_price", args=[directory.offering.pk])
    row = client.post(url, {"price": "twelve"}, HTTP_HX_REQUEST="true").content.decode()
    assert "is not an amount such as 125.00" in row
    assert 'value="twelve"' in row
    assert Offering.objects.get(pk=directory.offering.pk).clinic_price == Decimal("1250.00")


def test_a_blank_price_removes_it(client, coordinator, directory):
    client.force_login(coordinator)
    response = client.post(
        reverse("web:offering_price", args=[directory.offering.pk]), {"price": ""}
    )
    assert response.status_code == 302
    assert Offering.objects.get(pk=directory.offering.pk).clinic_price is None


def test_a_service_is_added_to_a_location_and_a_duplicate_is_refused(
    client, coordinator, directory
):
    client.force_login(coordinator)
    url = reverse("web:offering_add", args=[directory.location.pk])
    assert client.post(url, {"service": "MRI", "price": "950"}).status_code == 302
    assert directory.location.offerings.get(service__code="MRI").clinic_price == Decimal("950.00")
    again = client.post(url, {"service": "XRAY", "price": ""})
    assert "This location already offers this service." in again.content.decode()


def test_a_coordinator_withdraws_a_service_and_deactivates_a_partner(
    client, coordinator, directory
):
    client.force_login(coordinator)
    client.post(reverse("web:offering_set_active", args=[directory.offering.pk]), {"active": "no"})
    client.post(reverse("web:partner_set_active", args=[directory.partner.pk]), {"active": "no"})
    directory.offering.refresh_from_db()
    directory.partner.refresh_from_db()
    assert not directory.offering.is_active
    assert not directory.partner.is_active


def test_a_coordinator_links_a_partner_to_its_clinic_portal_organisation(
    client, coordinator, directory, clinic_user
):
    client.force_login(coordinator)
    url = reverse("web:partner_edit", args=[directory.partner.pk])
    org = clinic_user.organisation
    assert org.name in client.get(url).content.decode()
    response = client.post(url, _partner_post(directory.partner, organisation=org.pk))
    assert response.status_code == 302
    assert AffiliatePartner.objects.get(pk=directory.partner.pk).organisation == org
    event = AuditEvent.objects.get(action="partner.updated")
    assert event.payload["changes"]["organisation"] == [None, org.pk]
