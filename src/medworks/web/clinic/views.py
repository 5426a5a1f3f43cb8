"""The clinic portal's booking pages: its home (the appointments of the week, day by day, then
the requests waiting for its dates), its price list, and a case where it gives dates or says it
cannot, records the outcome, or asks MedWorks to reschedule or says the appointment cannot take
place. A clinic never cancels the insurer's order (bookings/workflow.py): the booking team
decides.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability
from medworks.bookings import selectors, services
from medworks.bookings.models import AppointmentStatus, BookingRequest
from medworks.bookings.workflow import CLINIC_REQUESTS, clinic_requests_available
from medworks.core.errors import DomainError
from medworks.network.selectors import clinic_locations_for_organisation
from medworks.notifications.formatting import zone_for

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

# The home lists this many days from its first day (today by default), with links a week back
# and a week on.
WEEK_DAYS = 7
# What the week shows: the appointments that stand or took place (not the moved or cancelled).
_SHOWN = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)


def _first_day(value: str | None, today: dt.date) -> dt.date:
    """The week's first day from ?from=YYYY-MM-DD (today when absent or unreadable)."""
    try:
        return dt.date.fromisoformat(value) if value else today
    except ValueError:
        return today


def _midnight(day: dt.date, zone) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), zone)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_home(request: HttpRequest) -> HttpResponse:
    """First the appointments of today and the coming days, day by day (a week, with the
    previous and next weeks a link away), and the past ones still waiting for an outcome; then
    the requests waiting for the clinic's dates. Days are the clinic's own (its locations'
    zone). The price list is its own page (`clinic_prices`)."""
    zone = selectors.clinic_zone_for_user(user=request.user)
    today = timezone.localdate(timezone=zone)
    first = _first_day(request.GET.get("from"), today)
    days = [first + dt.timedelta(days=n) for n in range(WEEK_DAYS)]
    origin = origin_of(request)
    week = selectors.clinic_appointments(
        user=request.user,
        start=_midnight(first, zone),
        end=_midnight(days[-1] + dt.timedelta(days=1), zone),
        statuses=_SHOWN,
        origin=origin,
    )
    earlier = (
        selectors.clinic_appointments(
            user=request.user, end=_midnight(today, zone), origin=origin, listed="clinic_earlier"
        )
        if first == today
        else []
    )
    for appointment in (*week, *earlier):
        local = timezone.localtime(appointment.starts_at, zone_for(appointment.location))
        appointment.local_day, appointment.local_start = local.date(), local.time()
    documents.clinic_home_paperwork([*week, *earlier], user=request.user)
    by_day = {day: [] for day in days}
    for appointment in week:
        # A location in another zone than the clinic's first may fall just outside: its edge.
        by_day[min(max(appointment.local_day, first), days[-1])].append(appointment)
    context = {
        "organisation": request.user.organisation,
        "today": today,
        "first": first,
        "last": days[-1],
        "days": list(by_day.items()),
        "week_count": len(week),
        "earlier": earlier,
        "previous_week": (first - dt.timedelta(days=WEEK_DAYS)).isoformat(),
        "next_week": (first + dt.timedelta(days=WEEK_DAYS)).isoformat(),
        "awaiting": selectors.clinic_requests_awaiting(user=request.user),
    }
    return render(request, "web/clinic/home.html", context)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_prices(request: HttpRequest) -> HttpResponse:
    """The clinic's locations with the services and clinic prices MedWorks has on file."""
    organisation = request.user.organisation
    locations = clinic_locations_for_organisation(organisation=organisation)
    return render(
        request,
        "web/clinic/prices.html",
        {"organisation": organisation, "locations": locations},
    )


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
        "can_decline": "clinic_decline" in allowed,
        "clinic_requests": clinic_requests_available(case, actor_of(request)),
        "pending_request": selectors.clinic_request_pending(case=case),
        "slot_formset": forms.get("slot_formset") or SlotFormSet(prefix="slots"),
        "decline_form": forms.get("decline_form") or NoteForm(prefix="decline"),
        "ask_form": forms.get("ask_form") or NoteForm(prefix="ask"),
        "ask_kind": forms.get("ask_kind", ""),
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
            services.availability_offer_record(case=case, slots=slots, actor=actor_of(request))
        except DomainError as exc:
            if not place_slot_errors(formset, rows, exc):
                formset._non_form_errors = formset.error_class([exc.message])
        else:
            count = len(slots)
            messages.success(
                request,
                ngettext(
                    "%(count)s date for %(order_id)s sent to the insurer for approval.",
                    "%(count)s dates for %(order_id)s sent to the insurer for approval.",
                    count,
                )
                % {"count": count, "order_id": case.order_id},
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
def clinic_request_decline(request: HttpRequest, order_id: str) -> HttpResponse:
    """The clinic cannot offer dates, saying why: back to sourcing (MedWorks asks another
    clinic). The case leaves the clinic's list, so the clinic goes back to its home."""
    case = case_or_404(request, order_id, purpose="declined")
    form = NoteForm(request.POST, prefix="decline")
    if run_form_action(
        request,
        form,
        lambda data: services.booking_request_clinic_decline(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_("%(order)s: MedWorks is told you cannot offer dates and asks another clinic.")
        % {"order": case.order_id},
    ):
        return redirect("web:clinic_home")
    context = _clinic_case_context(request, case, decline_form=form)
    return render(request, "web/clinic/request.html", context, status=400)


@require_POST
@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_request_ask(request: HttpRequest, order_id: str) -> HttpResponse:
    """A booked appointment: ask MedWorks to reschedule it, or say it cannot take place
    (`kind`), saying why. The appointment stands until the booking team decides."""
    case = case_or_404(request, order_id, purpose="clinic_request")
    kind = request.POST.get("kind", "")
    if kind not in CLINIC_REQUESTS:
        return HttpResponse(_("Unknown request."), status=400)
    form = NoteForm(request.POST, prefix="ask")
    if run_form_action(
        request,
        form,
        lambda data: services.appointment_clinic_request(
            case=case, actor=actor_of(request), kind=kind, note=data["note"]
        ),
        success=_("%(order)s: MedWorks is told and will get back to you.")
        % {"order": case.order_id},
    ):
        return redirect("web:clinic_request", order_id=case.order_id)
    context = _clinic_case_context(request, case, ask_form=form, ask_kind=kind)
    return render(request, "web/clinic/request.html", context, status=400)


@require_capability(Capability.CLINIC_PORTAL)
def clinic_request_calendar(request: HttpRequest, order_id: str) -> HttpResponse:
    return calendar_response(case_or_404(request, order_id, purpose="calendar_downloaded"))
