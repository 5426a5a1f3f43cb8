"""The one state machine (core.workflow) as the booking and GOP workflows use it: guards that
read the actor, guards registered by a higher app, moves with their reasons, the actor recorded
on every event, declared event kinds only."""

from __future__ import annotations

import pytest

from medworks.accounts.services import api_key_authenticate, api_key_create
from medworks.bookings import services
from medworks.bookings.models import BookingEvent
from medworks.bookings.workflow import BOOKING_WORKFLOW, moves, party_of, transition
from medworks.core.actor import Actor, Party
from medworks.core.errors import DomainError
from medworks.core.models import AuditEvent
from medworks.documents.guards import paperwork_back
from tests import factories
from tests.factories import act


@pytest.fixture
def case(db, insurer_user):
    return factories.make_booking_request(insurer=insurer_user.organisation)


def test_a_guard_reads_the_actor_and_its_reason_is_the_refusal(case, booking_agent, coordinator):
    def not_the_submitter(record, actor):
        return "not by an agent" if actor.user == booking_agent else None

    BOOKING_WORKFLOW.register_guard("start_sourcing", not_the_submitter)
    try:
        [move] = [m for m in moves(case, act(booking_agent)) if m.name == "start_sourcing"]
        assert (move.allowed, move.reason) == (False, "not by an agent")
        with pytest.raises(DomainError) as refused:
            transition(case=case, name="start_sourcing", actor=act(booking_agent))
        assert refused.value.code == "transition_refused"
        assert "not by an agent" in refused.value.message
        transition(case=case, name="start_sourcing", actor=act(coordinator))
    finally:
        BOOKING_WORKFLOW._registered["start_sourcing"].remove(not_the_submitter)
    case.refresh_from_db()
    assert case.status == "sourcing"


def test_documents_registered_the_paperwork_guard_on_billing():
    assert paperwork_back in BOOKING_WORKFLOW.guards_of("mark_ready_for_billing")


def test_moves_list_only_the_actors_partys_steps_from_the_current_state(
    case, booking_agent, insurer_user, clinic_user
):
    assert {m.name for m in moves(case, act(booking_agent))} == {"start_sourcing", "cancel"}
    assert {m.name for m in moves(case, act(insurer_user))} == {"cancel"}
    assert moves(case, act(clinic_user)) == []  # no clinic chosen: no business with it


def test_a_signed_link_acts_only_for_the_insurer_it_was_sent_for(case, insurer_user):
    mine = Actor.for_signed_link(organisation_id=case.insurer_id, purpose="offer link")
    other = Actor.for_signed_link(organisation_id=case.insurer_id + 999, purpose="offer link")
    assert party_of(mine, case) == Party.SIGNED_LINK
    assert party_of(other, case) is None


def test_a_transition_is_taken_by_an_actor_not_a_bare_user(case, booking_agent):
    with pytest.raises(TypeError):
        transition(case=case, name="start_sourcing", actor=booking_agent)


def test_an_api_key_that_cancels_is_named_on_the_event_and_the_audit_row(case, insurer_user):
    key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims", actor=act(None)
    )
    client = api_key_authenticate(secret=secret)
    services.booking_request_cancel(
        case=case, actor=act(client), cancelled_by="insurer", note="Claim withdrawn"
    )
    event = BookingEvent.objects.get(request=case, kind="cancel")
    assert (event.actor, event.actor_kind, event.actor_detail) == (None, "api_client", key.prefix)
    assert event.payload["party"] == "insurer"
    created = AuditEvent.objects.get(action="api_key.created")
    assert (created.actor_kind, created.actor_detail) == ("system", "test")


def test_an_undeclared_event_kind_cannot_be_written(case, booking_agent):
    with pytest.raises(ValueError, match="not declared"):
        BookingEvent.objects.record(request=case, kind="teleported", actor=act(booking_agent))


def test_every_transition_and_paperwork_event_has_words_for_staff():
    from medworks.bookings.events import CASE_EVENTS
    from medworks.documents.workflow import EVENT_OF

    for spec in BOOKING_WORKFLOW:
        assert spec.name in CASE_EVENTS
    for kind in EVENT_OF.values():
        assert CASE_EVENTS.staff_label(kind) != kind


def test_a_registered_effect_runs_in_the_moves_transaction(case, booking_agent):
    seen = []

    def note_it(*, record, actor, payload):
        seen.append((record.status, actor.user))
        raise RuntimeError("the effect fails")

    BOOKING_WORKFLOW.register_effect("start_sourcing", note_it)
    try:
        with pytest.raises(RuntimeError):
            transition(case=case, name="start_sourcing", actor=act(booking_agent))
    finally:
        BOOKING_WORKFLOW._effects["start_sourcing"].remove(note_it)
    assert seen == [("sourcing", booking_agent)]
    case.refresh_from_db()
    assert case.status == "received"  # the failing effect undid the move: one transaction
    assert not case.events.filter(kind="start_sourcing").exists()
