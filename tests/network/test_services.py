"""Directory edit use cases: each change is checked, saved in one transaction, and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medworks.core.errors import DomainError
from medworks.core.models import AuditEvent
from medworks.network import geo, services
from medworks.network.models import GeoPrecision, Location
from tests import factories
from tests.factories import act


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


def test_updating_a_partner_saves_the_changes_and_audits_old_and_new(db, coordinator):
    partner = factories.make_partner(name="Bayview Physio")
    services.partner_update(
        partner=partner,
        data={
            "name": "Bayview Physiotherapy",
            "kind": "network",
            "billing_arrangements": ["eft", "direct_billing"],
            "accepts_prepayment": True,
        },
        actor=act(coordinator),
    )
    partner.refresh_from_db()
    assert partner.name == "Bayview Physiotherapy"
    assert partner.name_key == "bayview physiotherapy"
    # Stored in catalogue order, whatever order the form sent.
    assert partner.billing_arrangements == ["direct_billing", "eft"]
    [event] = _events("partner.updated")
    assert event.actor == coordinator
    assert event.payload["changes"]["name"] == ["Bayview Physio", "Bayview Physiotherapy"]
    assert event.object_id == str(partner.pk)


def test_an_update_that_changes_nothing_writes_no_event(db, coordinator):
    partner = factories.make_partner(name="Same Name")
    services.partner_update(partner=partner, data={"name": "Same Name"}, actor=act(coordinator))
    assert _events("partner.updated") == []


def test_a_partner_cannot_take_another_partners_name(db, coordinator):
    factories.make_partner(name="Clinique Médicale St-Jean")
    partner = factories.make_partner(name="Other")
    with pytest.raises(DomainError) as refused:
        services.partner_update(
            partner=partner, data={"name": "clinique medicale st jean"}, actor=act(coordinator)
        )
    assert "name" in refused.value.fields
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "  "}, "name"),
        ({"kind": "franchise"}, "kind"),
        ({"billing_arrangements": ["cheque"]}, "billing_arrangements"),
        ({"contact_email": "not-an-address"}, "contact_email"),
    ],
)
def test_bad_partner_input_is_refused_with_the_field_named(db, coordinator, data, field):
    partner = factories.make_partner()
    with pytest.raises(DomainError) as refused:
        services.partner_update(partner=partner, data=data, actor=act(coordinator))
    assert field in refused.value.fields


def test_an_unknown_field_is_a_programming_error_not_a_silent_drop(db, coordinator):
    with pytest.raises(TypeError):
        services.partner_update(
            partner=factories.make_partner(), data={"name_key": "x"}, actor=act(coordinator)
        )


def test_deactivating_a_partner_is_audited_once(db, coordinator):
    partner = factories.make_partner()
    services.partner_set_active(partner=partner, active=False, actor=act(coordinator))
    services.partner_set_active(partner=partner, active=False, actor=act(coordinator))
    partner.refresh_from_db()
    assert partner.is_active is False
    assert len(_events("partner.deactivated")) == 1


def test_a_new_location_is_placed_on_the_map_from_its_postal_code(db, coordinator):
    partner = factories.make_partner()
    location = services.location_create(
        partner=partner,
        data={"name": "Downtown", "province": "QC", "postal_code": "h3b1a7", "city": "Montréal"},
        actor=act(coordinator),
    )
    point = geo.geocode("H3B 1A7")
    assert location.postal_code == "H3B 1A7"
    assert (location.latitude, location.longitude) == (point.latitude, point.longitude)
    assert location.geo_precision == GeoPrecision.POSTAL_CODE
    assert location.geo_cell == geo.grid_cell(point.latitude, point.longitude)
    assert _events("location.created")[0].payload["partner_id"] == partner.pk


def test_changing_a_postal_code_moves_the_location(db, coordinator):
    location = factories.make_location(postal_code="M5V 3L9", province="ON")
    services.location_update(
        location=location,
        data={"postal_code": "K1P 1J1", "province": "ON"},
        actor=act(coordinator),
    )
    location.refresh_from_db()
    ottawa = geo.geocode("K1P 1J1")
    assert (location.latitude, location.longitude) == (ottawa.latitude, ottawa.longitude)
    assert location.geo_cell == geo.grid_cell(ottawa.latitude, ottawa.longitude)
    [event] = _events("location.updated")
    assert event.payload["changes"]["postal_code"] == ["M5V 3L9", "K1P 1J1"]
    assert "coordinates" in event.payload["changes"]


def test_a_hand_placed_location_keeps_its_coordinates_when_its_postal_code_is_unchanged(
    db, coordinator
):
    location = factories.make_location(postal_code="M5V 3L9", latitude=43.7, longitude=-79.5)
    Location.objects.filter(pk=location.pk).update(geo_precision=GeoPrecision.MANUAL)
    location.refresh_from_db()
    services.location_update(
        location=location, data={"phone": "416-555-0199"}, actor=act(coordinator)
    )
    location.refresh_from_db()
    assert (location.latitude, location.geo_precision) == (43.7, GeoPrecision.MANUAL)


def test_the_province_must_match_the_postal_codes_first_letter(db, coordinator):
    location = factories.make_location()
    with pytest.raises(DomainError) as refused:
        services.location_update(
            location=location,
            data={"postal_code": "H3B 1A7", "province": "ON"},
            actor=act(coordinator),
        )
    assert "QC" in refused.value.fields["province"][0]
    location.refresh_from_db()
    assert location.postal_code == "M5V 3L9"


@pytest.mark.parametrize("postal_code", ["12345", "W1A 1AA", "M5V 3L", ""])
def test_a_malformed_postal_code_is_refused_on_its_field(db, coordinator, postal_code):
    with pytest.raises(DomainError) as refused:
        services.location_create(
            partner=factories.make_partner(),
            data={"name": "X", "province": "ON", "postal_code": postal_code},
            actor=act(coordinator),
        )
    assert "postal_code" in refused.value.fields


def test_a_partner_cannot_have_the_same_location_twice(db, coordinator):
    location = factories.make_location(name="Main Street", postal_code="M5V 3L9")
    with pytest.raises(DomainError) as refused:
        services.location_create(
            partner=location.partner,
            data={"name": "main  street", "province": "ON", "postal_code": "M5V3L9"},
            actor=act(coordinator),
        )
    assert refused.value.code == "location_duplicate"


def test_setting_changing_and_removing_a_price(db, coordinator):
    offering = factories.make_offering(location=factories.make_location(), price=None)
    services.offering_set_price(offering=offering, price="1250", actor=act(coordinator))
    offering.refresh_from_db()
    assert offering.clinic_price == Decimal("1250.00")
    services.offering_set_price(offering=offering, price=Decimal("99.995"), actor=act(coordinator))
    offering.refresh_from_db()
    assert offering.clinic_price == Decimal("100.00")  # half-up to the cent
    services.offering_set_price(offering=offering, price=None, actor=act(coordinator))
    offering.refresh_from_db()
    assert offering.clinic_price is None
    actions = [e.action for e in AuditEvent.objects.order_by("id")]
    assert actions == ["offering.price_set", "offering.price_set", "offering.price_removed"]
    assert AuditEvent.objects.order_by("id").first().payload["new"] == "1250.00"


@pytest.mark.parametrize("price", ["-5", 12.5, "abc"])
def test_a_bad_price_is_refused(db, coordinator, price):
    offering = factories.make_offering(location=factories.make_location())
    with pytest.raises(DomainError) as refused:
        services.offering_set_price(offering=offering, price=price, actor=act(coordinator))
    assert refused.value.code == "price_invalid"


def test_adding_a_service_to_a_location_and_refusing_it_twice(db, coordinator):
    location = factories.make_location()
    offering = services.offering_create(
        location=location, service=factories.service("MRI"), price="900", actor=act(coordinator)
    )
    assert offering.clinic_price == Decimal("900.00")
    with pytest.raises(DomainError) as refused:
        services.offering_create(
            location=location, service=factories.service("MRI"), price=None, actor=act(coordinator)
        )
    assert refused.value.code == "offering_exists"


def test_a_withdrawn_service_can_be_listed_again(db, coordinator):
    offering = factories.make_offering(location=factories.make_location(), service_code="ECG")
    services.offering_set_active(offering=offering, active=False, actor=act(coordinator))
    again = services.offering_create(
        location=offering.location,
        service=factories.service("ECG"),
        price="45",
        actor=act(coordinator),
    )
    assert again.pk == offering.pk and again.is_active
    assert [e.action for e in AuditEvent.objects.order_by("id")] == [
        "offering.withdrawn",
        "offering.created",
    ]


def test_a_partner_is_linked_only_to_an_affiliate_organisation_not_yet_taken(db, coordinator):
    from medworks.accounts.models import OrganisationKind

    insurer = factories.make_organisation(kind=OrganisationKind.INSURER)
    clinic_org = factories.make_organisation(kind=OrganisationKind.AFFILIATE)
    first, second = factories.make_partner(), factories.make_partner()
    with pytest.raises(DomainError) as refused:
        services.partner_update(
            partner=first, data={"organisation": insurer}, actor=act(coordinator)
        )
    assert "affiliate" in refused.value.fields["organisation"][0]
    services.partner_update(
        partner=first, data={"organisation": clinic_org}, actor=act(coordinator)
    )
    with pytest.raises(DomainError) as refused:
        services.partner_update(
            partner=second, data={"organisation": clinic_org}, actor=act(coordinator)
        )
    assert "another partner" in refused.value.fields["organisation"][0]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.organisation, second.organisation) == (clinic_org, None)
