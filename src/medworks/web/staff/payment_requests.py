"""Pre-paying providers (SOP case 4 steps 1-3): the payment requests, what waits for whom,
one request in the SOP's table with the steps this person may take, preparing one from
cases, and recording the payment made.

Read by those who take part (`PAYMENT_VIEW`: the booking team, the Chief of Staff, the CEO,
finance): the table names patients, and each view of it is recorded. Each POST has its own
capability and the use case in `payments.requests` decides again (the segregation of duties
is the workflow's guards).
"""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.selectors import prepayment_needed
from medworks.bookings.models import BookingRequest
from medworks.payments.models import (
    PaymentMethod,
    PaymentRequest,
    PaymentRequestStatus,
)
from medworks.payments.requests import (
    payment_made_record,
    payment_request_change,
    payment_request_prepare,
    payment_request_step,
    payment_requests_waiting,
    request_drift,
)
from medworks.payments.selectors import prepayable_cases, sop_table
from medworks.payments.vault import card_current
from medworks.payments.workflow import PAYMENT_REQUEST_WORKFLOW

from ..access import actor_of, require_capability
from ..actions import form_action_response, origin_of, run_action, run_form_action
from ..forms import add_domain_errors

# --- Forms --------------------------------------------------------------------------------------


class RequestForm(forms.Form):
    order_ids = forms.CharField(
        label=gettext_lazy("Order Ids"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("One or more cases of the same provider, separated by spaces."),
    )
    method = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=PaymentMethod.choices)

    def clean_order_ids(self):
        wanted = list(dict.fromkeys(self.cleaned_data["order_ids"].upper().split()))
        found = {c.order_id: c for c in BookingRequest.objects.filter(order_id__in=wanted)}
        unknown = [order_id for order_id in wanted if order_id not in found]
        if unknown:
            raise forms.ValidationError(
                gettext("No case with the Order Id %(orders)s.") % {"orders": ", ".join(unknown)}
            )
        return [found[order_id] for order_id in wanted]


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Why"), widget=forms.Textarea(attrs={"rows": 2}))


