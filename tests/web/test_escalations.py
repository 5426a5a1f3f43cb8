"""Management's pages for an escalation: the queue with the time since escalation and the owner,
taking or giving a case, the provider form on the case, and adding a partner by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.services import booking_request_take
from medworks.network.models import AffiliatePartner, Location
from tests import factories
from tests.factories import act

IQALUIT = "X0A 0H0"


def case_url(name: str, case) -> str:
    return reverse(f"web:{name}", kwargs={"order_id": case.order_id})


@pytest.fixture
def escalated(insurer_user, booking_agent):
    case = factories.make_booking_request(
        insurer=insurer_user.organisation,
        patient_postal_code=IQALUIT,
        patient_city="Iqaluit",
        patient_province="NU",
    )
    return booking_request_take(case=case, actor=act(booking_agent))  # no affiliate: escalated


def provider_post(case, **overrides) -> dict:
    data = {
        "provider-name": "Qikiqtani Medical Imaging",
        "provider-address": "1091 Niaqunngusiariaq",
        "provider-city": "Iqaluit",
        "provider-province": "NU",
        "provider-postal_code": "x0a 0h0",
        "provider-phone": "867-555-0142",
        "provider-email": "bookings@qikiqtani-imaging.example",
        "provider-accepts_prepayment": "on",
        "provider-payment_methods": ["credit_card", "eft"],
    }
    for service in case.services.all():
        data[f"provider-price_{service.pk}"] = "$180.00"
    data.update(overrides)
    return data


def test_the_queue_lists_escalated_cases_with_their_age_owner_and_overdue_flag(
    client, manager, escalated
):
    BookingRequest.objects.filter(pk=escalated.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(hours=25)
    )
    client.force_login(manager)
    page = client.get(reverse("web:escalation_queue")).content.decode()
    row = page.split(f'data-order-id="{escalated.order_id}"', 1)[1].split("</tr>", 1)[0]
    assert "is-overdue" in page.split(f'data-order-id="{escalated.order_id}"', 1)[0][-40:]
    assert "25 h" in row
    assert "Nobody yet" in row
    assert "Take</button>" in row
    assert escalated.patient.last_name not in page  # the queue carries no patient data
    assert "Waiting longer than 24 h is flagged." in page


def test_a_manager_takes_a_case_from_the_queue_and_sees_it_as_theirs(client, manager, escalated):
    client.force_login(manager)
    client.post(case_url("escalation_take", escalated))
    escalated.refresh_from_db()
    assert escalated.escalation_owner == manager

    mine = client.get(reverse("web:escalation_queue"), {"owner": "mine"}).content.decode()
    assert escalated.order_id in mine
    page = client.get(case_url("staff_booking_detail", escalated)).content.decode()
    owner = page.split('data-testid="escalation-owner">', 1)[1].split("</strong>", 1)[0]
    assert owner.strip() == "manager"
    assert "Take this escalation" not in page


def test_giving_an_escalation_to_someone_outside_management_is_a_field_error(
    client, manager, escalated, booking_agent
):
    client.force_login(manager)
    response = client.post(case_url("escalation_assign", escalated), {"owner": booking_agent.pk})
    assert response.status_code == 400
    escalated.refresh_from_db()
    assert escalated.escalation_owner is None


def test_the_staff_home_of_management_counts_escalations(client, manager, escalated):
    client.force_login(manager)
    page = client.get(reverse("web:staff_home")).content.decode()
    tile = page.split('data-testid="escalations-tile"', 1)[1].split("</a>", 1)[0]
    assert "1 escalated case" in tile and "1 without an owner" in tile


def test_the_provider_form_adds_the_provider_and_sends_the_case_for_dates(
    client, manager, escalated
):
    client.force_login(manager)
    page = client.get(case_url("staff_booking_detail", escalated)).content.decode()
    assert 'data-testid="provider-form"' in page

    response = client.post(
        case_url("provider_found", escalated), provider_post(escalated), follow=True
    )

    escalated.refresh_from_db()
    assert escalated.status == BookingStatus.AWAITING_AVAILABILITY
    assert escalated.location.partner.name == "Qikiqtani Medical Imaging"
    assert escalated.location.partner.is_affiliate is False
    assert escalated.location.postal_code == "X0A 0H0"
    assert "The provider is in the directory" in response.content.decode()
    # Its own directory page, where it can be edited.
    detail = client.get(
        reverse("web:partner_detail", args=[escalated.location.partner_id])
    ).content.decode()
    assert "Qikiqtani Medical Imaging" in detail


def test_a_bad_provider_shows_field_errors_and_keeps_what_was_typed(client, manager, escalated):
    client.force_login(manager)
    response = client.post(
        case_url("provider_found", escalated),
        provider_post(escalated, **{"provider-postal_code": "Z9Z 9Z9", "provider-email": "nope"}),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="Qikiqtani Medical Imaging"' in page
    assert not AffiliatePartner.objects.filter(name="Qikiqtani Medical Imaging").exists()

    response = client.post(
        case_url("provider_found", escalated),
        provider_post(escalated, **{"provider-postal_code": "Z9Z 9Z9"}),
    )
    assert response.status_code == 400
    assert "Z9Z" in response.content.decode()  # the postal code's own refusal, on its field
    escalated.refresh_from_db()
    assert escalated.status == BookingStatus.ESCALATED


def test_a_provider_without_a_price_is_asked_for_it(client, manager, escalated):
    client.force_login(manager)
    service = escalated.services.get()
    response = client.post(
        case_url("provider_found", escalated),
        provider_post(escalated, **{f"provider-price_{service.pk}": ""}),
    )
    assert response.status_code == 400
    assert not Location.objects.filter(name="Qikiqtani Medical Imaging").exists()


def test_the_booking_agent_sees_the_escalation_but_not_the_provider_form(
    client, booking_agent, escalated
):
    client.force_login(booking_agent)
    page = client.get(case_url("staff_booking_detail", escalated)).content.decode()
    assert 'data-testid="escalation"' in page
    assert 'data-testid="provider-form"' not in page
    assert (
        client.post(case_url("provider_found", escalated), provider_post(escalated)).status_code
        == 403
    )


def test_a_partner_is_added_by_hand_and_then_its_locations(client, coordinator):
    client.force_login(coordinator)
    response = client.post(
        reverse("web:partner_create"),
        {
            "name": "Baffin Physiotherapy",
            "kind": "individual",
            "billing_arrangements": ["direct_billing"],
            "contact_email": "desk@baffin-physio.example",
            "is_active": "on",
        },
    )
    partner = AffiliatePartner.objects.get(name="Baffin Physiotherapy")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:partner_detail", args=[partner.pk])
    assert (partner.is_affiliate, partner.billing_arrangements) == (False, ["direct_billing"])

    twin = client.post(
        reverse("web:partner_create"), {"name": "baffin  physiotherapy", "kind": "individual"}
    )
    assert twin.status_code == 200
    assert "Another partner already has this name." in twin.content.decode()
    assert AffiliatePartner.objects.filter(name__iexact="Baffin Physiotherapy").count() == 1


def test_french_pages_of_management(client, manager, escalated):
    manager.preferred_language = "fr"
    manager.save()
    client.force_login(manager)
    queue = client.get(reverse("web:escalation_queue")).content.decode()
    assert "Escalades" in queue
    page = client.get(case_url("staff_booking_detail", escalated)).content.decode()
    assert "Consigner le fournisseur trouvé" in page


def test_a_sales_manager_is_management_too(client, escalated):
    sales = factories.make_user(roles=[RoleCode.SALES_MANAGER])
    client.force_login(sales)
    client.post(case_url("escalation_take", escalated))
    escalated.refresh_from_db()
    assert escalated.escalation_owner == sales
