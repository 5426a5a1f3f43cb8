"""Two people acting on one case at once: exactly one wins (row locks, PostgreSQL)."""

import pytest

from medworks.bookings import services
from medworks.bookings.models import Appointment, BookingStatus
from tests import factories
from tests.concurrency import run_at_once
from tests.factories import act

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def offered(insurer_user, booking_agent, clinic_location):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case,
        slots=[factories.slot_data(days=4), factories.slot_data(days=5)],
        actor=act(booking_agent),
    )
    return case, offer


def test_two_approvals_of_the_same_slot_book_it_once(offered, insurer_user, booking_agent):
    case, offer = offered
    slot = offer.slots.first()
    results, errors = run_at_once(
        lambda: services.availability_offer_approve(slot=slot, actor=act(insurer_user)),
        lambda: services.availability_offer_approve(slot=slot, actor=act(booking_agent)),
    )
    assert len(results) == 1
    assert [e.code for e in errors] == ["slot_taken"]
    assert Appointment.objects.filter(request=case).count() == 1


def test_two_approvals_of_different_slots_book_only_one(offered, insurer_user, booking_agent):
    case, offer = offered
    first, second = offer.slots.all()
    results, errors = run_at_once(
        lambda: services.availability_offer_approve(slot=first, actor=act(insurer_user)),
        lambda: services.availability_offer_approve(slot=second, actor=act(booking_agent)),
    )
    assert len(results) == 1
    assert len(errors) == 1
    assert errors[0].code in {"slot_taken", "transition_illegal"}
    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED
    assert Appointment.objects.filter(request=case).count() == 1


def test_two_agents_taking_the_same_case_leave_one_owner(insurer_user, booking_agent, coordinator):
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    results, errors = run_at_once(
        lambda: services.booking_request_take(case=case, actor=act(booking_agent)),
        lambda: services.booking_request_take(case=case, actor=act(coordinator)),
    )
    assert len(results) == 1
    assert [e.code for e in errors] == ["transition_illegal"]
    case.refresh_from_db()
    assert case.owner == results[0].owner
    assert case.events.filter(kind="start_sourcing").count() == 1