class PaymentMadeForm(forms.Form):
    paid_on = forms.DateField(
        label=gettext_lazy("Paid on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (CAD)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
    )
    participants = forms.CharField(
        label=gettext_lazy("Who took part in the call"),
        max_length=300,
        help_text=gettext_lazy("The booking team, the Chief of Staff and the clinic's person."),
    )
    confirmation = forms.CharField(
        label=gettext_lazy("The clinic's confirmation or authorisation number"), max_length=100
    )


# --- Pages --------------------------------------------------------------------------------------


@require_safe
@require_capability(Capability.PAYMENT_VIEW)
def payment_request_list(request):
    """What waits for this person (the Chief of Staff's reviews, the CEO's approvals, the
    booking team's drafts and approved requests to pay), oldest first; then the rest."""
    actor = actor_of(request)
    waiting = payment_requests_waiting(actor=actor)
    status = request.GET.get("status", "")
    others = PaymentRequest.objects.select_related("provider", "prepared_by").order_by(
        "-prepared_at", "-pk"
    )
    if status in PaymentRequestStatus.values:
        others = others.filter(status=status)
    return render(
        request,
        "web/staff/payments/list.html",
        {
            "waiting": waiting,
            "requests": list(others[:100]),
            "statuses": PaymentRequestStatus.choices,
            "status": status,
            "can_prepare": user_can(request.user, Capability.PAYMENT_PREPARE),
        },
    )


def _request_or_404(request_id: int) -> PaymentRequest:
    return get_object_or_404(
        PaymentRequest.objects.select_related(
            "provider", "prepared_by", "reviewed_by", "approved_by"
        ),
        pk=request_id,
    )


def _detail_url(payment_request: PaymentRequest) -> str:
    return reverse("web:payment_request_detail", args=[payment_request.pk])


def _detail(request, payment_request: PaymentRequest, *, status: int = 200, **bound):
    actor = actor_of(request)
    moves = {m.name: m for m in PAYMENT_REQUEST_WORKFLOW.moves(payment_request, actor)}
    rows = sop_table(payment_request, user=request.user, origin=origin_of(request))
    prepares = user_can(request.user, Capability.PAYMENT_PREPARE)
    context = {
        "payment_request": payment_request,
        "rows": rows,
        "moves": moves,
        "drift": request_drift(payment_request)
        if payment_request.status
        not in (
            PaymentRequestStatus.PAID,
            PaymentRequestStatus.CANCELLED,
            PaymentRequestStatus.REJECTED,
        )
        else [],
        "prepares": prepares,
        "payment": getattr(payment_request, "payment", None)
        if payment_request.status == PaymentRequestStatus.PAID
        else None,
        "reject_form": bound.get("reject") or NoteForm(prefix="reject"),
        "cancel_form": bound.get("cancel") or NoteForm(prefix="cancel"),
        "change_form": bound.get("change")
        or RequestForm(
            prefix="change",
            initial={
                "order_ids": " ".join(row.order_id for row in rows),
                "method": payment_request.method,
            },
        ),
        "paid_form": bound.get("paid")
        or PaymentMadeForm(
            prefix="paid",
            initial={
                "paid_on": timezone.localdate(),
                "amount": f"{payment_request.clinic_cost:.2f}",
            },
        ),
    }
    return render(request, "web/staff/payments/detail.html", context, status=status)


@require_safe
@require_capability(Capability.PAYMENT_VIEW)
def payment_request_detail(request, request_id: int):
    return _detail(request, _request_or_404(request_id))


@require_http_methods(["GET", "POST"])
@require_capability(Capability.PAYMENT_PREPARE)
def payment_request_new(request):
    """Prepare a request: from a case's page (?case=Order Id), the provider's other cases
    that can be pre-paid are offered beside it."""
    case = BookingRequest.objects.filter(order_id=request.GET.get("case", "")).first()
    provider = case.location.partner if case is not None and case.location_id else None
    form = RequestForm(
        request.POST or None,
        prefix="new",
        initial={"order_ids": case.order_id if case else "", "method": _default_method(provider)},
    )
    made = []
    if request.method == "POST":
        if run_form_action(
            request,
            form,
            lambda data: (
                made.append(
                    payment_request_prepare(
                        cases=data["order_ids"], method=data["method"], actor=actor_of(request)
                    )
                )
                or made[0]
            ),
            success=lambda done: (
                gettext(
                    "Payment request %(number)s prepared: check the table, then send it to the "
                    "Chief of Staff."
                )
                % {"number": done.display_number}
            ),
        ):
            return redirect(_detail_url(made[0]))
        response = _new_page(request, form, provider)
        response.status_code = 400
        return response
    return _new_page(request, form, provider)


def _default_method(provider) -> str:
    accepted = set(provider.billing_arrangements or []) if provider is not None else set()
    if "eft" in accepted:
        return PaymentMethod.EFT
    if "insurer_card" in accepted and "credit_card" not in accepted:
        return PaymentMethod.INSURER_CARD
    return PaymentMethod.MEDWORKS_CARD


def _new_page(request, form, provider):
    return render(
        request,
        "web/staff/payments/new.html",
        {"form": form, "provider": provider, "candidates": prepayable_cases(provider=provider)},
    )


# The steps a button takes (a note for reject and cancel, through their own forms).
_BUTTON_STEPS = {
    "submit": gettext_lazy("%(number)s sent to the Chief of Staff."),
    "review": gettext_lazy("%(number)s reviewed: sent to the CEO."),
    "approve": gettext_lazy("%(number)s approved: the booking team is told to pay."),
}


@require_POST
@require_capability(Capability.PAYMENT_VIEW)
def payment_request_step_view(request, request_id: int, name: str):
    payment_request = _request_or_404(request_id)
    if name in _BUTTON_STEPS:
        run_action(
            request,
            lambda: payment_request_step(
                request=payment_request, name=name, actor=actor_of(request)
            ),
            success=lambda done: str(_BUTTON_STEPS[name]) % {"number": done.display_number},
        )
        return redirect(_detail_url(payment_request))
    if name in ("reject", "cancel"):
        form = NoteForm(request.POST, prefix=name)
        return form_action_response(
            request,
            form,
            lambda data: payment_request_step(
                request=payment_request, name=name, actor=actor_of(request), note=data["note"]
            ),
            success=lambda done: (
                gettext("%(number)s is %(state)s.")
                % {"number": done.display_number, "state": done.get_status_display().lower()}
            ),
            done=lambda: redirect(_detail_url(payment_request)),
            again=lambda: _detail(request, payment_request, **{name: form}),
        )
    raise Http404("No such step")


@require_POST
@require_capability(Capability.PAYMENT_PREPARE)
def payment_request_change_view(request, request_id: int):
    payment_request = _request_or_404(request_id)
    form = RequestForm(request.POST, prefix="change")
    return form_action_response(
        request,
        form,
        lambda data: payment_request_change(
            request=payment_request,
            cases=data["order_ids"],
            method=data["method"],
            actor=actor_of(request),
        ),
        success=lambda changed: (
            gettext("%(number)s changed.") % {"number": changed.display_number}
            + (
                " " + gettext("Its approvals start again with the Chief of Staff.")
                if changed.status == PaymentRequestStatus.AWAITING_REVIEW
                else ""
            )
        ),
        done=lambda: redirect(_detail_url(payment_request)),
        again=lambda: _detail(request, payment_request, change=form),
    )


@require_POST
@require_capability(Capability.PAYMENT_PREPARE)
def payment_made_view(request, request_id: int):
    payment_request = _request_or_404(request_id)
    form = PaymentMadeForm(request.POST, prefix="paid")
    return form_action_response(
        request,
        form,
        lambda data: payment_made_record(
            request=payment_request,
            paid_on=data["paid_on"],
            amount=data["amount"],
            participants=data["participants"],
            confirmation=data["confirmation"],
            actor=actor_of(request),
        ),
        success=lambda paid: (
            gettext("Payment of %(amount)s to %(provider)s recorded.")
            % {"amount": f"{paid.amount:.2f}", "provider": payment_request.provider.name}
        ),
        done=lambda: redirect(_detail_url(payment_request)),
        again=lambda: _detail(request, payment_request, paid=form),
        put_errors=add_domain_errors,
    )


def payments_panel(request, case: BookingRequest) -> dict:
    """The case page's pre-payment panel: the requests the case is in, and the link to
    prepare one when it can be pre-paid."""
    if not user_can(request.user, Capability.PAYMENT_VIEW) or not prepayment_needed(case):
        return {"payments_panel": None}
    requests = list(
        PaymentRequest.objects.filter(lines__case=case).distinct().order_by("-prepared_at")
    )
    live = [r for r in requests if r.status not in ("rejected", "cancelled")]

    return {
        "payments_panel": {
            "requests": requests,
            "card": card_current(case),
            "can_prepare": not live and user_can(request.user, Capability.PAYMENT_PREPARE),
        }
    }
