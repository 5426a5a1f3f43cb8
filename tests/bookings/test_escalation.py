"""Escalation that management can finish (SOP "Escalation to Management", case 2): the desk
escalates a case matching cannot serve, management is told, one of them owns it and records the
provider found, which enters the directory and is asked for dates; where charges must be
confirmed first, no date is approved before the insurer confirms the quote."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medworks.accounts.models import RoleCode
from medworks.billing.models import InsurerPricing, Quote, QuoteStatus
from medworks.billing.quotes import quote_confirm
from medworks.bookings import services
from medworks.bookings.models import BookingEvent, BookingStatus
from medworks.bookings.selectors import insurer_timeline, location_search
from medworks.core.errors import DomainError
from medworks.network.models import AffiliatePartner, Location, Offering
from medworks.notifications.models import OutboxMessage
from tests import factories
from tests.factories import act

S = BookingStatus
IQALUIT = "X0A 0H0"  # Nunavut: no road to the rest of the network


def ottawa_clinic():
    location = factories.make_location(
        partner=factories.make_partner(name="Capital Imaging"),
        name="Capital Imaging Ottawa",
        postal_code="K1P 1J1",
        latitude=45.4215,
        longitude=-75.6972,
    )
    factories.make_offering(location=location, service_code="XRAY")
    return location


@pytest.fixture
def remote_case(insurer_user):
    ottawa_clinic()  # the nearest affiliate: about 2,000 km away, and no road
    return factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_postal_code=IQALUIT,
        patient_city="Iqaluit",
        patient_province="NU",
        patient_address="1 Federal Road",
    )


@pytest.fixture
def managers(db):
    return [
        factories.make_user(roles=[RoleCode.SALES_MANAGER], email="sales@medworks.test"),
        factories.make_user(roles=[RoleCode.SENIOR_MANAGER], email="senior@medworks.test"),
    ]


@pytest.fixture
def escalated(remote_case, booking_agent, managers):
    return services.booking_request_take(case=remote_case, actor=act(booking_agent))


def provider_kwargs(case, **overrides):
    data = {
        "partner_data": {
            "name": "Qikiqtani Medical Imaging",
            "accepts_prepayment": True,
            "billing_arrangements": ["credit_card", "eft"],
            "contact_email": "bookings@qikiqtani-imaging.example",
            "contact_phone": "867-555-0142",
        },
        "location_data": {
            "name": "Qikiqtani Medical Imaging",
            "address": "1091 Niaqunngusiariaq",
            "city": "Iqaluit",
            "province": "NU",
            "postal_code": "X0A 0H0",
            "phone": "867-555-0142",
            "email": "bookings@qikiqtani-imaging.example",
        },
        "prices": {s: Decimal("180.00") for s in case.services.all()},
    }
    data.update(overrides)
    return data


# --- the desk escalates ----------------------------------------------------------------------


def test_taking_a_case_no_affiliate_can_serve_escalates_it_saying_why(escalated, booking_agent):
    assert escalated.status == S.ESCALATED
    assert escalated.owner == booking_agent  # still the agent's case; management finds a provider
    event = BookingEvent.objects.get(request=escalated, kind="escalate")
    assert (event.actor, event.actor_kind) == (None, "system")
    assert "no affiliate partner offering every requested service within 60 minutes" in event.note
    assert IQALUIT in event.note


def test_each_manager_and_the_management_inbox_are_told(escalated, managers, settings):
    message = OutboxMessage.objects.get(template="team_escalated")
    assert set(message.to) == {
        settings.MEDWORKS_MANAGEMENT_EMAIL,
        "sales@medworks.test",
        "senior@medworks.test",
    }
    assert escalated.order_id in message.subject
    assert "/staff/escalations/" in message.body
    assert "Iqaluit" not in message.body  # the postal code says where; no patient's name
    assert escalated.patient.last_name not in message.body


def test_a_manager_without_an_email_or_deactivated_is_not_in_the_list(
    remote_case, booking_agent, managers, settings
):
    managers[0].is_active = False
    managers[0].save()
    services.booking_request_take(case=remote_case, actor=act(booking_agent))
    message = OutboxMessage.objects.get(template="team_escalated")
    assert "sales@medworks.test" not in message.to
    assert "senior@medworks.test" in message.to


def test_the_insurers_service_area_decides(insurer_user, booking_agent):
    ottawa_clinic()  # about 4 h 30 from Toronto by road
    org = insurer_user.organisation
    org.service_area_minutes = 330
    org.save()
    case = factories.make_booking_request(insurer=org)  # a Toronto patient
    taken = services.booking_request_take(case=case, actor=act(booking_agent))
    assert taken.status == S.SOURCING

    org.service_area_minutes = None  # back to the desk's 60 minutes
    org.save()
    other = factories.make_booking_request(insurer=org)
    assert services.booking_request_take(case=other, actor=act(booking_agent)).status == (
        S.ESCALATED
    )


def test_a_clinic_near_that_lacks_one_of_the_services_does_not_keep_the_case(
    insurer_user, booking_agent, clinic_near_patient
):
    case = factories.make_booking_request(
        insurer=insurer_user.organisation, services=["XRAY", "MRI"]
    )
    taken = services.booking_request_take(case=case, actor=act(booking_agent))
    assert taken.status == S.ESCALATED


def test_with_an_affiliate_in_the_area_the_case_stays_with_the_booking_team(
    case, booking_agent, clinic_near_patient
):
    taken = services.booking_request_take(case=case, actor=act(booking_agent))
    assert taken.status == S.SOURCING
    assert not OutboxMessage.objects.filter(template="team_escalated").exists()


def test_the_insurer_is_told_management_is_finding_a_provider_without_the_note(escalated):
    rows = insurer_timeline(case=escalated)
    assert [r.kind for r in rows] == ["created", "start_sourcing", "escalate"]
    assert rows[-1].note == ""


# --- an owner among management --------------------------------------------------------------


def test_a_manager_takes_the_escalation_and_gives_it_to_another_who_is_told(escalated, managers):
    sales, senior = managers
    services.booking_request_escalation_assign(case=escalated, owner=sales, actor=act(sales))
    assert not OutboxMessage.objects.filter(template="team_escalation_assigned").exists()

    case = services.booking_request_escalation_assign(
        case=escalated, owner=senior, actor=act(sales)
    )
    assert case.escalation_owner == senior
    told = OutboxMessage.objects.get(template="team_escalation_assigned")
    assert told.to == ["senior@medworks.test"]
    assert case.order_id in told.subject
    events = BookingEvent.objects.filter(request=case, kind="escalation_assigned")
    assert [e.payload["to_owner"] for e in events.order_by("pk")] == [sales.pk, senior.pk]
    assert "escalation_assigned" not in [r.kind for r in insurer_timeline(case=case)]


def test_only_management_owns_an_escalation(escalated, managers, booking_agent, coordinator):
    with pytest.raises(DomainError) as refused:
        services.booking_request_escalation_assign(
            case=escalated, owner=booking_agent, actor=act(managers[0])
        )
    assert refused.value.code == "owner_invalid"
    with pytest.raises(DomainError) as refused:
        services.booking_request_escalation_assign(
            case=escalated, owner=managers[0], actor=act(coordinator)
        )
    assert refused.value.code == "not_management"
    escalated.refresh_from_db()
    assert escalated.escalation_owner is None


def test_a_case_not_escalated_has_no_escalation_to_take(
    case, booking_agent, managers, clinic_near_patient
):
    services.booking_request_take(case=case, actor=act(booking_agent))
    with pytest.raises(DomainError) as refused:
        services.booking_request_escalation_assign(
            case=case, owner=managers[0], actor=act(managers[0])
        )
    assert refused.value.code == "not_escalated"


# --- the provider found ----------------------------------------------------------------------


def test_the_provider_found_enters_the_directory_and_is_asked_for_dates(escalated, managers):
    manager = managers[0]
    case = services.booking_request_provider_found(
        case=escalated, actor=act(manager), **provider_kwargs(escalated)
    )
    assert case.status == S.AWAITING_AVAILABILITY
    assert case.escalation_owner == manager  # who found it
    partner = AffiliatePartner.objects.get(name="Qikiqtani Medical Imaging")
    assert (partner.is_affiliate, partner.accepts_prepayment, partner.billing_arrangements) == (
        False,
        True,
        ["credit_card", "eft"],
    )
    location = Location.objects.get(partner=partner)
    assert case.location == location
    assert location.postal_code == "X0A 0H0" and location.latitude is not None
    offering = Offering.objects.get(location=location)
    assert (offering.service.code, offering.clinic_price) == ("XRAY", Decimal("180.00"))
    # The quote: the provider's price, MedWorks' fee (50%), Nunavut's GST.
    quote = Quote.objects.get(case=case)
    assert (quote.clinic_cost, quote.medworks_fee, quote.subtotal) == (
        Decimal("180.00"),
        Decimal("90.00"),
        Decimal("270.00"),
    )
    assert quote.total == Decimal("283.50")
    event = BookingEvent.objects.get(request=case, kind="select_clinic")
    assert "Qikiqtani Medical Imaging" in event.note


def test_the_provider_is_found_next_time_by_name_and_marked_non_affiliate(escalated, managers):
    services.booking_request_provider_found(
        case=escalated, actor=act(managers[0]), **provider_kwargs(escalated)
    )
    found = location_search(q="qikiqtani", service_ids=[factories.service("XRAY").pk])
    assert [loc.partner.name for loc in found] == ["Qikiqtani Medical Imaging"]
    assert found[0].partner.is_affiliate is False


def test_a_refused_provider_writes_nothing_and_names_every_bad_field(escalated, managers):
    kwargs = provider_kwargs(escalated)
    kwargs["location_data"] = {**kwargs["location_data"], "postal_code": "Z9Z 9Z9"}
    kwargs["partner_data"] = {**kwargs["partner_data"], "contact_email": "not-an-address"}
    with pytest.raises(DomainError) as refused:
        services.booking_request_provider_found(case=escalated, actor=act(managers[0]), **kwargs)
    assert {"postal_code", "contact_email"} <= set(refused.value.fields)
    assert not AffiliatePartner.objects.filter(name="Qikiqtani Medical Imaging").exists()
    escalated.refresh_from_db()
    assert (escalated.status, escalated.location) == (S.ESCALATED, None)


def test_a_provider_must_price_every_requested_service(insurer_user, booking_agent, managers):
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_postal_code=IQALUIT,
        patient_province="NU",
        services=["XRAY", "ULTRASOUND"],
    )
    case = services.booking_request_take(case=case, actor=act(booking_agent))
    kwargs = provider_kwargs(case, prices={factories.service("XRAY"): Decimal("180.00")})
    with pytest.raises(DomainError) as refused:
        services.booking_request_provider_found(case=case, actor=act(managers[0]), **kwargs)
    assert refused.value.code == "provider_services"
    assert not Location.objects.filter(name="Qikiqtani Medical Imaging").exists()


def test_a_provider_with_a_taken_name_is_refused_on_the_name(escalated, managers):
    factories.make_partner(name="Qikiqtani Medical Imaging")
    with pytest.raises(DomainError) as refused:
        services.booking_request_provider_found(
            case=escalated, actor=act(managers[0]), **provider_kwargs(escalated)
        )
    assert "name" in refused.value.fields


# --- the insurer confirms the charges before booking where it must ---------------------------


def offered(case, agent):
    offer = services.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(agent)
    )
    return offer.slots.get()


def test_out_of_network_no_date_is_approved_before_the_insurer_confirms_the_charges(
    escalated, managers, booking_agent, insurer_user
):
    case = services.booking_request_provider_found(
        case=escalated, actor=act(managers[0]), **provider_kwargs(escalated)
    )
    slot = offered(case, booking_agent)
    with pytest.raises(DomainError) as refused:
        services.availability_offer_approve(slot=slot, actor=act(insurer_user))
    assert "must confirm the charges" in refused.value.message
    case.refresh_from_db()
    assert case.status == S.DATES_OFFERED

    quote_confirm(quote=Quote.objects.get(case=case), actor=act(insurer_user))
    services.availability_offer_approve(slot=slot, actor=act(insurer_user))
    case.refresh_from_db()
    assert case.status == S.BOOKED


@pytest.mark.parametrize("waits", [True, False])
def test_in_network_the_insurers_setting_decides_whether_booking_waits(
    waits, insurer_user, booking_agent, clinic_near_patient
):
    InsurerPricing.objects.create(
        insurer=insurer_user.organisation, in_network_needs_confirmation=waits
    )
    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=clinic_near_patient, agent=booking_agent
    )
    assert Quote.objects.get(case=case).status == QuoteStatus.AWAITING_CONFIRMATION
    slot = offered(case, booking_agent)
    if waits:
        with pytest.raises(DomainError):
            services.availability_offer_approve(slot=slot, actor=act(insurer_user))
        assert BookingStatus(type(case).objects.get(pk=case.pk).status) == S.DATES_OFFERED
    else:
        services.availability_offer_approve(slot=slot, actor=act(insurer_user))
        assert type(case).objects.get(pk=case.pk).status == S.BOOKED
