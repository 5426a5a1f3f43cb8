"""Booking requests in the insurer portal and the clinic portal.

Each view parses, checks a capability, calls a booking use case or selector, and renders.
A case is always loaded through `booking_request_get`, which scopes it to the user's own
organisation (another insurer's or another clinic's case is a 404, its existence undisclosed)
and writes the access record. A refusal from a use case (a taken slot, a missing note) comes
back as a DomainError whose message is shown as is.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.bookings import selectors, services
from medworks.bookings.forms import BookingRequestForm
from medworks.bookings.models import BookingRequest, BookingStatus, Channel
from medworks.bookings.workflow import available_transitions
from medworks.core.errors import DomainError
from medworks.notifications.calendar import ics_for_appointment
from medworks.notifications.formatting import format_when, zone_for

from ..access import actor_of, require_capability
from ..forms import add_domain_errors
from ..forms_bookings_portals import NoteForm, PortalFilterForm, SlotFormSet
from . import documents_portals
from ._actions import case_or_404, origin_of, place_slot_errors, run_action, run_form_action

REQUESTS_PER_PAGE = 50

# The request form in the order an insurer thinks of it.
REQUEST_SECTIONS = [
    (
        "Reference and contact",
        [
            "insurer_reference",
            "policy_number",
            "insurer_contact_name",
            "insurer_contact_email",
            "insurer_contact_phone",
        ],
    ),
    (
        "Patient",
        [
            "patient_first_name",
            "patient_last_name",
            "patient_date_of_birth",
            "patient_language",
            "patient_phone",
            "patient_email",
            "patient_address",
            "patient_city",
            "patient_postal_code",
            "patient_province",
        ],
    ),
    ("Services and needs", ["services", "symptoms", "summary", "urgency"]),
    ("Scheduling", ["preferred_dates", "preferred_time_window", "scheduling_notes"]),
    ("Paperwork and results", ["paperwork_required", "results_delivery", "notify_patient"]),
]
# Validated together by the form's clean(): a change to one re-shows the other's errors too.
_LINKED_FIELDS = {
    "patient_postal_code": "patient_province",
    "patient_province": "patient_postal_code",
}

# What the insurer has to do, or waits for, in each state (the list's "next action").
INSURER_NEXT_ACTION = {
    BookingStatus.RECEIVED: "MedWorks is reviewing the request",
    BookingStatus.SOURCING: "MedWorks is finding a clinic",
    BookingStatus.ESCALATED: "MedWorks is finding a clinic",
    BookingStatus.AWAITING_AVAILABILITY: "Waiting for the clinic's dates",
    BookingStatus.DATES_OFFERED: "Dates to approve",
    BookingStatus.BOOKED: "Appointment booked",
    BookingStatus.NO_SHOW: "The patient did not attend: MedWorks will contact you",
}


def _transition_names(request: HttpRequest, case: BookingRequest) -> set[str]:
    return {t.name for t in available_transitions(case, actor_of(request))}


# --- Insurer portal ---------------------------------------------------------------------------


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
        "web/portal/home.html",
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
            "web/portal/_request_field.html", {"field": form[name]}, request=request
        )
        linked = _LINKED_FIELDS.get(name)
        if linked and request.POST.get(linked):
            html += render_to_string(
                "web/portal/_request_field.html",
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
            messages.success(request, f"Request {case.order_id} sent to MedWorks.")
            return redirect("web:portal_request", order_id=case.order_id)
    else:
        form = BookingRequestForm(
            initial={
                "insurer_contact_name": user.get_full_name(),
                "insurer_contact_email": user.email,
            }
        )
    return render(
        request, "web/portal/request_new.html", {"form": form, "sections": _sections(form)}
    )


@require_capability(Capability.INSURER_PORTAL)
def portal_request(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="viewed")
    return render(request, "web/portal/request.html", _portal_case_context(request, case))


def _portal_case_context(request: HttpRequest, case: BookingRequest, **forms) -> dict:
    offer = selectors.booking_request_open_offer(case=case)
    slots = [(slot, slot.is_available()) for slot in offer.slots.all()] if offer else []
    allowed = _transition_names(request, case)
    return {
        "case": case,
        "services": list(case.services.all()),
        "timeline": selectors.insurer_timeline(case=case),
        "offer": offer,
        "slots": slots,
        "can_answer": offer is not None and "approve_date" in allowed,
        "appointment": selectors.booking_request_current_appointment(case=case),
        "can_cancel": "cancel" in allowed,
        "decline_form": forms.get("decline_form") or NoteForm(prefix="decline"),
        "cancel_form": forms.get("cancel_form") or NoteForm(prefix="cancel"),
        **documents_portals.portal_panel_context(request, case),
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
        messages.error(request, "This date is no longer offered.")
        return redirect("web:portal_request", order_id=case.order_id)
    run_action(
        request,
        lambda: services.availability_offer_approve(slot=slot, actor=actor_of(request)),
        success=lambda appointment: (
            f"Booked for {format_when(appointment.starts_at, appointment.location)}. Thank you."
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
        success="Dates declined. MedWorks will look for other dates.",
    ):
        return redirect("web:portal_request", order_id=case.order_id)
    context = _portal_case_context(request, case, decline_form=form)
    return render(request, "web/portal/request.html", context, status=400)


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
        success=f"Request {case.order_id} cancelled.",
    ):
        return redirect("web:portal_request", order_id=case.order_id)
    context = _portal_case_context(request, case, cancel_form=form)
    return render(request, "web/portal/request.html", context, status=400)


def _calendar_response(case: BookingRequest) -> HttpResponse:
    appointment = selectors.booking_request_current_appointment(case=case)
    if appointment is None:
        raise Http404("No booked appointment")
    response = HttpResponse(
        ics_for_appointment(appointment=appointment, case=case),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{case.order_id}.ics"'
    return response


@require_capability(Capability.INSURER_PORTAL)
def portal_request_calendar(request: HttpRequest, order_id: str) -> HttpResponse:
    return _calendar_response(case_or_404(request, order_id, purpose="calendar_downloaded"))


# --- Clinic portal ----------------------------------------------------------------------------


def clinic_bookings_context(request: HttpRequest) -> dict:
    """The clinic home's booking sections (the locations list below is portals.clinic_home's)."""
    return {
        "awaiting": selectors.clinic_requests_awaiting(user=request.user),
        "appointments": selectors.clinic_appointments_booked(
            user=request.user, origin=origin_of(request)
        ),
    }


def _clinic_case_context(request: HttpRequest, case: BookingRequest, **forms) -> dict:
    allowed = _transition_names(request, case)
    appointment = selectors.booking_request_current_appointment(case=case)
    return {
        "case": case,
        "services": list(case.services.all()),
        "can_offer": "offer_dates" in allowed,
        "zone": zone_for(case.location) if case.location_id else None,
        "offer": selectors.booking_request_open_offer(case=case),
        "appointment": appointment,
        # The patient's identity and contact only once the clinic will see them (need to know).
        "show_patient": appointment is not None,
        "can_complete": "complete" in allowed,
        "can_no_show": "no_show" in allowed,
        "can_cancel": "cancel" in allowed,
        "slot_formset": forms.get("slot_formset") or SlotFormSet(prefix="slots"),
        "cancel_form": forms.get("cancel_form") or NoteForm(prefix="cancel"),
        **documents_portals.clinic_panel_context(request, case),
    }


@require_capability(Capability.CLINIC_PORTAL)
def clinic_request(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="viewed")
    return render(request, "web/clinic/request.html", _clinic_case_context(request, case))


@require_POST
@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_request_dates(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="dates_offered")
    formset = SlotFormSet(request.POST, prefix="slots")
    if formset.is_valid():
        slots, rows = formset.slots(zone_for(case.location))
        try:
            offer = services.availability_offer_record(
                case=case, slots=slots, actor=actor_of(request)
            )
        except DomainError as exc:
            if not place_slot_errors(formset, rows, exc):
                formset._non_form_errors = formset.error_class([exc.message])
        else:
            count = len(slots)
            messages.success(
                request,
                f"{count} date{'s' if count != 1 else ''} sent to the insurer for approval "
                f"(offer {offer.pk}).",
            )
            return redirect("web:clinic_request", order_id=case.order_id)
    context = _clinic_case_context(request, case, slot_formset=formset)
    return render(request, "web/clinic/request.html", context, status=400)


@require_POST
@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_request_outcome(request: HttpRequest, order_id: str) -> HttpResponse:
    """Completed or no-show, from the appointment's two buttons."""
    case = case_or_404(request, order_id, purpose="outcome_recorded")
    outcome = request.POST.get("outcome")
    use_case = {
        "completed": services.appointment_complete,
        "no_show": services.appointment_no_show,
    }.get(outcome)
    if use_case is None:
        return HttpResponse("Unknown outcome.", status=400)
    done = "completed" if outcome == "completed" else "marked as a no-show"
    run_action(
        request,
        lambda: use_case(case=case, actor=actor_of(request)),
        success=f"{case.order_id} {done}.",
    )
    if request.POST.get("next") == "home":
        return redirect("web:clinic_home")
    return redirect("web:clinic_request", order_id=case.order_id)


@require_POST
@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_request_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="cancelled")
    form = NoteForm(request.POST, prefix="cancel")
    if run_form_action(
        request,
        form,
        lambda data: services.booking_request_cancel(
            case=case, actor=actor_of(request), cancelled_by="clinic", note=data["note"]
        ),
        success=f"{case.order_id} cancelled. MedWorks has been told.",
    ):
        return redirect("web:clinic_home")
    context = _clinic_case_context(request, case, cancel_form=form)
    return render(request, "web/clinic/request.html", context, status=400)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_request_calendar(request: HttpRequest, order_id: str) -> HttpResponse:
    return _calendar_response(case_or_404(request, order_id, purpose="calendar_downloaded"))
