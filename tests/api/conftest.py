"""An insurer's system with an API key, another insurer's, and a clinic that offers X-rays."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from medworks.accounts.models import OrganisationKind
from medworks.accounts.services import api_key_create
from medworks.bookings import services
from tests import factories
from tests.factories import act


@pytest.fixture
def insurer_key(insurer_user):
    """Maple Assist's claims system (insurer_user works at Maple Assist too)."""
    key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims system", actor=act(None)
    )
    return SimpleNamespace(key=key, secret=secret, organisation=insurer_user.organisation)


@pytest.fixture
def other_insurer_key(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Travel Cover")
    key, secret = api_key_create(organisation=org, name="Birch system", actor=act(None))
    return SimpleNamespace(key=key, secret=secret, organisation=org)


@pytest.fixture
def clinic_location(db, clinic_user):
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(
        partner=partner,
        name="Harbour Clinic King West",
        address="500 King St W",
        city="Toronto",
        email="front@harbour.example",
    )
    factories.make_offering(location=location, service_code="XRAY", price="95.00")
    return location


@pytest.fixture
def offered_case(insurer_key, booking_agent, clinic_location):
    """A Maple Assist case with two dates offered by Harbour Clinic."""
    case = factories.make_booking_request(insurer=insurer_key.organisation, channel="api")
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case,
        slots=[factories.slot_data(days=4), factories.slot_data(days=5)],
        actor=act(booking_agent),
    )
    return SimpleNamespace(case=case, offer=offer, slots=list(offer.slots.order_by("starts_at")))


@pytest.fixture
def api(client):
    """Calls the API as a key (Bearer), or anonymously with key=None."""

    def call(method, url, *, key=None, json=None, headers=None, **params):
        headers = dict(headers or {})
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        if method == "get":
            return client.get(url, params, headers=headers)
        return client.post(url, json or {}, content_type="application/json", headers=headers)

    return call
