"""The insurer portal's booking pages: its requests, a new request checked as it is typed, a
case with the dates to approve, cancelling, the calendar file.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.bookings import selectors, services, workflow
from medworks.bookings.forms import BookingRequestForm
from medworks.bookings.models import BookingRequest, BookingStatus, Channel
from medworks.core.errors import DomainError
from medworks.notifications.formatting import format_when

from ..access import actor_of, require_capability
from ..actions import calendar_response, case_or_404, origin_of, run_action, run_form_action
from ..forms import NoteForm, add_domain_errors
from ..pricing import quote_panel
from . import cards, documents, invoices
from .forms import PortalFilterForm, PortalSearchForm


@require_capability(Capability.INSURER_PORTAL)
def portal_home(request: HttpRequest) -> HttpResponse:
    # The insurer's home is its list of booking requests.
    return portal_requests_page(request)


REQUESTS_PER_PAGE = 50


# The request form in the order an insurer thinks of it.
REQUEST_SECTIONS = [
    (
        gettext_lazy("Reference and contact"),
        [
            "insurer_reference",
            "policy_number",
            "insurer_contact_name",
            "insurer_contact_email",
            "insurer_contact_phone",
        ],
    ),
    (
        gettext_lazy("Patient"),
        [
            "patient_first_name",
            "patient_last_name",
            "patient_date_of_birth",
            "patient_language",
            "patient_needs_wheelchair_access",
            "patient_phone",
            "patient_email",
            "patient_address",
            "patient_city",
            "patient_postal_code",
            "patient_province",
        ],
    ),
    (gettext_lazy("Services and needs"), ["services", "symptoms", "summary", "urgency"]),
    (gettext_lazy("Scheduling"), ["preferred_dates", "preferred_time_window", "scheduling_notes"]),
    (
        gettext_lazy("Paperwork and results"),
        ["paperwork_required", "results_delivery", "notify_patient"],
    ),
]


# Validated together by the form's clean(): a change to one re-shows the other's errors too.
_LINKED_FIELDS = {
    "patient_postal_code": "patient_province",
    "patient_province": "patient_postal_code",
}


# What the insurer has to do, or waits for, in each state (the list's "next action").
INSURER_NEXT_ACTION = {
    BookingStatus.RECEIVED: gettext_lazy("MedWorks is reviewing the request"),
    BookingStatus.SOURCING: gettext_lazy("MedWorks is finding a clinic"),
    BookingStatus.ESCALATED: gettext_lazy("MedWorks is finding a clinic"),
    BookingStatus.AWAITING_AVAILABILITY: gettext_lazy("Waiting for the clinic's dates"),
    BookingStatus.DATES_OFFERED: gettext_lazy("Dates to approve"),
    BookingStatus.BOOKED: gettext_lazy("Appointment booked"),
    BookingStatus.NO_SHOW: gettext_lazy("The patient did not attend: MedWorks will contact you"),
}


def portal_requests_page(request: HttpRequest) -> HttpResponse:
    """The portal home: the organisation's requests, filterable by status (routed as /portal/)."""
    form = PortalFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    cases = selectors.portal_requests(user=request.user, status=status)
    page = Paginator(cases, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.portal_status_counts(user=request.user)
    rows = [(case, INSURER_NEXT_ACTION.get(case.status, "")) for case in page.object_list]
    return render(
        request,
        "web/insurer/home.html",
        {
            "organisation": request.user.organisation,
            "form": form,
            "page": page,
            "rows": rows,
            "status": status,
            "total": sum(counts.values()),
            "to_approve": counts.get(BookingStatus.DATES_OFFERED, 0),
        },
    )


@require_capability(Capability.INSURER_PORTAL)
def portal_search(request: HttpRequest) -> HttpResponse:
    """The organisation's own cases, any state, by patient name, date of birth, claim or policy
    number or Order Id. A POST: the name typed is in no URL."""
    form = PortalSearchForm(request.POST or None)
    cases = None
    if request.method == "POST" and form.is_valid():
        cases = selectors.case_search(
            user=request.user, q=form.cleaned_data["q"], origin=origin_of(request), policy=True
        )
    return render(
        request,
        "web/insurer/search.html",
        {"form": form, "cases": cases, "limit": selectors.SEARCH_LIMIT},
    )


def _request_form_data(request: HttpRequest) -> dict:
    """request.POST as the use case takes it: one value per field, every chosen service."""
    data = request.POST.dict()
    data["services"] = request.POST.getlist("services")
    return data


def _sections(form: BookingRequestForm) -> list[tuple[str, list]]:
    return [(title, [form[name] for name in names]) for title, names in REQUEST_SECTIONS]


@require_capability(Capability.BOOKING_SUBMIT)
def portal_request_new(request: HttpRequest) -> HttpResponse:
    """The request form. One view: the page (GET), the submit (POST), and, for an htmx POST
    sent when a field changes, that field re-rendered with its errors (nothing is saved)."""
    user = request.user
    if request.method == "POST" and request.htmx:
        name = request.POST.get("_validate", "")
        form = BookingRequestForm(data=_request_form_data(request))
        if name not in form.fields:
            return HttpResponse(status=400)
        form.is_valid()
        html = render_to_string(
            "web/insurer/_request_field.html", {"field": form[name]}, request=request
        )
        linked = _LINKED_FIELDS.get(name)
        if linked and request.POST.get(linked):
            html += render_to_string(
                "web/insurer/_request_field.html",
                {"field": form[linked], "oob": True},
                request=request,
            )
        return HttpResponse(html)
    if request.method == "POST":
        data = _request_form_data(request)
        try:
            case = services.booking_request_submit(
                insurer=user.organisation,
                data=data,
                actor=actor_of(request),
                channel=Channel.PORTAL,
            )
        except DomainError as exc:
            form = BookingRequestForm(data=data)
            if not form.errors:  # a refusal that is not about a field
                add_domain_errors(form, exc)
        else:
            messages.success(
                request, _("Request %(order)s sent to MedWorks.") % {"order": case.order_id}
            )
            return redirect("web:portal_request", order_id=case.order_id)
    else:
        form = BookingRequestForm(
            initial={
                "insurer_contact_name": user.get_full_name(),
                "insurer_contact_email": user.email,
            }
        )
    return render(
        request, "web/insurer/request_new.html", {"form": form, "sections": _sections(form)}
    )


@require_capability(Capability.INSURER_PORTAL)
def portal_request(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="viewed")
    return render(request, "web/insurer/request.html", _portal_case_context(request, case))


def _portal_case_context(request: HttpRequest, case: BookingRequest, **forms) -> dict:
    offer = selectors.booking_request_open_offer(case=case)
    slots = [(slot, slot.is_available()) for slot in offer.slots.all()] if offer else []
    moves = {m.name: m for m in workflow.moves(case, actor_of(request))}
    allowed = {name for name, move in moves.items() if move.allowed}
    approve = moves.get("approve_date")
    return {
        "case": case,
        "services": list(case.services.all()),
        "timeline": selectors.insurer_timeline(case=case),
        "offer": offer,
        "slots": slots,
        "can_answer": offer is not None and "decline_dates" in allowed,
        "can_approve": offer is not None and "approve_date" in allowed,
        # Why a date cannot be approved yet (the charges to confirm first), said above them.
        "approve_waits": approve.reason if offer is not None and approve is not None else None,
        "appointment": selectors.booking_request_current_appointment(case=case),
        "can_cancel": "cancel" in allowed,
        "decline_form": forms.get("decline_form") or NoteForm(prefix="decline"),
        "cancel_form": forms.get("cancel_form") or NoteForm(prefix="cancel"),
        **documents.portal_panel_context(request, case),
        **quote_panel(request, case),
        "case_invoice": invoices.case_invoice_panel(case),
        "card_panel": cards.card_panel(case),
    }


@require_POST
@require_capability(Capability.BOOKING_SUBMIT)
def portal_request_approve(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="date_approved")
    offer = selectors.booking_request_open_offer(case=case)
    slot = None
    if offer is not None:
        slot = next((s for s in offer.slots.all() if str(s.pk) == request.POST.get("slot")), None)
    if slot is None:
        messages.error(request, _("This date is no longer offered."))
        return redirect("web:portal_request", order_id=case.order_id)
    run_action(
        request,
        lambda: services.availability_offer_approve(slot=slot, actor=actor_of(request)),
        success=lambda appointment: (
            _("Booked for %(when)s. Thank you.")
            % {"when": format_when(appointment.starts_at, appointment.location)}
        ),
    )
    return redirect("web:portal_request", order_id=case.order_id)


@require_POST
@require_capability(Capability.BOOKING_SUBMIT)
def portal_request_decline(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="dates_declined")
    form = NoteForm(request.POST, prefix="decline")
    if run_form_action(
        request,
        form,
        lambda data: services.availability_offer_decline(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_("Dates declined. MedWorks will look for other dates."),
    ):
        return redirect("web:portal_request", order_id=case.order_id)
    context = _portal_case_context(request, case, decline_form=form)
    return render(request, "web/insurer/request.html", context, status=400)


@require_POST
@require_capability(Capability.BOOKING_SUBMIT)
def portal_request_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="cancelled")
    form = NoteForm(request.POST, prefix="cancel")
    if run_form_action(
        request,
        form,
        lambda data: services.booking_request_cancel(
            case=case, actor=actor_of(request), cancelled_by="insurer", note=data["note"]
        ),
        success=_("Request %(order)s cancelled.") % {"order": case.order_id},
    ):
        return redirect("web:portal_request", order_id=case.order_id)
    context = _portal_case_context(request, case, cancel_form=form)
    return render(request, "web/insurer/request.html", context, status=400)


@require_capability(Capability.INSURER_PORTAL)
def portal_request_calendar(request: HttpRequest, order_id: str) -> HttpResponse:
    return calendar_response(case_or_404(request, order_id, purpose="calendar_downloaded"))
