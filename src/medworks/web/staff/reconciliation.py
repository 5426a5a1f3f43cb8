"""The coordinator's reconciliation pages and finance's months (SOP case 4 step 6).

- The queue: the orders not reconciled, discrepancies first then the oldest order, each with
  its four checks' states and the amounts that disagree, and the count per state. It names
  patients, so showing it is a read of every case listed (`record_listed`).
- An order's reconciliation: the four checks evaluated now (`checks.evaluate`, in the reader's
  language), beside what was stored when they were last checked and what the coordinator
  accepted; the SOP row's figures; "check again", reconcile (a note for a discrepancy) and
  reopen (a reason). Opening it is a read of the case (`case_or_404`).
- The months: each month's orders per state, closed or open, who closed it when; finance closes
  a past month and reopens it with a reason.

Every page needs `RECONCILIATION_VIEW`; each POST needs it too and the use case decides the rest
(the coordinator reconciles, finance closes months, the workflow's guards say who reopens), its
refusal shown on the form, never a 500. The steps offered are the workflow's moves for this
person, each refused one with its reason.

The queue shows no stored check message: those were written in the language of whoever last
checked (often the worker, in English); the states and amounts are labelled here in the reader's
language, and the order's page shows the messages evaluated now.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.models import Invoice
from medworks.billing.payables import case_provider_invoices
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.bookings.selectors import record_listed
from medworks.network.models import BillingArrangement
from medworks.payments.models import PaymentRequest
from medworks.reconciliation import checks, selectors
from medworks.reconciliation.models import (
    CheckName,
    CheckState,
    MonthStatus,
    Reconciliation,
    ReconciliationMonth,
    ReconciliationStatus,
)
from medworks.reconciliation.services import (
    month_close,
    month_of,
    month_reopen,
    reconciliation_reconcile,
    reconciliation_refresh,
    reconciliation_reopen,
)
from medworks.reconciliation.workflow import MONTH_WORKFLOW, RECONCILIATION_WORKFLOW

from ..access import actor_of, require_capability
from ..actions import case_or_404, form_action_response, origin_of, run_action
from .reconciliation_case_forms import (
    MonthCloseForm,
    MonthReopenForm,
    ReconcileForm,
    ReconciliationReopenForm,
)

# What each amount of a check's details is (checks.py names them), in the reader's language.
AMOUNT_LABELS = {
    "ordered": gettext_lazy("Order to finance"),
    "quote": gettext_lazy("Quote"),
    "paid": gettext_lazy("Paid"),
    "approved": gettext_lazy("Approved"),
    "agreed": gettext_lazy("Agreed clinic cost"),
    "invoiced": gettext_lazy("Invoiced"),
    "billed": gettext_lazy("Billed"),
    "received": gettext_lazy("Received"),
    "owing": gettext_lazy("Still owed"),
    "owed": gettext_lazy("Still to pay"),
}

# A check's state as a badge.
STATE_BADGES = {
    CheckState.MET: "badge-ok",
    CheckState.NOT_NEEDED: "badge-muted",
    CheckState.MISSING: "badge-warn",
    CheckState.DISCREPANCY: "badge-danger",
}
STATUS_BADGES = {
    ReconciliationStatus.OPEN: "badge-warn",
    ReconciliationStatus.DISCREPANCY: "badge-danger",
    ReconciliationStatus.RECONCILED: "badge-ok",
}

_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Amount:
    key: str
    label: str
    value: str | None  # "150.00", or None: none recorded (shown as a dash)


@dataclass(frozen=True)
class CheckView:
    """One check as a page shows it."""

    name: str
    label: str
    state: str
    state_label: str
    badge: str
    message: str
    amounts: list[Amount]


def _amounts(amounts: dict | None) -> list[Amount]:
    return [
        Amount(key, str(AMOUNT_LABELS.get(key, key)), value)
        for key, value in (amounts or {}).items()
    ]


def _check_view(name: str, state: str, *, message: str = "", amounts: dict | None = None):
    return CheckView(
        name=name,
        label=str(CheckName(name).label),
        state=state,
        state_label=str(CheckState(state).label),
        badge=STATE_BADGES.get(state, ""),
        message=message,
        amounts=_amounts(amounts),
    )


# --- The queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    row: Reconciliation
    checks: list[CheckView]
    status_badge: str


@require_safe
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_queue(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.reconciliation_queue())
    record_listed(
        user=request.user,
        cases=[row.case for row in rows],
        origin=origin_of(request),
        listed="reconciliation queue",
    )
    queue = [
        QueueRow(
            row=row,
            checks=[
                _check_view(
                    name,
                    state,
                    # The amounts of a check not settled: what disagrees, or what is awaited.
                    amounts=(row.details.get(name) or {}).get("amounts")
                    if state in (CheckState.DISCREPANCY, CheckState.MISSING)
                    else None,
                )
                for name, state in row.checks()
            ],
            status_badge=STATUS_BADGES.get(row.status, ""),
        )
        for row in rows
    ]
    counts = selectors.queue_counts()
    return render(
        request,
        "web/staff/reconciliation/queue.html",
        {
            "queue": queue,
            "counts": [
                (status, label, counts.get(status, 0), STATUS_BADGES[status])
                for status, label in ReconciliationStatus.choices
            ],
            "check_names": CheckName.choices,
        },
    )


# --- An order's reconciliation -----------------------------------------------------------------


def _as_now(row: Reconciliation | None, evaluation: checks.Evaluation):
    """The row with the checks evaluated now, not saved: reconciling evaluates them again
    first, so the steps offered (and their refusals) are those it will meet. A reconciled row
    keeps what was reconciled."""
    if row is None or row.status == ReconciliationStatus.RECONCILED:
        return row
    now = copy.copy(row)
    for check in evaluation.checks:
        setattr(now, check.name, check.state)
    # Its state is left as stored: `reconcile` is taken from open and discrepancy alike, so
    # the steps offered do not depend on it.
    return now


def _payment_method_label(value: str) -> str:
    try:
        return str(BillingArrangement(value).label)
    except ValueError:
        return value


def _render_case(
    request: HttpRequest, case: BookingRequest, *, forms: dict | None = None
) -> HttpResponse:
    forms = forms or {}
    actor = actor_of(request)
    row = selectors.reconciliation_of(case)
    evaluation = checks.evaluate(case)
    live = [
        _check_view(c.name, c.state, message=c.message, amounts=c.amounts)
        for c in evaluation.checks
    ]
    stored = dict(row.checks()) if row is not None else {}
    current = _as_now(row, evaluation)
    moves = {m.name: m for m in RECONCILIATION_WORKFLOW.moves(current, actor)} if current else {}
    month_closed = (
        row is not None
        and ReconciliationMonth.objects.filter(month=row.month, status=MonthStatus.CLOSED).exists()
    )
    accepted = (
        [
            _check_view(name, CheckState.DISCREPANCY, amounts=(detail or {}).get("amounts"))
            for name, detail in (row.accepted or {}).items()
            if name in CheckName.values
        ]
        if row is not None
        else []
    )
    context = {
        "case": case,
        "patient": case.patient,
        "row": row,
        "status_badge": STATUS_BADGES.get(row.status, "") if row else "",
        "checks": live,
        # The stored states where they differ from now (refreshed by "check again").
        "stale": row is not None
        and row.status != ReconciliationStatus.RECONCILED
        and any(stored.get(c.name) != c.state for c in evaluation.checks),
        "stored": {name: str(CheckState(state).label) for name, state in stored.items()},
        "accepted": accepted,
        "figures": evaluation.figures,
        "payment_method": _payment_method_label(evaluation.figures.payment_method),
        "services": ", ".join(s.name for s in case.services.order_by("name_en")),
        "moves": moves,
        "month_closed": month_closed,
        "provider_invoices": case_provider_invoices(case),
        "invoices": list(
            Invoice.objects.filter(lines__case=case)
            .exclude(display_number="")  # a draft is not billed yet
            .distinct()
            .order_by("created_at", "pk")
        ),
        "payment_requests": list(
            PaymentRequest.objects.filter(lines__case=case).distinct().order_by("-prepared_at")
        )
        if user_can(request.user, Capability.PAYMENT_VIEW)
        else [],
        "reconcile_form": forms.get("reconcile") or ReconcileForm(prefix="reconcile"),
        "reopen_form": forms.get("reopen") or ReconciliationReopenForm(prefix="reopen"),
    }
    return render(request, "web/staff/reconciliation/case.html", context)


def _back(case: BookingRequest) -> HttpResponse:
    return redirect("web:reconciliation_case", order_id=case.order_id)


@require_safe
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_case(request: HttpRequest, order_id: str) -> HttpResponse:
    return _render_case(request, case_or_404(request, order_id, purpose="viewed"))


def _checked(case: BookingRequest):
    def say(row: Reconciliation | None) -> str:
        if row is None:
            return gettext("%(order)s was never booked: there is nothing to reconcile yet.") % {
                "order": case.order_id
            }
        return gettext("Checks of %(order)s evaluated again: %(status)s.") % {
            "order": case.order_id,
            "status": row.get_status_display().lower(),
        }

    return say


@require_POST
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_check(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: reconciliation_refresh(case=case, actor=actor_of(request)),
        success=_checked(case),
    )
    return _back(case)


def _reconciled(case: BookingRequest):
    def say(row: Reconciliation) -> str:
        message = gettext("%(order)s reconciled.") % {"order": case.order_id}
        if BookingRequest.objects.filter(pk=case.pk, status=BookingStatus.CLOSED).exists():
            message += " " + gettext("The case is closed.")
        return message

    return say


@require_POST
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_reconcile_view(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = ReconcileForm(request.POST, prefix="reconcile")
    return form_action_response(
        request,
        form,
        lambda data: reconciliation_reconcile(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_reconciled(case),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"reconcile": form}),
    )


@require_POST
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_reopen_view(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = ReconciliationReopenForm(request.POST, prefix="reopen")
    return form_action_response(
        request,
        form,
        lambda data: reconciliation_reopen(case=case, actor=actor_of(request), note=data["note"]),
        success=gettext("%(order)s reopened for a correction.") % {"order": case.order_id},
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"reopen": form}),
    )


# --- Months ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRow:
    summary: selectors.MonthSummary
    key: str  # "2026-11", as the URLs name it
    over: bool  # a past month: only those are closed
    moves: dict
    close_form: MonthCloseForm
    reopen_form: MonthReopenForm
    counts: list[tuple[str, str, int]]  # (status, label, orders)


def _month_or_404(text: str) -> dt.date:
    found = _MONTH_TEXT.match(text or "")
    if not found:
        raise Http404("No such month")
    try:
        return dt.date(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise Http404("No such month") from None


def _render_months(request: HttpRequest, *, bound: dict | None = None) -> HttpResponse:
    bound = bound or {}
    actor = actor_of(request)
    this_month = month_of(timezone.localdate())
    rows = []
    for summary in selectors.months():
        key = f"{summary.month:%Y-%m}"
        # A month never closed has no row yet: its steps are those of an open month.
        record = summary.record or ReconciliationMonth(month=summary.month)
        rows.append(
            MonthRow(
                summary=summary,
                key=key,
                over=summary.month < this_month,
                moves={m.name: m for m in MONTH_WORKFLOW.moves(record, actor)},
                close_form=bound.get(("close", key)) or MonthCloseForm(prefix=f"close-{key}"),
                reopen_form=bound.get(("reopen", key)) or MonthReopenForm(prefix=f"reopen-{key}"),
                counts=[
                    (status, str(label), summary.counts.get(status, 0))
                    for status, label in ReconciliationStatus.choices
                ],
            )
        )
    return render(
        request,
        "web/staff/reconciliation/months.html",
        {"months": rows, "statuses": ReconciliationStatus.choices},
    )


def _months_back() -> HttpResponse:
    return redirect("web:reconciliation_months")


@require_safe
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_months(request: HttpRequest) -> HttpResponse:
    return _render_months(request)


@require_POST
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_month_close(request: HttpRequest, month: str) -> HttpResponse:
    day = _month_or_404(month)
    key = f"{day:%Y-%m}"
    form = MonthCloseForm(request.POST, prefix=f"close-{key}")
    return form_action_response(
        request,
        form,
        lambda data: month_close(month=day, actor=actor_of(request), note=data["note"]),
        success=gettext("%(month)s closed: its reconciled orders are locked.") % {"month": key},
        done=_months_back,
        again=lambda: _render_months(request, bound={("close", key): form}),
    )


@require_POST
@require_capability(Capability.RECONCILIATION_VIEW)
def reconciliation_month_reopen(request: HttpRequest, month: str) -> HttpResponse:
    day = _month_or_404(month)
    key = f"{day:%Y-%m}"
    form = MonthReopenForm(request.POST, prefix=f"reopen-{key}")
    return form_action_response(
        request,
        form,
        lambda data: month_reopen(month=day, actor=actor_of(request), note=data["note"]),
        success=gettext("%(month)s reopened for a correction.") % {"month": key},
        done=_months_back,
        again=lambda: _render_months(request, bound={("reopen", key): form}),
    )
