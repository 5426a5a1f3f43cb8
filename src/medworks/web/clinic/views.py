"""The clinic portal's booking pages: its home (what to answer, the booked appointments, its
locations), a case where it gives dates or records the outcome.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.bookings import selectors, services
from medworks.bookings.models import BookingRequest
from medworks.core.errors import DomainError
from medworks.network.selectors import clinic_locations_for_organisation

from ..access import actor_of, require_capability
from ..actions import (
    allowed_steps,
    calendar_response,
    case_or_404,
    origin_of,
    place_slot_errors,
    run_action,
    run_form_action,
)
from ..forms import NoteForm
from ..slots import SlotFormSet
from . import documents


@require_capability(Capability.CLINIC_PORTAL)
def clinic_home(request: HttpRequest) -> HttpResponse:
    organisation = request.user.organisation
    locations = clinic_locations_for_organisation(organisation=organisation)
    bookings = clinic_bookings_context(request)
    documents.clinic_home_paperwork(bookings["appointments"], user=request.user)
    return render(
        request,
        "web/clinic/home.html",
        {"organisation": organisation, "locations": locations, **bookings},
    )


def clinic_bookings_context(request: HttpRequest) -> dict:
    """The clinic home's booking sections (the locations list below is portals.clinic_home's)."""
    return {
        "awaiting": selectors.clinic_requests_awaiting(user=request.user),
        "appointments": selectors.clinic_appointments_booked(
            user=request.user, origin=origin_of(request)
        ),
    }


def _clinic_case_context(request: HttpRequest, case: BookingRequest, **forms) -> dict:
    allowed = allowed_steps(request, case)
    appointment = selectors.booking_request_current_appointment(case=case)
    return {
        "case": case,
        "services": list(case.services.all()),
        "can_offer": "offer_dates" in allowed,
        "zone": selectors.clinic_zone(case=case),
        "offer": selectors.booking_request_open_offer(case=case),
        "appointment": appointment,
        # The patient's identity and contact only once the clinic will see them (need to know).
        "show_patient": appointment is not None,
        "can_complete": "complete" in allowed,
        "can_no_show": "no_show" in allowed,
        "can_cancel": "cancel" in allowed,
        "slot_formset": forms.get("slot_formset") or SlotFormSet(prefix="slots"),
        "cancel_form": forms.get("cancel_form") or NoteForm(prefix="cancel"),
        **documents.clinic_panel_context(request, case),
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
        slots, rows = formset.slots()
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
                ngettext(
                    "%(count)s date sent to the insurer for approval (offer %(offer)s).",
                    "%(count)s dates sent to the insurer for approval (offer %(offer)s).",
                    count,
                )
                % {"count": count, "offer": offer.pk},
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
        return HttpResponse(_("Unknown outcome."), status=400)
    if outcome == "completed":
        done = _("%(order)s completed.") % {"order": case.order_id}
    else:
        done = _("%(order)s marked as a no-show.") % {"order": case.order_id}
    run_action(request, lambda: use_case(case=case, actor=actor_of(request)), success=done)
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
        success=_("%(order)s cancelled. MedWorks has been told.") % {"order": case.order_id},
    ):
        return redirect("web:clinic_home")
    context = _clinic_case_context(request, case, cancel_form=form)
    return render(request, "web/clinic/request.html", context, status=400)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_request_calendar(request: HttpRequest, order_id: str) -> HttpResponse:
    return calendar_response(case_or_404(request, order_id, purpose="calendar_downloaded"))
