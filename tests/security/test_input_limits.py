"""Limits on every input (issue 14): text lengths, how many services and dates a request holds,
dates in a sane range, booleans never taken as ids, money only in its documented notation
(ASCII digits, no exponent, at most two decimals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from medworks.bookings.forms import MAX_PREFERRED_DATES, MAX_SERVICES, BookingRequestForm
from medworks.bookings.services import booking_request_clean
from medworks.core.errors import DomainError
from medworks.core.ids import parse_id
from medworks.core.money import parse_money, to_money
from medworks.network.text import parse_price
from tests import factories

pytestmark = pytest.mark.django_db


def refused_fields(**overrides) -> dict:
    with pytest.raises(DomainError) as refused:
        booking_request_clean(data=factories.booking_request_data(**overrides))
    return refused.value.fields


def test_every_text_field_of_a_request_has_a_length_limit():
    for name, field in BookingRequestForm.base_fields.items():
        if hasattr(field, "max_length"):
            assert field.max_length, name


def test_a_request_names_at_most_ten_services():
    fields = refused_fields(services=["XRAY"] * (MAX_SERVICES + 1))
    assert "At most 10 services" in fields["services"][0]


def test_a_request_gives_at_most_ten_preferred_dates():
    start = timezone.localdate()
    days = [(start + dt.timedelta(days=n)).isoformat() for n in range(1, MAX_PREFERRED_DATES + 2)]
    assert (
        "At most 10 preferred dates" in refused_fields(preferred_dates=days)["preferred_dates"][0]
    )


def test_a_preferred_date_is_at_most_two_years_ahead():
    far = (timezone.localdate() + dt.timedelta(days=3 * 365)).isoformat()
    assert "two years ahead" in refused_fields(preferred_dates=[far])["preferred_dates"][0]


@pytest.mark.parametrize("dob", ["1850-01-01", "2999-01-01", "0001-01-01"])
def test_a_date_of_birth_is_in_a_sane_range(dob):
    assert "patient_date_of_birth" in refused_fields(patient_date_of_birth=dob)


def test_the_oldest_date_of_birth_is_computed_on_a_29_february_too(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda: dt.date(2028, 2, 29))
    form = BookingRequestForm(data={"patient_date_of_birth": "1990-01-01"})
    form.is_valid()
    assert "patient_date_of_birth" not in form.errors


@pytest.mark.parametrize("item", [True, "²", "9" * 30])
def test_no_service_is_named_by_a_boolean_or_a_number_that_is_no_id(item):
    assert "services" in refused_fields(services=[item])


def test_parse_id_takes_only_ids_the_database_can_hold():
    assert parse_id(7) == 7 and parse_id(" 42 ") == 42
    for bad in (True, False, 0, -1, 2**63, "²", "١٢", "12a", 1.0, None):
        assert parse_id(bad) is None, bad


@pytest.mark.parametrize(
    "text", ["1e3", "1E3", "١٢٣", "1_000", "NaN", "Infinity", "1.005", "", "12.", ".5", "+5"]
)
def test_money_is_refused_unless_written_as_the_documentation_says(text):
    with pytest.raises(ValueError):
        parse_money(text)


def test_money_written_as_documented_is_read():
    assert parse_money("1500") == Decimal("1500.00")
    assert parse_money("1500.5") == Decimal("1500.50")
    assert parse_money(" -3.75 ") == Decimal("-3.75")
    with pytest.raises(TypeError):
        parse_money(1.5)
    with pytest.raises(TypeError):
        to_money(True)
    with pytest.raises(ValueError):
        to_money("1e3")
    assert to_money("2.675") == Decimal("2.68")  # what the code computes is still rounded


@pytest.mark.parametrize("text", ["١٢٣", "1e3", "12.345", "$1,250.005"])
def test_a_typed_price_is_ascii_digits_to_the_cent(text):
    with pytest.raises(ValueError):
        parse_price(text)


def test_a_spreadsheet_number_cell_is_still_rounded_to_the_cent():
    assert parse_price(95.555) == Decimal("95.56")


def test_a_gop_amount_is_refused_in_any_other_notation(insurer_user, booking_agent):
    from medworks.documents.gops import gop_issue
    from tests.factories import act

    case = factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation, agent=booking_agent
    )
    terms = {"authorised_services": ["XRAY"], "valid_from": "2026-12-01", "valid_to": "2026-12-31"}
    for amount in ("1e3", "١٢٣", "500.005", True):
        with pytest.raises(DomainError) as refused:
            gop_issue(case=case, data={**terms, "max_amount": amount}, actor=act(insurer_user))
        assert "max_amount" in refused.value.fields, amount
    for day in ("1800-01-01", "2200-01-01"):
        with pytest.raises(DomainError) as refused:
            gop_issue(
                case=case,
                data={**terms, "max_amount": "500.00", "valid_to": day},
                actor=act(insurer_user),
            )
        assert "valid_to" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        gop_issue(
            case=case,
            data={**terms, "max_amount": "500", "provider": True},
            actor=act(insurer_user),
        )
    assert "provider" in refused.value.fields


def test_the_api_documents_the_limits(client: Client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    request = schema["BookingRequestIn"]["properties"]
    assert request["services"]["maxItems"] == MAX_SERVICES
    assert request["preferred_dates"]["maxItems"] == MAX_PREFERRED_DATES
    assert request["patient_first_name"]["maxLength"] == 100
    assert request["symptoms"]["maxLength"] == 4000
