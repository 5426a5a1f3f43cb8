"""A case's quote: made when its clinic is chosen, a new version when the clinic or the price
changes, confirmed or disputed by its insurer (who, when, which amount), superseded when the
case is cancelled; the confirmed amount is the gate later payments pass."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.accounts.services import api_key_authenticate, api_key_create
from medworks.billing.models import (
    CostSource,
    InsurerFixedPrice,
    InsurerPricing,
    Quote,
    QuoteStatus,
)
from medworks.billing.quotes import (
    QUOTE_CLINIC_COST_MISSING,
    quote_confirm,
    quote_dispute,
    quote_prepare,
)
from medworks.billing.selectors import quote_confirmed_amount, quote_current, quote_versions
from medworks.billing.workflow import QUOTE_WORKFLOW
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingEvent, BookingStatus
from medworks.bookings.selectors import insurer_timeline
from medworks.core.actor import Actor
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.core.models import AuditEvent
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

S = QuoteStatus


def clinic(*, province: str = "ON", postal_code: str = "M5V 3L9", prices: dict | None = None):
    """A clinic location offering each service at its price (None: no price in the directory)."""
    location = factories.make_location(province=province, postal_code=postal_code)
    for code, price in (prices or {"XRAY": "120.00"}).items():
        factories.make_offering(location=location, service_code=code, price=price)
    return location


@pytest.fixture
def toronto(db):
    return clinic(prices={"XRAY": "120.00", "ULTRASOUND": "200.00"})


@pytest.fixture
def case(db, insurer_user, booking_agent, toronto):
    """A case of Maple Assist for an X-ray and an ultrasound, taken by the agent (sourcing:
    the Toronto clinic is near)."""
    case = factories.make_booking_request(
        insurer=insurer_user.organisation, services=["XRAY", "ULTRASOUND"]
    )
    return bookings.booking_request_take(case=case, actor=act(booking_agent))


def choose(case, location, agent):
    return bookings.booking_request_select_clinic(case=case, location=location, actor=act(agent))


def back_to_sourcing(case, agent, insurer_user):
    """The clinic gives dates, the insurer declines them all: the case is sourcing again."""
    bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(agent)
    )
    case.refresh_from_db()
    bookings.availability_offer_decline(case=case, actor=act(insurer_user), note="Too far away.")
    case.refresh_from_db()
    return case


def lines_of(quote):
    return [
        (line.service.code, line.clinic_cost, line.medworks_fee, line.amount)
        for line in quote.lines.all()
    ]


def taxes_of(quote):
    return [(t.name, t.rate, t.amount) for t in quote.taxes.all()]


def another_insurers_user():
    other = factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch Assistance")
    return factories.make_user(roles=[RoleCode.INSURER_USER], organisation=other)


# --- Prepared when the clinic is chosen ---------------------------------------------------------


def test_choosing_a_clinic_makes_quote_version_1_with_a_line_per_service_and_ontarios_hst(
    case, toronto, booking_agent
):
    choose(case, toronto, booking_agent)

    quote = quote_current(case=case)
    assert (quote.version, quote.status, quote.supersedes) == (1, S.AWAITING_CONFIRMATION, None)
    assert quote.location == toronto
    assert lines_of(quote) == [
        ("ULTRASOUND", Decimal("200.00"), Decimal("100.00"), Decimal("300.00")),
        ("XRAY", Decimal("120.00"), Decimal("60.00"), Decimal("180.00")),
    ]
    assert {line.cost_source for line in quote.lines.all()} == {CostSource.DIRECTORY}
    assert taxes_of(quote) == [("HST", Decimal("0.13"), Decimal("62.40"))]
    assert (quote.clinic_cost, quote.medworks_fee, quote.subtotal, quote.total) == (
        Decimal("320.00"),
        Decimal("160.00"),
        Decimal("480.00"),
        Decimal("542.40"),
    )
    assert (quote.place_of_supply, quote.tax_point) == ("ON", timezone.localdate())
    assert "HST 13%" in quote.rule and "where the service is performed" in quote.rule
    assert quote.created_by == booking_agent
    event = BookingEvent.objects.get(request=case, kind="quote_prepared")
    assert event.payload["total"] == "542.40" and event.payload["version"] == 1
    assert AuditEvent.objects.filter(action="quote.prepared", object_id=str(quote.pk)).exists()


def test_a_clinic_in_quebec_is_taxed_gst_and_qst_on_two_lines(insurer_user, booking_agent):
    montreal = clinic(province="QC", postal_code="H2X 1Y4", prices={"XRAY": "120.00"})
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    bookings.booking_request_take(case=case, actor=act(booking_agent))
    choose(case, montreal, booking_agent)

    quote = quote_current(case=case)
    # 180.00 before tax: GST 5% = 9.00; QST 9.975% = 17.955, half-up 17.96.
    assert taxes_of(quote) == [
        ("GST", Decimal("0.05"), Decimal("9.00")),
        ("QST", Decimal("0.09975"), Decimal("17.96")),
    ]
    assert (quote.subtotal, quote.total, quote.place_of_supply) == (
        Decimal("180.00"),
        Decimal("206.96"),
        "QC",
    )


def test_the_insurers_place_of_supply_and_contract_price_apply(
    case, insurer_user, toronto, booking_agent
):
    InsurerPricing.objects.create(insurer=insurer_user.organisation, place_of_supply="QC")
    InsurerFixedPrice.objects.create(
        insurer=insurer_user.organisation,
        service=factories.service("XRAY"),
        price=Decimal("150.00"),
    )
    choose(case, toronto, booking_agent)

    quote = quote_current(case=case)
    assert lines_of(quote)[1] == ("XRAY", Decimal("120.00"), Decimal("30.00"), Decimal("150.00"))
    assert [name for name, _rate, _amount in taxes_of(quote)] == ["GST", "QST"]
    assert quote.place_of_supply == "QC"
    assert "Contract price" in quote.rule and "the insurer's setting" in quote.rule


def test_choosing_another_clinic_supersedes_the_quote_with_version_2(
    case, toronto, booking_agent, insurer_user
):
    choose(case, toronto, booking_agent)
    first = quote_current(case=case)
    case = back_to_sourcing(case, booking_agent, insurer_user)
    cheaper = clinic(prices={"XRAY": "100.00", "ULTRASOUND": "180.00"})

    choose(case, cheaper, booking_agent)

    second = quote_current(case=case)
    first.refresh_from_db()
    assert (first.status, second.version, second.supersedes) == (S.SUPERSEDED, 2, first)
    assert (second.location, second.total) == (cheaper, Decimal("474.60"))
    assert [q.version for q in quote_versions(case=case)] == [2, 1]
    superseded = BookingEvent.objects.get(request=case, kind="quote_superseded")
    assert superseded.payload["reason"] == "new_version"


def test_choosing_the_same_clinic_again_at_the_same_prices_keeps_the_confirmed_quote(
    case, toronto, booking_agent, insurer_user
):
    choose(case, toronto, booking_agent)
    quote_confirm(quote=quote_current(case=case), actor=act(insurer_user))
    case = back_to_sourcing(case, booking_agent, insurer_user)

    choose(case, toronto, booking_agent)

    assert Quote.objects.filter(case=case).count() == 1
    assert quote_confirmed_amount(case=case) == Decimal("542.40")


def test_a_clinic_without_a_price_still_gets_the_case_but_no_quote(insurer_user, booking_agent):
    unpriced = clinic(prices={"XRAY": None})
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    bookings.booking_request_take(case=case, actor=act(booking_agent))

    case = choose(case, unpriced, booking_agent)

    assert case.status == BookingStatus.AWAITING_AVAILABILITY
    assert quote_current(case=case) is None
    assert not BookingEvent.objects.filter(request=case, kind__startswith="quote_").exists()


def test_without_a_price_staff_are_told_which_service_needs_its_cost_and_then_enter_it(
    insurer_user, booking_agent
):
    unpriced = clinic(prices={"XRAY": None})
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    bookings.booking_request_take(case=case, actor=act(booking_agent))
    case = choose(case, unpriced, booking_agent)

    with pytest.raises(DomainError) as refused:
        quote_prepare(case=case, actor=act(booking_agent))
    assert refused.value.code == QUOTE_CLINIC_COST_MISSING
    assert "X-ray (XRAY)" in refused.value.message
    assert unpriced.name in refused.value.message

    xray = factories.service("XRAY")
    quote = quote_prepare(
        case=case, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("150.00")}
    )
    line = quote.lines.get()
    assert (line.cost_source, line.clinic_cost, line.medworks_fee) == (
        CostSource.ENTERED,
        Decimal("150.00"),
        Decimal("75.00"),
    )
    assert quote.total == Decimal("254.25")
    # The entered cost stays with the case at that clinic: preparing again changes nothing.
    assert quote_prepare(case=case, actor=act(booking_agent)) == quote


def test_moving_to_a_clinic_without_a_price_supersedes_the_other_clinics_quote(
    case, toronto, booking_agent, insurer_user
):
    choose(case, toronto, booking_agent)
    quote_confirm(quote=quote_current(case=case), actor=act(insurer_user))
    case = back_to_sourcing(case, booking_agent, insurer_user)

    choose(case, clinic(prices={"XRAY": None, "ULTRASOUND": "200.00"}), booking_agent)

    assert quote_current(case=case) is None
    assert quote_confirmed_amount(case=case) is None


def test_a_contract_price_below_the_clinic_cost_stops_the_clinic_choice(
    case, insurer_user, toronto, booking_agent
):
    InsurerFixedPrice.objects.create(
        insurer=insurer_user.organisation,
        service=factories.service("XRAY"),
        price=Decimal("100.00"),
    )
    with pytest.raises(DomainError) as refused:
        choose(case, toronto, booking_agent)
    assert refused.value.code == "fixed_price_below_cost"
    case.refresh_from_db()
    assert (case.status, case.location) == (BookingStatus.SOURCING, None)
    assert not Quote.objects.exists()


def test_only_medworks_prepares_a_quote(case, toronto, booking_agent, insurer_user, outsider):
    choose(case, toronto, booking_agent)
    with pytest.raises(PermissionDenied) as refused:
        quote_prepare(case=case, actor=act(insurer_user))
    assert refused.value.code == "quote_forbidden"
    with pytest.raises(NotFound):
        quote_prepare(case=case, actor=act(outsider))


def test_a_cost_entered_for_a_service_the_case_does_not_ask_for_is_refused(
    case, toronto, booking_agent
):
    choose(case, toronto, booking_agent)
    with pytest.raises(DomainError) as refused:
        quote_prepare(
            case=case,
            actor=act(booking_agent),
            clinic_costs={factories.service("MRI").pk: Decimal("900.00")},
        )
    assert refused.value.code == "quote_service_not_requested"


# --- The insurer's answer ---------------------------------------------------------------------


@pytest.fixture
def quote(case, toronto, booking_agent):
    choose(case, toronto, booking_agent)
    return quote_current(case=case)


def test_the_insurer_confirms_and_who_when_and_which_amount_are_recorded(quote, insurer_user):
    before = timezone.now()
    confirmed = quote_confirm(quote=quote, actor=act(insurer_user))

    confirmed.refresh_from_db()
    assert confirmed.status == S.CONFIRMED
    assert (confirmed.confirmed_by, confirmed.confirmed_by_party) == (insurer_user, "insurer")
    assert confirmed.confirmed_total == Decimal("542.40")
    assert before <= confirmed.confirmed_at <= timezone.now()
    event = BookingEvent.objects.get(request=quote.case, kind="quote_confirmed")
    assert event.actor == insurer_user
    assert event.payload["confirmed_total"] == "542.40"
    assert event.payload["confirmed_at"] == confirmed.confirmed_at.isoformat()
    assert event.payload["party"] == "insurer"
    assert quote_confirmed_amount(case=quote.case) == Decimal("542.40")


def test_the_insurers_contact_confirms_through_a_signed_link(quote, insurer_user):
    link = Actor.for_signed_link(
        organisation_id=insurer_user.organisation_id, purpose="quote_confirm"
    )
    confirmed = quote_confirm(quote=quote, actor=link)

    assert (confirmed.confirmed_by, confirmed.confirmed_by_party) == (None, "signed_link")
    assert confirmed.confirmed_by_detail == "quote_confirm"
    assert quote_confirmed_amount(case=quote.case) == Decimal("542.40")


def test_the_insurers_system_confirms_with_its_api_key_and_the_key_is_named(quote, insurer_user):
    key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims system", actor=act(None)
    )
    client = api_key_authenticate(secret=secret)

    confirmed = quote_confirm(quote=quote, actor=act(client))

    assert (confirmed.confirmed_by, confirmed.confirmed_by_party) == (None, "insurer")
    assert confirmed.confirmed_by_detail == key.prefix
    event = BookingEvent.objects.get(request=quote.case, kind="quote_confirmed")
    assert (event.actor_kind, event.payload["api_key"]) == ("api_client", key.prefix)


def test_staff_recording_the_insurers_confirmation_must_say_how_it_was_given(quote, booking_agent):
    with pytest.raises(DomainError) as refused:
        quote_confirm(quote=quote, actor=act(booking_agent))
    assert refused.value.code == "note_required"
    assert quote_confirmed_amount(case=quote.case) is None

    confirmed = quote_confirm(
        quote=quote, actor=act(booking_agent), note="By phone with Ines Adjuster, 10:40."
    )
    assert (confirmed.confirmed_by, confirmed.confirmed_by_party) == (booking_agent, "staff")
    event = BookingEvent.objects.get(request=quote.case, kind="quote_confirmed")
    assert event.note == "By phone with Ines Adjuster, 10:40."


def test_the_door_itself_requires_the_staff_note(quote, booking_agent):
    with pytest.raises(DomainError) as refused:
        QUOTE_WORKFLOW.fire(record=quote, name="confirm_for_insurer", actor=act(booking_agent))
    assert refused.value.code == "note_required"
    with pytest.raises(DomainError) as forbidden:
        QUOTE_WORKFLOW.fire(record=quote, name="confirm", actor=act(booking_agent))
    assert forbidden.value.code == "transition_forbidden"


def test_a_dispute_needs_a_note_and_leaves_no_confirmed_amount(quote, insurer_user):
    with pytest.raises(DomainError) as refused:
        quote_dispute(quote=quote, actor=act(insurer_user), note="  ")
    assert refused.value.code == "note_required"

    disputed = quote_dispute(
        quote=quote, actor=act(insurer_user), note="The ultrasound is not covered."
    )
    assert disputed.status == S.DISPUTED
    assert quote_confirmed_amount(case=quote.case) is None
    entry = next(e for e in insurer_timeline(case=quote.case) if e.kind == "quote_disputed")
    assert (entry.label, entry.note) == ("Quote disputed", "The ultrasound is not covered.")
    with pytest.raises(DomainError) as late:
        quote_confirm(quote=disputed, actor=act(insurer_user))
    assert late.value.code == "quote_status_illegal"
    assert "disputed" in late.value.message


def test_a_disputed_quote_is_answered_with_a_new_version_even_at_the_same_figures(
    quote, insurer_user, booking_agent
):
    quote_dispute(quote=quote, actor=act(insurer_user), note="Please check the prices.")
    again = quote_prepare(case=quote.case, actor=act(booking_agent))
    assert (again.version, again.status, again.total) == (
        2,
        S.AWAITING_CONFIRMATION,
        quote.total,
    )


def test_another_insurer_cannot_confirm_nor_dispute(quote):
    stranger = another_insurers_user()
    with pytest.raises(NotFound):
        quote_confirm(quote=quote, actor=act(stranger))
    with pytest.raises(NotFound):
        quote_dispute(quote=quote, actor=act(stranger), note="Not ours.")
    strangers_link = Actor.for_signed_link(
        organisation_id=stranger.organisation_id, purpose="quote_confirm"
    )
    with pytest.raises(NotFound):
        quote_confirm(quote=quote, actor=strangers_link)
    quote.refresh_from_db()
    assert quote.status == S.AWAITING_CONFIRMATION


def test_the_clinic_cannot_confirm_the_insurers_quote(quote):
    location = quote.location
    location.partner.organisation = factories.make_organisation(kind=OrganisationKind.AFFILIATE)
    location.partner.save()
    clinic_user = factories.make_user(
        roles=[RoleCode.CLINIC_USER], organisation=location.partner.organisation
    )
    with pytest.raises(DomainError) as refused:
        quote_confirm(quote=quote, actor=act(clinic_user))
    assert refused.value.code == "transition_forbidden"


def test_each_party_sees_only_its_own_steps(quote, insurer_user, booking_agent):
    assert {m.name for m in QUOTE_WORKFLOW.moves(quote, act(insurer_user))} == {
        "confirm",
        "dispute",
    }
    assert {m.name for m in QUOTE_WORKFLOW.moves(quote, act(booking_agent))} == {
        "confirm_for_insurer",
        "dispute",
        "supersede",
    }
    assert QUOTE_WORKFLOW.moves(quote, act(another_insurers_user())) == []


def test_a_confirmed_quote_that_changes_needs_a_new_confirmation(
    quote, insurer_user, booking_agent
):
    quote_confirm(quote=quote, actor=act(insurer_user))
    assert quote_confirmed_amount(case=quote.case) == Decimal("542.40")

    xray = factories.service("XRAY")
    changed = quote_prepare(
        case=quote.case, actor=act(booking_agent), clinic_costs={xray.pk: Decimal("140.00")}
    )

    quote.refresh_from_db()
    assert (quote.status, quote.confirmed_total) == (S.SUPERSEDED, Decimal("542.40"))
    assert (changed.version, changed.status) == (2, S.AWAITING_CONFIRMATION)
    assert quote_confirmed_amount(case=quote.case) is None
    with pytest.raises(DomainError) as stale:
        quote_confirm(quote=quote, actor=act(insurer_user))
    assert stale.value.code == "quote_status_illegal"

    quote_confirm(quote=changed, actor=act(insurer_user))
    assert quote_confirmed_amount(case=quote.case) == changed.total == Decimal("576.30")


def test_cancelling_the_case_supersedes_its_quote(quote, insurer_user):
    quote_confirm(quote=quote, actor=act(insurer_user))
    bookings.booking_request_cancel(
        case=quote.case, actor=act(insurer_user), cancelled_by="insurer", note="Claim withdrawn."
    )

    quote.refresh_from_db()
    assert quote.status == S.SUPERSEDED
    assert quote_current(case=quote.case) is None
    assert quote_confirmed_amount(case=quote.case) is None
    event = BookingEvent.objects.get(request=quote.case, kind="quote_superseded")
    assert (event.actor_kind, event.payload["reason"]) == ("system", "case_cancelled")
    with pytest.raises(DomainError) as ended:
        quote_prepare(case=quote.case, actor=act(None))
    assert ended.value.code == "quote_case_ended"


# --- What the insurer reads -------------------------------------------------------------------


def test_the_insurers_timeline_shows_the_quote_to_confirm_but_not_superseded_versions(
    case, toronto, booking_agent, insurer_user
):
    choose(case, toronto, booking_agent)
    quote_prepare(
        case=case,
        actor=act(booking_agent),
        clinic_costs={factories.service("XRAY").pk: Decimal("130.00")},
    )
    quote_confirm(quote=quote_current(case=case), actor=act(insurer_user))

    labels = [e.label for e in insurer_timeline(case=case) if e.kind.startswith("quote_")]
    assert labels == ["Quote to confirm", "Quote to confirm", "Quote confirmed"]
    staff = [e.label for e in case.events.filter(kind__startswith="quote_")]
    assert "Quote superseded" in staff


# --- The arithmetic as stored -------------------------------------------------------------------

costs = st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(xray=costs, ultrasound=costs, province=st.sampled_from(["ON", "QC", "AB", "NS", "NB"]))
def test_a_stored_quotes_total_is_the_sum_of_its_lines_and_taxes_to_the_cent(
    insurer_user, booking_agent, xray, ultrasound, province
):
    location = clinic(province=province, prices={"XRAY": None, "ULTRASOUND": None})
    case = factories.make_booking_request(
        insurer=insurer_user.organisation, services=["XRAY", "ULTRASOUND"]
    )
    bookings.booking_request_take(case=case, actor=act(booking_agent))
    choose(case, location, booking_agent)
    entered = {factories.service("XRAY").pk: xray, factories.service("ULTRASOUND").pk: ultrasound}

    prepared = quote_prepare(case=case, actor=act(booking_agent), clinic_costs=entered)

    quote = Quote.objects.get(pk=prepared.pk)  # as stored
    lines = list(quote.lines.all())
    taxes = list(quote.taxes.all())
    assert quote.subtotal == sum(line.amount for line in lines)
    assert quote.total == sum(line.amount for line in lines) + sum(t.amount for t in taxes)
    assert quote.clinic_cost + quote.medworks_fee == quote.subtotal
    assert {t.name for t in taxes} in ({"HST"}, {"GST", "QST"}, {"GST"})
    amounts = [quote.clinic_cost, quote.medworks_fee, quote.subtotal, quote.total]
    amounts += [a for line in lines for a in (line.clinic_cost, line.medworks_fee, line.amount)]
    amounts += [t.amount for t in taxes]
    for amount in amounts:
        assert isinstance(amount, Decimal) and amount.as_tuple().exponent == -2, amount
    assert quote.tax_point == timezone.localdate() and isinstance(quote.tax_point, dt.date)
