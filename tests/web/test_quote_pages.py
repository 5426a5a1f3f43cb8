"""The quote on the case pages: staff see the SOP's table (clinic cost, MedWorks cost, total,
tax, grand total) and record an answer given by phone; the insurer sees its charges as its
settings say and confirms or disputes them in its portal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from medworks.billing.models import InsurerPricing, InsurerView, QuoteStatus
from medworks.billing.selectors import quote_confirmed_amount, quote_current
from tests import factories


@pytest.fixture
def priced(insurer_user, booking_agent):
    """Maple Assist's case sent to a Toronto clinic that charges $120.00 for an X-ray."""
    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, location=location, agent=booking_agent
    )


def test_staff_see_the_sop_table_with_ontarios_hst(client, booking_agent, priced):
    client.force_login(booking_agent)
    page = client.get(reverse("web:staff_booking_detail", args=[priced.order_id])).content.decode()
    assert "Clinic Cost" in page and "MedWorks Cost" in page
    # 120.00 + 50% = 180.00; HST 13% = 23.40; 203.40 to bill the insurer.
    for amount in ("$120.00", "$60.00", "$180.00", "$23.40", "$203.40", "13%"):
        assert amount in page, amount


def test_staff_record_a_confirmation_only_with_a_note_saying_how(client, booking_agent, priced):
    client.force_login(booking_agent)
    url = reverse("web:staff_quote_confirm", args=[priced.order_id])
    refused = client.post(url, {"quote-note": ""}, follow=True)
    assert "Say how the insurer confirmed" in refused.content.decode()
    assert quote_current(case=priced).status == QuoteStatus.AWAITING_CONFIRMATION
    client.post(url, {"quote-note": "By phone with Ms Roy, 10:15"})
    assert quote_current(case=priced).status == QuoteStatus.CONFIRMED
    assert quote_confirmed_amount(case=priced) == Decimal("203.40")


def test_the_insurer_sees_its_prices_without_the_clinic_cost_and_confirms(
    client, insurer_user, priced
):
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[priced.order_id])).content.decode()
    assert "$180.00" in page and "$203.40" in page
    assert "Clinic Cost" not in page and "$120.00" not in page  # the default view
    response = client.post(reverse("web:portal_quote_confirm", args=[priced.order_id]))
    assert response.status_code == 302
    quote = quote_current(case=priced)
    assert (quote.status, quote.confirmed_by, quote.confirmed_total) == (
        QuoteStatus.CONFIRMED,
        insurer_user,
        Decimal("203.40"),
    )
    again = client.get(reverse("web:portal_request", args=[priced.order_id])).content.decode()
    assert "Confirm these charges" not in again


def test_an_insurer_set_up_for_the_total_only_sees_one_amount(client, insurer_user, priced):
    InsurerPricing.objects.create(
        insurer=insurer_user.organisation, insurer_view=InsurerView.TOTAL_ONLY
    )
    client.force_login(insurer_user)
    page = client.get(reverse("web:portal_request", args=[priced.order_id])).content.decode()
    assert "$203.40" in page and "$180.00" not in page


def test_a_dispute_needs_a_reason(client, insurer_user, priced):
    client.force_login(insurer_user)
    url = reverse("web:portal_quote_dispute", args=[priced.order_id])
    client.post(url, {"quote-note": ""})
    assert quote_current(case=priced).status == QuoteStatus.AWAITING_CONFIRMATION
    client.post(url, {"quote-note": "Our contract price is $150."})
    assert quote_current(case=priced).status == QuoteStatus.DISPUTED


def test_another_insurer_cannot_answer_the_quote(client, priced):
    other = factories.make_organisation(name="Birch Insurance")
    stranger = factories.make_user(roles=["insurer_user"], organisation=other)
    client.force_login(stranger)
    response = client.post(reverse("web:portal_quote_confirm", args=[priced.order_id]))
    assert response.status_code == 404
    assert quote_current(case=priced).status == QuoteStatus.AWAITING_CONFIRMATION


def test_a_clinic_cannot_reach_the_quote_routes(client, clinic_user, priced):
    client.force_login(clinic_user)
    for name in ("portal_quote_confirm", "staff_quote_confirm"):
        response = client.post(reverse(f"web:{name}", args=[priced.order_id]))
        assert response.status_code == 403, name
