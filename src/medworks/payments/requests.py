"""Payment requests (SOP case 4 steps 1-3): the booking team prepares a pre-payment to a
provider for one or more cases, the Chief of Staff reviews it, the CEO approves it, the
booking team records the payment made. One transaction per use case.

- `payment_request_prepare(cases=, method=, actor=)`: a draft, its lines the SOP's table
  from each case's confirmed quote. Refused (DomainError, nothing written): no case; cases of
  different providers; a provider that bills MedWorks directly; a case whose charges the
  insurer has not confirmed; a case already in another live request; a case whose GOP caps
  the amount below the confirmed total, or whose validity does not cover today, until an
  amended GOP exists; a method the provider does not accept.
- `payment_request_change(request=, cases=, method=, actor=)`: the same checks; a change of
  amount, payee or cases after an approval resets the approvals (the `reset` step: back to
  the Chief of Staff, the reviewer and approver cleared).
- `payment_request_step(request=, name=, actor=, note=)`: submit, review, approve, reject,
  cancel, through PAYMENT_REQUEST_WORKFLOW (who may, and the segregation of duties, are its
  guards); the review, the approval and the payment are checked again against the cases'
  confirmed amounts and GOPs (`request_drift`): what changed since it was prepared is refused
  until the request is brought up to date (which resets the approvals). Each step tells the
  next person by email, with a link.
- `payment_made_record(request=, paid_on=, amount=, participants=, confirmation=, actor=)`:
  the payment made on the call with the Chief of Staff and the clinic, for the approved
  amount. Posted: Dr cost of services (each case) / Cr bank; paid with the insurer's card
  given to the clinic: Cr the insurer's receivable instead (it paid that part directly).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, actor_can
from medworks.accounts.selectors import users_with
from medworks.billing.ledger import credit, debit, ledger_post
from medworks.billing.models import JournalKind, LedgerAccount, QuoteStatus
from medworks.billing.selectors import prepayment_needed, quote_current
from medworks.bookings.models import BookingRequest
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.money import parse_money
from medworks.documents.selectors import gop_current
from medworks.network.models import BillingArrangement

from . import emails
from .models import (
    LIVE_REQUEST_STATUSES,
    PaymentMethod,
    PaymentRequest,
    PaymentRequestLine,
    PaymentRequestStatus,
    ProviderPrepayment,
)
from .vault import card_current, card_secrets_destroy
from .workflow import PAYMENT_REQUEST_WORKFLOW, payment_request_event_write

ZERO = Decimal("0.00")
S = PaymentRequestStatus
MAX_CASES = 50
# Which of the provider's recorded arrangements each method needs.
ARRANGEMENT_OF = {
    PaymentMethod.MEDWORKS_CARD: BillingArrangement.CREDIT_CARD,
    PaymentMethod.EFT: BillingArrangement.EFT,
    PaymentMethod.INSURER_CARD: BillingArrangement.INSURER_CARD,
}
_CHANGEABLE = frozenset({S.DRAFT, S.AWAITING_REVIEW, S.AWAITING_APPROVAL, S.APPROVED})


def _require(actor: Actor, capability: Capability, message: str) -> None:
    if not isinstance(actor, Actor):
        raise TypeError("actor must be a medworks.core.actor.Actor")
    if not actor_can(actor, capability):
        raise PermissionDenied("payment_forbidden", message)


# --- The lines: the SOP's table from the cases -----------------------------------------------


def _line_for(case: BookingRequest, *, today: dt.date) -> tuple[PaymentRequestLine | None, str]:
    """The line of `case` from its confirmed quote, or (None, why it cannot be paid)."""
    quote = quote_current(case=case)
    if quote is None or quote.status != QuoteStatus.CONFIRMED or quote.confirmed_total is None:
        return None, _("%(order)s: the insurer has not confirmed the charges.") % {
            "order": case.order_id
        }
    clinic_cost = sum((line.clinic_cost for line in quote.lines.all()), ZERO)
    fee = sum((line.medworks_fee for line in quote.lines.all()), ZERO)
    gop = gop_current(case=case)
    if gop is not None:
        if gop.max_amount is not None and quote.confirmed_total > gop.max_amount:
            return None, _(
                "%(order)s: %(total)s is beyond the GOP's maximum of %(max)s; an amended GOP "
                "is needed first."
            ) % {
                "order": case.order_id,
                "total": f"{quote.confirmed_total:.2f}",
                "max": f"{gop.max_amount:.2f}",
            }
        outside = (gop.valid_from is not None and today < gop.valid_from) or (
            gop.valid_to is not None and today > gop.valid_to
        )
        if outside:
            return None, _(
                "%(order)s: the GOP is valid from %(start)s to %(end)s, not today; an amended "
                "GOP is needed first."
            ) % {
                "order": case.order_id,
                "start": gop.valid_from.isoformat() if gop.valid_from else "…",
                "end": gop.valid_to.isoformat() if gop.valid_to else "…",
            }
    return (
        PaymentRequestLine(
            case=case,
            clinic_cost=clinic_cost,
            medworks_cost=fee,
            total_to_bill=clinic_cost + fee,
            confirmed_total=quote.confirmed_total,
        ),
        "",
    )


def _lines(
    cases: Sequence[BookingRequest], *, method: str, exclude_request_id: int | None = None
) -> tuple:
    """The provider and the lines of `cases`, or DomainError with every reason at once."""
    if not cases:
        raise DomainError(
            "payment_request_no_case",
            _("Choose the cases to pay."),
            fields={"cases": [_("Choose the cases to pay.")]},
        )
    if len(cases) > MAX_CASES:
        raise DomainError(
            "payment_request_too_many",
            _("At most %(n)s cases in one request.") % {"n": MAX_CASES},
            fields={"cases": [_("At most %(n)s cases in one request.") % {"n": MAX_CASES}]},
        )
    if method not in PaymentMethod.values:
        raise DomainError(
            "payment_method_unknown",
            _("Choose how the provider is paid."),
            fields={"method": [_("Choose how the provider is paid.")]},
        )
    today = timezone.localdate()
    problems: list[str] = []
    providers = {case.location.partner for case in cases if case.location_id is not None}
    if any(case.location_id is None for case in cases):
        problems.append(_("A case without a clinic cannot be paid."))
    if len(providers) > 1:
        problems.append(_("One request pays one provider: these cases are at several."))
    provider = next(iter(providers), None)
    lines = []
    taken = set(
        PaymentRequestLine.objects.filter(case__in=cases, request__status__in=LIVE_REQUEST_STATUSES)
        .exclude(request_id=exclude_request_id)
        .values_list("case__order_id", flat=True)
    )
    for case in cases:
        if case.location_id is not None and not prepayment_needed(case):
            problems.append(
                _("%(order)s: %(provider)s bills MedWorks directly, no pre-payment.")
                % {"order": case.order_id, "provider": case.location.partner.name}
            )
            continue
        if case.order_id in taken:
            problems.append(
                _("%(order)s is already in another payment request.") % {"order": case.order_id}
            )
            continue
        line, why = _line_for(case, today=today)
        if line is None:
            problems.append(why)
        else:
            lines.append(line)
    accepted = set(provider.billing_arrangements or []) if provider is not None else set()
    if provider is not None and accepted and ARRANGEMENT_OF[method].value not in accepted:
        problems.append(
            _("%(provider)s does not accept: %(method)s.")
            % {"provider": provider.name, "method": PaymentMethod(method).label}
        )
    if problems:
        raise DomainError("payment_request_refused", " ".join(problems), fields={"cases": problems})
    return provider, lines


def _fingerprint(provider, method: str, lines) -> str:
    """What the approvals are given on: the payee, the method, the cases and their amounts."""
    facts = {
        "provider": provider.pk,
        "method": method,
        "lines": sorted(
            (line.case_id, f"{line.clinic_cost:.2f}", f"{line.total_to_bill:.2f}") for line in lines
        ),
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def _write_lines(request: PaymentRequest, lines) -> None:
    request.lines.all().delete()
    for position, line in enumerate(lines):
        line.request, line.position = request, position
    PaymentRequestLine.objects.bulk_create(lines)
    request.clinic_cost = sum((line.clinic_cost for line in lines), ZERO)
    request.medworks_cost = sum((line.medworks_cost for line in lines), ZERO)
    request.total_to_bill = sum((line.total_to_bill for line in lines), ZERO)


def _locked_cases(cases: Sequence[BookingRequest]) -> list[BookingRequest]:
    ids = sorted({case.pk for case in cases})
    locked = {
        case.pk: case
        for case in BookingRequest.objects.select_for_update(of=("self",))
        .select_related("location__partner")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    return [locked[case.pk] for case in cases if case.pk in locked]


def payment_request_prepare(
    *, cases: Sequence[BookingRequest], method: str, actor: Actor
) -> PaymentRequest:
    _require(actor, Capability.PAYMENT_PREPARE, _("Only the booking team prepares a pre-payment."))
    with transaction.atomic():
        locked = _locked_cases(cases)
        provider, lines = _lines(locked, method=method)
        request = PaymentRequest.objects.create(
            provider=provider,
            method=method,
            prepared_by=actor.user,
            fingerprint=_fingerprint(provider, method, lines),
        )
        _write_lines(request, lines)
        request.save(update_fields=["clinic_cost", "medworks_cost", "total_to_bill"])
        payment_request_event_write(request=request, kind="payment_request_prepared", actor=actor)
    return request


def payment_request_change(
    *,
    request: PaymentRequest,
    actor: Actor,
    cases: Sequence[BookingRequest] | None = None,
    method: str | None = None,
) -> PaymentRequest:
    """Change the cases or the method (or bring the amounts up to date from the cases'
    quotes, with neither given). After an approval, a change resets the approvals."""
    _require(actor, Capability.PAYMENT_PREPARE, _("Only the booking team changes a pre-payment."))
    with transaction.atomic():
        locked = PaymentRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in _CHANGEABLE:
            raise DomainError(
                "payment_request_frozen",
                _("%(number)s is %(state)s: it can no longer be changed.")
                % {"number": locked.display_number, "state": locked.get_status_display().lower()},
            )
        if cases is None:
            cases = [line.case for line in locked.lines.select_related("case")]
        method = method or locked.method
        provider, lines = _lines(_locked_cases(cases), method=method, exclude_request_id=locked.pk)
        fingerprint = _fingerprint(provider, method, lines)
        if fingerprint == locked.fingerprint:
            return locked
        before = {
            "provider": locked.provider_id,
            "method": locked.method,
            "clinic_cost": f"{locked.clinic_cost:.2f}",
        }
        locked.provider, locked.method, locked.fingerprint = provider, method, fingerprint
        _write_lines(locked, lines)
        locked.save(
            update_fields=[
                "provider",
                "method",
                "fingerprint",
                "clinic_cost",
                "medworks_cost",
                "total_to_bill",
            ]
        )
        payment_request_event_write(
            request=locked,
            kind="payment_request_changed",
            actor=actor,
            extra={"before": before},
        )
        if locked.status in (S.AWAITING_APPROVAL, S.APPROVED):
            _reset(locked, actor=actor)
    request.refresh_from_db()
    return request


def _reset(request: PaymentRequest, *, actor: Actor) -> None:
    PAYMENT_REQUEST_WORKFLOW.fire(
        record=request,
        name="reset",
        actor=actor,
        note=_("The amount, the payee or the cases changed after an approval."),
    )
    PaymentRequest.objects.filter(pk=request.pk).update(
        reviewed_by=None, reviewed_at=None, approved_by=None, approved_at=None
    )
    emails.waits_for_review(request, reset=True)


def request_drift(request: PaymentRequest) -> list[str]:
    """What no longer holds since the request was prepared: a case's confirmed amount that
    changed, a quote no longer confirmed, a GOP that no longer covers it. Empty: it holds."""
    today = timezone.localdate()
    problems = []
    for line in request.lines.select_related("case__location__partner"):
        fresh, why = _line_for(line.case, today=today)
        if fresh is None:
            problems.append(why)
        elif (fresh.clinic_cost, fresh.total_to_bill) != (line.clinic_cost, line.total_to_bill):
            problems.append(
                _("%(order)s: the confirmed amount changed since the request was prepared.")
                % {"order": line.case.order_id}
            )
    return problems


def _refuse_drift(request: PaymentRequest) -> None:
    problems = request_drift(request)
    if problems:
        raise DomainError(
            "payment_request_out_of_date",
            " ".join(problems)
            + " "
            + _("Bring the request up to date (its approvals start again)."),
        )


_STAMPS = {
    "review": ("reviewed_by", "reviewed_at"),
    "approve": ("approved_by", "approved_at"),
}
_NOTICE = {
    "submit": lambda request, note: emails.waits_for_review(request),
    "review": lambda request, note: emails.waits_for_approval(request),
    "approve": lambda request, note: emails.approved(request),
    "reject": lambda request, note: emails.rejected(request, note=note),
}


def payment_request_step(
    *, request: PaymentRequest, name: str, actor: Actor, note: str = ""
) -> PaymentRequest:
    """Take step `name` (submit, review, approve, reject, cancel) as `actor`."""
    if name not in {"submit", "review", "approve", "reject", "cancel"}:
        raise DomainError(
            "transition_unknown", _("There is no step called %(name)s.") % {"name": name}
        )
    refuse_card_numbers({"note": note})
    with transaction.atomic():
        if name in {"submit", "review", "approve"}:
            _refuse_drift(request)
        locked = PAYMENT_REQUEST_WORKFLOW.fire(record=request, name=name, actor=actor, note=note)
        if name in _STAMPS:
            who, when = _STAMPS[name]
            setattr(locked, who, actor.user)
            setattr(locked, when, timezone.now())
            locked.save(update_fields=[who, when])
        if name in _NOTICE:
            _NOTICE[name](locked, note.strip())
    request.refresh_from_db()
    return request


# --- The payment made ------------------------------------------------------------------------


def payment_made_record(
    *,
    request: PaymentRequest,
    paid_on: dt.date,
    amount: Decimal | str,
    participants: str,
    confirmation: str,
    actor: Actor,
) -> ProviderPrepayment:
    """Record the payment made for an approved request: the approved amount (another amount
    needs a changed request, approved again), on the request's method."""
    _require(
        actor, Capability.PAYMENT_PREPARE, _("Only the booking team records the payment made.")
    )
    participants = " ".join((participants or "").split())
    confirmation = (confirmation or "").strip()
    refuse_card_numbers({"participants": participants, "confirmation": confirmation})
    errors: dict[str, list[str]] = {}
    try:
        paid = parse_money(amount)
    except (TypeError, ValueError):
        paid = None
    if paid is None or paid <= 0:
        errors["amount"] = [_("Enter an amount such as 150.00.")]
    if not isinstance(paid_on, dt.date) or paid_on > timezone.localdate():
        errors["paid_on"] = [_("Enter today's date or an earlier one.")]
    if not participants:
        errors["participants"] = [_("Say who took part in the call.")]
    if not confirmation:
        errors["confirmation"] = [_("Enter the clinic's confirmation or authorisation number.")]
    if errors:
        raise DomainError(
            "payment_made_invalid", _("The payment could not be recorded."), fields=errors
        )
    with transaction.atomic():
        locked = PaymentRequest.objects.select_for_update().get(pk=request.pk)
        if paid != locked.clinic_cost:
            message = _(
                "The approved amount is %(approved)s: a payment of another amount needs a "
                "changed request, approved again."
            ) % {"approved": f"{locked.clinic_cost:.2f}"}
            raise DomainError("payment_made_amount", message, fields={"amount": [message]})
        _refuse_drift(locked)
        PAYMENT_REQUEST_WORKFLOW.fire(
            record=locked,
            name="pay",
            actor=actor,
            payload={"amount": f"{paid:.2f}", "confirmation": confirmation},
        )
        payment = ProviderPrepayment.objects.create(
            request=locked,
            paid_on=paid_on,
            method=locked.method,
            amount=paid,
            participants=participants[:300],
            confirmation=confirmation[:100],
            recorded_by=actor.user,
        )
        post_prepayment(locked, payment, actor=actor)
        if locked.method == PaymentMethod.INSURER_CARD:
            # The clinic's charge is authorised: the security code goes (PCI DSS: never kept
            # after an authorisation). The number stays sealed for MedWorks' own charge of
            # its fee and the tax (step 5), which destroys it (payments.charges).
            for line in locked.lines.select_related("case"):
                card = card_current(line.case)
                if card is not None:
                    card_secrets_destroy(
                        card=card,
                        actor=actor,
                        why=f"{locked.display_number} paid",
                        number=False,
                    )
        audit_record(
            actor=actor,
            action="payment_request.payment_recorded",
            obj=payment,
            summary=f"{locked.display_number} paid {paid:.2f} to {locked.provider.name}",
            payload={"amount": f"{paid:.2f}", "method": locked.method, "paid_on": str(paid_on)},
        )
    request.refresh_from_db()
    return payment


