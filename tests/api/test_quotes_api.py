"""The quote through the API: an insurer's system reads the charges as its settings say, and
confirms or disputes them; the key that answered is recorded; another insurer's key sees
nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from medworks.billing.models import InsurerPricing, InsurerView, QuoteStatus
from medworks.billing.selectors import quote_current
from tests import factories


@pytest.fixture
def priced(insurer_key, booking_agent):
    location = factories.make_location()
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    return factories.make_case_awaiting_dates(
        insurer=insurer_key.organisation, location=location, agent=booking_agent
    )


def quote_url(case, action: str = "") -> str:
    return f"/api/v1/booking-requests/{case.order_id}/quote" + (f"/{action}" if action else "")


def test_an_insurer_reads_its_prices_without_the_clinic_cost(api, insurer_key, priced):
    response = api("get", quote_url(priced), key=insurer_key.secret)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "awaiting_confirmation"
    assert body["actions"] == ["confirm", "dispute"]
    (line,) = body["lines"]
    assert (line["service"], Decimal(line["price"])) == ("XRAY", Decimal("180.00"))
    assert line["clinic_cost"] is None and line["medworks_fee"] is None
    assert [(t["name"], Decimal(t["amount"])) for t in body["taxes"]] == [("HST", Decimal("23.40"))]
    assert Decimal(body["total"]) == Decimal("203.40")


def test_the_full_breakdown_shows_the_clinic_cost_when_the_insurer_is_set_up_so(
    api, insurer_key, priced
):
    InsurerPricing.objects.create(
        insurer=insurer_key.organisation, insurer_view=InsurerView.FULL_BREAKDOWN
    )
    (line,) = api("get", quote_url(priced), key=insurer_key.secret).json()["lines"]
    assert Decimal(line["clinic_cost"]) == Decimal("120.00")
    assert Decimal(line["medworks_fee"]) == Decimal("60.00")


def test_an_insurer_system_confirms_and_its_key_is_recorded(api, insurer_key, priced):
    response = api("post", quote_url(priced, "confirm"), key=insurer_key.secret)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "confirmed"
    assert Decimal(response.json()["confirmed_total"]) == Decimal("203.40")
    quote = quote_current(case=priced)
    assert (quote.confirmed_by, quote.confirmed_by_party) == (None, "insurer")
    assert quote.confirmed_by_detail == insurer_key.key.prefix
    again = api("post", quote_url(priced, "confirm"), key=insurer_key.secret)
    assert again.status_code == 409
    assert again.json()["code"] == "quote_status_illegal"


def test_a_dispute_needs_a_reason_and_is_recorded(api, insurer_key, priced):
    missing = api("post", quote_url(priced, "dispute"), key=insurer_key.secret, json={})
    assert missing.status_code == 422
    response = api(
        "post",
        quote_url(priced, "dispute"),
        key=insurer_key.secret,
        json={"note": "Our contract says $150."},
    )
    assert response.status_code == 200
    assert quote_current(case=priced).status == QuoteStatus.DISPUTED


def test_another_insurers_key_gets_404_and_changes_nothing(api, other_insurer_key, priced):
    for method, action in (("get", ""), ("post", "confirm")):
        response = api(method, quote_url(priced, action), key=other_insurer_key.secret)
        assert response.status_code == 404
    assert quote_current(case=priced).status == QuoteStatus.AWAITING_CONFIRMATION


def test_a_case_without_a_quote_answers_404(api, insurer_key):
    case = factories.make_booking_request(insurer=insurer_key.organisation)
    response = api("get", quote_url(case), key=insurer_key.secret)
    assert (response.status_code, response.json()["code"]) == (404, "quote_not_found")
