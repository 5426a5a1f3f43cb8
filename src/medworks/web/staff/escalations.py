"""Management's side of an escalation (SOP "Escalation to Management" and case 2): the queue of
escalated cases, taking or giving one, and recording the provider found on the case.

A case is escalated by an agent or by the desk itself when matching finds no affiliate in the
insurer's service area (bookings.services.booking_request_take). Management (clinic manager,
sales manager, director of operations, senior manager: Capability.ESCALATION_HANDLE) each get
an email; the queue shows how long each case has waited since, against the work queue's
threshold for the escalated state, and who among them owns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings import selectors, services
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.errors import DomainError

from ..access import actor_of, require_capability
from ..actions import case_or_404, form_action_response, run_action
from ..forms import add_domain_errors
from .forms import EscalationAssignForm, ProviderForm
from .queue import age_label

CASES_PER_PAGE = 50

# The provider's directory fields, named as the form names them.
_PROVIDER_FIELD_OF = {
    "contact_email": "email",
    "contact_phone": "phone",
    "billing_arrangements": "payment_methods",
}


@dataclass(frozen=True)
class EscalationRow:
    case: BookingRequest
    age: str
    overdue: bool
    services: list


@require_capability(Capability.BOOKING_VIEW)
def escalation_queue(request: HttpRequest) -> HttpResponse:
    """Every escalated case, longest waiting first, with its owner among management."""
    now = timezone.now()
    mine = request.GET.get("owner") == "mine"
    cases = selectors.escalation_queue(user=request.user, mine=mine)
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        age = selectors.queue_age(case, now=now)
        rows.append(
            EscalationRow(
                case, age_label(age.age), age.overdue, [s.name for s in case.services.all()]
            )
        )
    context = {
        "page": page,
        "rows": rows,
        "mine": mine,
        "threshold": _threshold_label(selectors.queue_threshold(BookingStatus.ESCALATED)),
        "handles": user_can(request.user, Capability.ESCALATION_HANDLE),
    }
    return render(request, "web/staff/escalations/queue.html", context)


def _threshold_label(threshold) -> str:
    return age_label(threshold) if threshold is not None else ""


def escalation_counts(user) -> dict:
    """For the staff home of management: escalated cases, unowned, waiting too long."""
    now = timezone.now()
    cases = list(
        selectors.escalation_queue(user=user)
        .select_related(None)
        .prefetch_related(None)
        .only("status", "status_changed_at", "escalation_owner_id")
    )
    return {
        "total": len(cases),
        "unowned": sum(1 for c in cases if c.escalation_owner_id is None),
        "overdue": sum(1 for c in cases if selectors.queue_age(c, now=now).overdue),
    }


def escalation_panel(request: HttpRequest, case: BookingRequest, forms: dict) -> dict:
    """The case page's escalation part: the owner, take/give, and the provider form."""
    escalated = case.status == BookingStatus.ESCALATED
    handles = escalated and user_can(request.user, Capability.ESCALATION_HANDLE)
    services_wanted = list(case.services.order_by("name_en")) if handles else []
    return {
        "escalated": escalated,
        "handles_escalation": handles,
        "can_take_escalation": handles and case.escalation_owner_id != request.user.pk,
        "escalation_assign_form": forms.get("escalation_assign")
        or (EscalationAssignForm() if handles else None),
        "provider_form": forms.get("provider")
        or (ProviderForm(services=services_wanted, prefix="provider") if handles else None),
    }


def _back(case: BookingRequest, anchor: str = "") -> HttpResponse:
    return redirect(reverse("web:staff_booking_detail", args=[case.order_id]) + anchor)


@require_POST
@require_capability(Capability.ESCALATION_HANDLE)
def escalation_take(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: services.booking_request_escalation_assign(
            case=case, owner=request.user, actor=actor_of(request)
        ),
        success=_("The escalation is yours: find a provider willing to be pre-paid."),
    )
    return _back(case, "#escalation")


@require_POST
@require_capability(Capability.ESCALATION_HANDLE)
def escalation_assign(request: HttpRequest, order_id: str) -> HttpResponse:
    from .case import _render_case

    case = case_or_404(request, order_id, purpose="worked")
    form = EscalationAssignForm(request.POST)
    return form_action_response(
        request,
        form,
        lambda data: services.booking_request_escalation_assign(
            case=case, owner=data["owner"], actor=actor_of(request)
        ),
        success=_("The escalation is given to its new owner, who is told by email."),
        done=lambda: _back(case, "#escalation"),
        again=lambda: _render_case(request, case, forms={"escalation_assign": form}),
    )


def _provider_errors(form: ProviderForm, error: DomainError) -> None:
    fields = {_PROVIDER_FIELD_OF.get(k, k): v for k, v in error.fields.items()}
    add_domain_errors(form, DomainError(error.code, error.message, fields=fields))


@require_POST
@require_capability(Capability.ESCALATION_HANDLE)
def provider_found(request: HttpRequest, order_id: str) -> HttpResponse:
    """Record the provider found: into the directory, chosen for the case, asked for dates."""
    from .case import _render_case

    case = case_or_404(request, order_id, purpose="worked")
    form = ProviderForm(
        request.POST, services=list(case.services.order_by("name_en")), prefix="provider"
    )
    return form_action_response(
        request,
        form,
        lambda data: services.booking_request_provider_found(
            case=case, actor=actor_of(request), **form.use_case_kwargs()
        ),
        success=_("The provider is in the directory and chosen for this case: ask it for dates."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"provider": form}),
        put_errors=_provider_errors,
    )