def post_prepayment(request: PaymentRequest, payment: ProviderPrepayment, *, actor: Actor) -> None:
    """The ledger journal of a pre-payment made (the call's, or an EFT file's)."""
    lines = list(request.lines.select_related("case"))
    postings = [
        debit(LedgerAccount.COST_OF_SERVICES, line.clinic_cost, case_id=line.case_id)
        for line in lines
    ]
    insurer = None
    if request.method == PaymentMethod.INSURER_CARD:
        # The clinic charged the insurer's card: the insurer paid that part of what it owes
        # MedWorks directly (its credit, applied to the case's invoice once issued).
        insurer = lines[0].case.insurer
        postings += [
            credit(LedgerAccount.RECEIVABLE, line.clinic_cost, case_id=line.case_id)
            for line in lines
        ]
    else:
        postings.append(credit(LedgerAccount.CASH, payment.amount))
    ledger_post(
        kind=JournalKind.PROVIDER_PREPAYMENT,
        date=payment.paid_on,
        reference=request.display_number,
        memo=f"{PaymentMethod(request.method).label} {request.provider.name} "
        f"{payment.confirmation}"[:255],
        actor=actor,
        postings=postings,
        insurer=insurer,
    )


def payment_requests_waiting(*, actor: Actor) -> list[PaymentRequest]:
    """The queue of what waits for this person: the Chief of Staff's reviews, the CEO's
    approvals, the booking team's approved requests to pay; oldest first."""
    statuses = []
    if actor_can(actor, Capability.PAYMENT_REVIEW):
        statuses.append(S.AWAITING_REVIEW)
    if actor_can(actor, Capability.PAYMENT_APPROVE):
        statuses.append(S.AWAITING_APPROVAL)
    if actor_can(actor, Capability.PAYMENT_PREPARE):
        statuses += [S.DRAFT, S.APPROVED]
    return list(
        PaymentRequest.objects.filter(status__in=statuses)
        .select_related("provider", "prepared_by")
        .order_by("status_changed_at", "pk")
    )


def reviewers_and_approvers():
    return users_with(Capability.PAYMENT_REVIEW), users_with(Capability.PAYMENT_APPROVE)
