"""The workflow table: every transition, who may take it, and how a refusal reads."""

import pytest

from medworks.bookings import services
from medworks.bookings.models import BookingEvent, BookingStatus
from medworks.bookings.workflow import TRANSITIONS, Party, available_transitions, transition
from medworks.core.errors import DomainError
from tests import factories
from tests.factories import act

S = BookingStatus


def test_a_new_request_is_received_with_a_created_event(case, insurer_user):
    assert case.status == S.RECEIVED
    event = case.events.get()
    assert (event.kind, event.to_status, event.actor) == ("created", S.RECEIVED, insurer_user)


def test_an_agent_takes_a_case_and_owns_it(clinic_near_patient, case, booking_agent):
    taken = services.booking_request_take(case=case, actor=act(booking_agent))
    assert taken.status == S.SOURCING
    assert taken.owner == booking_agent
    last = taken.events.last()
    assert (last.kind, last.from_status, last.to_status) == (
        "start_sourcing",
        "received",
        "sourcing",
    )


def test_an_illegal_move_is_refused_naming_the_current_state(case, booking_agent):
    with pytest.raises(DomainError) as refused:
        services.appointment_complete(case=case, actor=act(booking_agent))
    assert refused.value.code == "transition_illegal"
    assert "the case is received" in refused.value.message
    case.refresh_from_db()
    assert case.status == S.RECEIVED
    assert case.events.count() == 1


def test_an_insurer_cannot_move_a_case_as_staff_would(case, insurer_user):
    with pytest.raises(DomainError) as refused:
        services.booking_request_take(case=case, actor=act(insurer_user))
    assert refused.value.code == "transition_forbidden"


def test_an_insurer_cannot_touch_another_insurers_case(case, other_insurer_user):
    with pytest.raises(DomainError) as refused:
        services.booking_request_cancel(
            case=case, actor=act(other_insurer_user), cancelled_by="insurer", note="mine?"
        )
    assert refused.value.code == "transition_forbidden"
    case.refresh_from_db()
    assert case.status == S.RECEIVED


def test_finance_reads_cases_but_cannot_move_them(case, finance_user):
    with pytest.raises(DomainError):
        services.booking_request_take(case=case, actor=act(finance_user))


def test_escalating_needs_a_reason(clinic_near_patient, case, booking_agent):
    services.booking_request_take(case=case, actor=act(booking_agent))
    with pytest.raises(DomainError) as refused:
        services.booking_request_escalate(case=case, actor=act(booking_agent), note="  ")
    assert refused.value.code == "note_required"
    assert refused.value.fields == {"note": ["Say why."]}
    escalated = services.booking_request_escalate(
        case=case, actor=act(booking_agent), note="Nearest clinic 3 h away"
    )
    assert escalated.status == S.ESCALATED


def test_asking_for_dates_needs_a_chosen_clinic(case, booking_agent):
    services.booking_request_take(case=case, actor=act(booking_agent))
    with pytest.raises(DomainError) as refused:
        transition(case=case, name="select_clinic", actor=act(booking_agent))
    assert refused.value.code == "transition_refused"
    assert "Choose a clinic first" in refused.value.message


def test_a_clinic_that_lacks_the_service_cannot_be_chosen(case, booking_agent):
    services.booking_request_take(case=case, actor=act(booking_agent))
    location = factories.make_location()
    factories.make_offering(location=location, service_code="MRI")
    with pytest.raises(DomainError) as refused:
        services.booking_request_select_clinic(
            case=case, location=location, actor=act(booking_agent)
        )
    assert refused.value.code == "location_lacks_service"


def test_the_staff_buttons_are_only_the_legal_moves(
    clinic_near_patient, case, booking_agent, insurer_user
):
    names = lambda user: {t.name for t in available_transitions(case, act(user))}  # noqa: E731
    assert names(booking_agent) == {"start_sourcing", "cancel"}
    assert names(insurer_user) == {"cancel"}
    services.booking_request_take(case=case, actor=act(booking_agent))
    case.refresh_from_db()
    assert names(booking_agent) == {"escalate", "cancel"}


def test_every_transition_targets_a_known_state_from_known_states():
    states = set(S.values)
    for spec in TRANSITIONS.values():
        assert spec.target in states
        assert spec.sources <= states
        assert spec.parties <= set(Party)


def test_an_unknown_step_is_refused(case, booking_agent):
    with pytest.raises(DomainError) as refused:
        transition(case=case, name="teleport", actor=act(booking_agent))
    assert refused.value.code == "transition_unknown"


def test_events_are_append_only(case):
    event = case.events.get()
    event.note = "rewritten"
    with pytest.raises(TypeError):
        event.save()
    assert BookingEvent.objects.get(pk=event.pk).note == ""


def test_the_insurer_timeline_hides_staff_notes_and_assignments(
    clinic_near_patient, case, booking_agent, coordinator
):
    from medworks.bookings.selectors import insurer_timeline

    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_assign(case=case, owner=coordinator, actor=act(booking_agent))
    services.booking_request_escalate(
        case=case, actor=act(coordinator), note="Clinic X refused at $90"
    )
    services.booking_request_cancel(
        case=case, actor=act(booking_agent), cancelled_by="insurer", note="Claim withdrawn"
    )
    rows = insurer_timeline(case=case)
    assert [r.kind for r in rows] == ["created", "start_sourcing", "escalate", "cancel"]
    escalate, cancel = rows[2], rows[3]
    assert escalate.note == ""
    assert (cancel.label, cancel.note, cancel.by) == (
        "Cancelled (asked by the insurer)",
        "Claim withdrawn",
        "MedWorks",
    )
