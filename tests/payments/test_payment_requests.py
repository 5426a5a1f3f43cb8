"""Payment requests (SOP case 4 steps 1-3): prepared by the booking team from cases whose
charges the insurer confirmed, reviewed by the Chief of Staff, approved by the CEO, two
different people neither of whom prepared it; a change after an approval resets the
approvals; a GOP caps what can be paid; each step tells the next person by email."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from medworks.accounts.models import RoleCode
from medworks.billing.models import JournalKind, LedgerAccount, LedgerEntry
from medworks.billing.receivables import insurer_credit, unbalanced_journals
from medworks.bookings.models import BookingEvent
from medworks.core.errors import DomainError, PermissionDenied
from medworks.documents import gops
from medworks.notifications.models import OutboxMessage
from medworks.payments.models import PaymentMethod, PaymentRequestStatus
from medworks.payments.requests import (
    payment_made_record,
    payment_request_change,
    payment_request_prepare,
    payment_request_step,
    payment_requests_waiting,
)
from tests import factories
from tests.billing.invoicing import clinic, ready_case
from tests.factories import act
from tests.web.documents_world import gop_terms

D = Decimal
S = PaymentRequestStatus


def _prepare(case, agent, method=PaymentMethod.MEDWORKS_CARD):
    return payment_request_prepare(cases=[case], method=method, actor=act(agent))


def _through_approval(case, agent, chief, ceo, **kw):
    request = _prepare(case, agent, **kw)
    payment_request_step(request=request, name="submit", actor=act(agent))
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_step(request=request, name="approve", actor=act(ceo))
    return request


def test_the_request_is_the_sops_table_from_the_confirmed_quote(prepaid_case, booking_agent):
    request = _prepare(prepaid_case, booking_agent)
    assert request.status == S.DRAFT
    (line,) = request.lines.all()
    assert (line.case, line.clinic_cost, line.medworks_cost, line.total_to_bill) == (
        prepaid_case,
        D("120.00"),
        D("60.00"),
        D("180.00"),
    )
    assert line.confirmed_total == D("203.40")  # taxes included, as the insurer confirmed
    assert (request.clinic_cost, request.medworks_cost, request.total_to_bill) == (
        D("120.00"),
        D("60.00"),
        D("180.00"),
    )
    assert request.provider == prepaid_case.location.partner
    assert BookingEvent.objects.filter(
        request=prepaid_case, kind="payment_request_prepared"
    ).exists()


def test_the_chain_runs_preparer_chief_of_staff_ceo_with_an_email_at_each_step(
    prepaid_case, booking_agent, chief, ceo
):
    request = _prepare(prepaid_case, booking_agent)
    payment_request_step(request=request, name="submit", actor=act(booking_agent))
    assert request.status == S.AWAITING_REVIEW
    to_chief = OutboxMessage.objects.get(template="payment_request_review")
    assert to_chief.to == ["chief@medworks.example"]
    assert f"/staff/payment-requests/{request.pk}/" in to_chief.body
    assert prepaid_case.patient.last_name not in to_chief.body  # no patient in the email
    assert [r.pk for r in payment_requests_waiting(actor=act(chief))] == [request.pk]
    assert payment_requests_waiting(actor=act(ceo)) == []

    payment_request_step(request=request, name="review", actor=act(chief))
    assert (request.status, request.reviewed_by) == (S.AWAITING_APPROVAL, chief)
    assert OutboxMessage.objects.get(template="payment_request_approve").to == [
        "ceo@medworks.example"
    ]
    assert [r.pk for r in payment_requests_waiting(actor=act(ceo))] == [request.pk]

    payment_request_step(request=request, name="approve", actor=act(ceo))
    assert (request.status, request.approved_by) == (S.APPROVED, ceo)
    assert request.approved_at is not None
    assert OutboxMessage.objects.get(template="payment_request_approved").to == [
        booking_agent.email
    ]


@pytest.mark.parametrize(
    ("step", "who", "why"),
    [
        ("review", "booking_agent", "only the Chief of Staff reviews"),
        ("review", "ceo", "only the Chief of Staff reviews"),
        ("review", "finance_user", "only the Chief of Staff reviews"),
        ("submit", "chief", "only the booking team prepares"),
    ],
)
def test_each_step_is_refused_to_the_wrong_role(
    request, prepaid_case, booking_agent, step, who, why
):
    payment_request = _prepare(prepaid_case, booking_agent)
    if step == "review":
        payment_request_step(request=payment_request, name="submit", actor=act(booking_agent))
    with pytest.raises(DomainError) as refused:
        payment_request_step(
            request=payment_request, name=step, actor=act(request.getfixturevalue(who))
        )
    assert why in refused.value.message


def test_the_preparer_approves_nothing_of_their_own_and_the_reviewer_is_not_the_approver(
    prepaid_case, chief, ceo
):
    # One person holding the booking, the reviewing and the approving roles at once.
    everyone = factories.make_user(
        roles=[RoleCode.BOOKING_COORDINATOR, RoleCode.CHIEF_OF_STAFF, RoleCode.CEO],
        username="everyone",
    )
    request = _prepare(prepaid_case, everyone)
    payment_request_step(request=request, name="submit", actor=act(everyone))
    with pytest.raises(DomainError) as own_review:
        payment_request_step(request=request, name="review", actor=act(everyone))
    assert "you prepared this request" in own_review.value.message
    with pytest.raises(DomainError) as own_reject:
        payment_request_step(request=request, name="reject", actor=act(everyone), note="No.")
    assert "you prepared this request" in own_reject.value.message

    both = factories.make_user(roles=[RoleCode.CHIEF_OF_STAFF, RoleCode.CEO], username="both")
    payment_request_step(request=request, name="review", actor=act(both))
    with pytest.raises(DomainError) as twice:
        payment_request_step(request=request, name="approve", actor=act(both))
    assert "you reviewed this request" in twice.value.message
    payment_request_step(request=request, name="approve", actor=act(ceo))
    assert request.status == S.APPROVED


def test_either_may_reject_with_a_reason(prepaid_case, booking_agent, chief, ceo):
    request = _prepare(prepaid_case, booking_agent)
    payment_request_step(request=request, name="submit", actor=act(booking_agent))
    payment_request_step(request=request, name="review", actor=act(chief))
    with pytest.raises(DomainError) as no_reason:
        payment_request_step(request=request, name="reject", actor=act(ceo))
    assert no_reason.value.code == "note_required"
    payment_request_step(request=request, name="reject", actor=act(ceo), note="Too dear.")
    assert request.status == S.REJECTED
    email = OutboxMessage.objects.get(template="payment_request_rejected")
    assert "Too dear." in email.body and email.to == [booking_agent.email]
    # Rejected, the case is free for a new request.
    assert _prepare(prepaid_case, booking_agent).status == S.DRAFT


def test_a_change_after_an_approval_resets_the_approvals(
    prepaid_case, booking_agent, chief, ceo, insurer, prepaid_clinic
):
    request = _through_approval(prepaid_case, booking_agent, chief, ceo)
    second = ready_case(insurer=insurer, location=prepaid_clinic, agent=booking_agent)
    payment_request_change(request=request, cases=[prepaid_case, second], actor=act(booking_agent))
    request.refresh_from_db()
    assert request.status == S.AWAITING_REVIEW
    assert (request.reviewed_by, request.approved_by) == (None, None)
    assert request.clinic_cost == D("240.00")
    assert BookingEvent.objects.filter(request=prepaid_case, kind="payment_request_reset").exists()
    assert OutboxMessage.objects.filter(
        template="payment_request_review", subject__contains="changed"
    ).exists()
    # A change of method (the payee's way of being paid) resets too, once approved again.
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_change(request=request, method=PaymentMethod.EFT, actor=act(booking_agent))
    assert request.status == S.AWAITING_REVIEW
    # No change at all changes nothing.
    payment_request_step(request=request, name="review", actor=act(chief))
    payment_request_change(request=request, actor=act(booking_agent))
    assert request.status == S.AWAITING_APPROVAL


def test_a_case_without_confirmed_charges_or_billed_directly_is_refused(
    db, insurer, booking_agent, prepaid_clinic
):
    from medworks.bookings import services as bookings

    unconfirmed = factories.make_booking_request(insurer=insurer, services=["XRAY"])
    bookings.booking_request_take(case=unconfirmed, actor=act(booking_agent))
    bookings.booking_request_select_clinic(
        case=unconfirmed, location=prepaid_clinic, actor=act(booking_agent)
    )
    with pytest.raises(DomainError) as refused:
        _prepare(unconfirmed, booking_agent)
    assert "the insurer has not confirmed the charges" in refused.value.message
    direct = ready_case(insurer=insurer, location=clinic(), agent=booking_agent)
    with pytest.raises(DomainError) as billed:
        _prepare(direct, booking_agent)
    assert "bills MedWorks directly" in billed.value.message


def test_a_case_is_in_one_live_request_only(prepaid_case, booking_agent):
    _prepare(prepaid_case, booking_agent)
    with pytest.raises(DomainError) as twice:
        _prepare(prepaid_case, booking_agent)
    assert "already in another payment request" in twice.value.message


def test_a_method_the_provider_does_not_accept_is_refused(prepaid_case, booking_agent):
    partner = prepaid_case.location.partner
    partner.billing_arrangements = ["eft"]
    partner.save(update_fields=["billing_arrangements"])
    with pytest.raises(DomainError) as refused:
        _prepare(prepaid_case, booking_agent, method=PaymentMethod.MEDWORKS_CARD)
    assert "does not accept" in refused.value.message


def test_the_gop_caps_the_amount_and_its_dates_until_an_amended_gop(
    db, booking_agent, finance_user, prepaid_clinic, insurer_user
):
    insurer = insurer_user.organisation
    case = ready_case(insurer=insurer, location=prepaid_clinic, agent=booking_agent)
    today = timezone.localdate()
    gop = gops.gop_issue(
        case=case,
        data=gop_terms(max_amount="150.00", valid_from=today - dt.timedelta(days=10)),
        actor=act(insurer_user),
    )
    with pytest.raises(DomainError) as capped:
        _prepare(case, booking_agent)
    assert "beyond the GOP's maximum of 150.00" in capped.value.message
    amended = gops.gop_amend(
        gop=gop,
        data={"max_amount": "250.00", "valid_to": today - dt.timedelta(days=1)},
        actor=act(insurer_user),
    )
    with pytest.raises(DomainError) as expired:
        _prepare(case, booking_agent)
    assert "not today" in expired.value.message
    gops.gop_amend(
        gop=amended,
        data={"valid_to": today + dt.timedelta(days=30)},
        actor=act(insurer_user),
    )
    assert _prepare(case, booking_agent).status == S.DRAFT


def test_the_payment_made_is_recorded_for_the_approved_amount_and_posted(
    prepaid_case, booking_agent, chief, ceo
):
    request = _through_approval(prepaid_case, booking_agent, chief, ceo)
    today = timezone.localdate()
    with pytest.raises(DomainError) as other_amount:
        payment_made_record(
            request=request,
            paid_on=today,
            amount="100.00",
            participants="Alex (booking), Chris (Chief of Staff), Dana at the clinic",
            confirmation="AUTH-5521",
            actor=act(booking_agent),
        )
    assert "The approved amount is 120.00" in other_amount.value.message
    with pytest.raises(PermissionDenied):
        payment_made_record(
            request=request,
            paid_on=today,
            amount="120.00",
            participants="x",
            confirmation="y",
            actor=act(ceo),
        )
    payment = payment_made_record(
        request=request,
        paid_on=today,
        amount="120.00",
        participants="Alex (booking), Chris (Chief of Staff), Dana at the clinic",
        confirmation="AUTH-5521",
        actor=act(booking_agent),
    )
    assert request.status == S.PAID
    assert (payment.amount, payment.method, payment.confirmation) == (
        D("120.00"),
        PaymentMethod.MEDWORKS_CARD,
        "AUTH-5521",
    )
    rows = LedgerEntry.objects.filter(journal__kind=JournalKind.PROVIDER_PREPAYMENT)
    assert {(r.account, r.debit, r.credit) for r in rows} == {
        (LedgerAccount.COST_OF_SERVICES, D("120.00"), D("0.00")),
        (LedgerAccount.CASH, D("0.00"), D("120.00")),
    }
    assert list(unbalanced_journals()) == []


def test_paid_with_the_insurers_card_the_insurer_holds_a_credit(
    prepaid_case, booking_agent, chief, ceo, insurer
):
    from medworks.payments.vault import card_store

    card = card_store(
        case=prepaid_case,
        number="4111111111111111",
        name_on_card="Isabel Insurer",
        expiry_month="08",
        expiry_year=str(timezone.localdate().year + 2),
        security_code="123",
        actor=act(booking_agent),
    )
    request = _through_approval(
        prepaid_case, booking_agent, chief, ceo, method=PaymentMethod.INSURER_CARD
    )
    payment_made_record(
        request=request,
        paid_on=timezone.localdate(),
        amount="120.00",
        participants="Alex, Chris, the clinic",
        confirmation="CLINIC-889",
        actor=act(booking_agent),
    )
    # The clinic charged the insurer's card: the insurer paid that much of what it owes.
    assert insurer_credit(insurer) == D("120.00")
    # The clinic's charge is authorised: the security code is gone; the number stays sealed
    # for MedWorks' own charge of its fee and the tax.
    card.refresh_from_db()
    assert card.security_code_sealed is None and card.number_sealed is not None


def test_a_quote_changed_after_approval_blocks_the_payment_until_brought_up_to_date(
    prepaid_case, booking_agent, chief, ceo
):
    from medworks.billing.quotes import quote_confirm
    from medworks.billing.selectors import quote_current
    from medworks.network.models import Offering

    request = _through_approval(prepaid_case, booking_agent, chief, ceo)
    Offering.objects.filter(location=prepaid_case.location).update(clinic_price=D("150.00"))
    from medworks.billing.quotes import quote_prepare

    quote_prepare(case=prepaid_case, actor=act(booking_agent))
    quote_confirm(quote=quote_current(case=prepaid_case), actor=act(booking_agent), note="Phone.")
    with pytest.raises(DomainError) as stale:
        payment_made_record(
            request=request,
            paid_on=timezone.localdate(),
            amount="120.00",
            participants="Alex, Chris, clinic",
            confirmation="A1",
            actor=act(booking_agent),
        )
    assert stale.value.code == "payment_request_out_of_date"
    payment_request_change(request=request, actor=act(booking_agent))
    assert request.status == S.AWAITING_REVIEW and request.clinic_cost == D("150.00")
