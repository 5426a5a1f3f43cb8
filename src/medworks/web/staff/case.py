"""The staff case page and its actions.

Every case is loaded through `booking_request_get`, which logs the read. Each action is its
own POST view that redirects back to the case; a refusal (DomainError) is shown as its message
and, because each use case is one transaction, nothing is left half-done. The buttons shown are
the moves the booking workflow lists for this actor (`workflow.moves`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings import selectors, services, workflow
from medworks.bookings.models import (
    BookingRequest,
    BookingStatus,
    OfferSlot,
    OfferStatus,
)
from medworks.bookings.workflow import TRANSITIONS
from medworks.core.errors import DomainError
from medworks.mailbox.selectors import inbound_emails_filed_on

from ..access import actor_of, require_capability
from ..actions import case_or_404, form_action_response, place_slot_errors, run_action
from ..pricing import quote_panel
from ..slots import SlotFormSet
from . import documents, invoices, payables, payment_requests
from .escalations import escalation_panel
from .forms import (
    ApproveSlotForm,
    CancelForm,
    ClinicDeclineForm,
    DeclineForm,
    EscalateForm,
    LocationSearchForm,
    NoteForm,
    SelectClinicForm,
)
from .orders import order_panel
from .queue import age_label

# Buttons on the case page that are plain steps (no form beyond an optional note), and the
# use case each calls. Other transitions have their own forms (take, clinic, dates, cancel).
STEP_USE_CASES = {
    "complete": services.appointment_complete,
    "no_show": services.appointment_no_show,
    "reschedule": services.appointment_reschedule,
    "mark_ready_for_billing": lambda **kw: services.booking_request_step(
        name="mark_ready_for_billing", **kw
    ),
    "close": lambda **kw: services.booking_request_step(name="close", **kw),
}

# The label of a step's note ("Why (reschedule)"): one whole message per step.
STEP_NOTE_LABELS = {
    "complete": gettext_lazy("Why (mark completed)"),
    "no_show": gettext_lazy("Why (mark no-show)"),
    "reschedule": gettext_lazy("Why (reschedule)"),
    "mark_ready_for_billing": gettext_lazy("Why (ready for billing)"),
    "close": gettext_lazy("Why (close)"),
}

# Under the case's heading: how long it has been in its state, one sentence per state.
STATUS_FOR = {
    BookingStatus.RECEIVED: gettext_lazy("received for %(age)s"),
    BookingStatus.SOURCING: gettext_lazy("sourcing for %(age)s"),
    BookingStatus.ESCALATED: gettext_lazy("escalated for %(age)s"),
    BookingStatus.AWAITING_AVAILABILITY: gettext_lazy("awaiting dates for %(age)s"),
    BookingStatus.DATES_OFFERED: gettext_lazy("dates offered for %(age)s"),
    BookingStatus.BOOKED: gettext_lazy("booked for %(age)s"),
    BookingStatus.COMPLETED: gettext_lazy("completed for %(age)s"),
    BookingStatus.READY_FOR_BILLING: gettext_lazy("ready for billing for %(age)s"),
    BookingStatus.CLOSED: gettext_lazy("closed for %(age)s"),
    BookingStatus.NO_SHOW: gettext_lazy("no-show for %(age)s"),
    BookingStatus.CANCELLED: gettext_lazy("cancelled for %(age)s"),
}


@dataclass(frozen=True)
class StepButton:
    """A plain step's button on the case page, with the label of its note."""

    name: str
    label: str
    needs_note: bool
    note_label: str


def _status_age(case: BookingRequest, age: str, overdue: bool) -> str:
    """The state and its age ("sourcing for 3 h"); the age in a red badge when overdue."""
    shown = format_html('<span class="badge badge-danger">{}</span>', age) if overdue else age
    params = {
        "age": conditional_escape(shown),
        "state": conditional_escape(case.get_status_display()),
    }
    text = STATUS_FOR.get(case.status) or _("%(state)s for %(age)s")
    return mark_safe(conditional_escape(str(text)) % params)  # both parts escaped


def _who(event) -> str:
    """Who acted, for staff: the person, or which API key, email link or job."""
    if event.actor:
        return event.actor.get_full_name() or event.actor.username
    if event.actor_kind == "api_client":
        return _("Insurer's system (API key %(prefix)s)") % {"prefix": event.actor_detail}
    if event.actor_kind == "signed_link" and event.payload.get("party") == "clinic":
        return _("Clinic, by email link")
    if event.actor_kind == "signed_link" or event.payload.get("party") == "signed_link":
        return _("Insurer, by email link")
    return _("System")


def _timeline(case: BookingRequest) -> list[dict]:
    return [
        {
            "event": event,
            "label": event.label,
            "actor": _who(event),
            "from_label": BookingStatus(event.from_status).label if event.from_status else "",
            "to_label": BookingStatus(event.to_status).label if event.to_status else "",
        }
        for event in selectors.booking_request_timeline(case=case)
    ]


@dataclass(frozen=True)
class ClinicFacts:
    """What the agent weighs beside the drive time: how to reach the clinic, and whether it
    meets the patient's language and wheelchair needs (None: the directory does not say)."""

    phone: str
    languages: str
    wheelchair_accessible: bool | None
    speaks_patient_language: bool | None
    patient_needs_wheelchair: bool


_LANGUAGE_WORDS = {"fr": ("french", "français", "francais"), "en": ("english", "anglais")}


def clinic_facts(patient, location_ids: list[int]) -> dict[int, ClinicFacts]:
    """One query for the ranked clinics' phone, languages and accessibility."""
    from medworks.network.models import Location

    words = _LANGUAGE_WORDS.get(patient.preferred_language, ())
    facts = {}
    for location in Location.objects.filter(pk__in=location_ids).only(
        "phone", "languages", "wheelchair_accessible"
    ):
        listed = (location.languages or "").lower()
        facts[location.pk] = ClinicFacts(
            phone=location.phone,
            languages=location.languages,
            wheelchair_accessible=location.wheelchair_accessible,
            speaks_patient_language=any(w in listed for w in words) if listed else None,
            patient_needs_wheelchair=patient.needs_wheelchair_access,
        )
    return facts


def _render_case(
    request: HttpRequest, case: BookingRequest, *, forms: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    service_list = list(case.services.order_by("name_en"))
    # The steps this actor may see from here; a step whose guard its own form satisfies
    # (choosing a clinic sets the location; dates need one) is listed with its reason.
    listed = {m.name: m for m in workflow.moves(case, actor_of(request))}
    transitions = [m.transition for m in listed.values() if m.allowed]
    names = {t.name for t in transitions}
    works = user_can(user, Capability.BOOKING_WORK)
    forms = forms or {}
    offers = selectors.booking_request_offers(case=case)
    open_offer = next((o for o in offers if o.status == OfferStatus.OPEN), None)
    choosing = works and "select_clinic" in listed
    location_form = LocationSearchForm(request.GET or None)
    matches = selectors.clinic_choices(case=case, services=service_list) if choosing else None
    result = matches.result if matches else None
    origin = ""
    if result:
        place = result.origin.place
        origin = f"{result.origin.postal_code} ({place})" if place else result.origin.postal_code
    facts = clinic_facts(case.patient, [m.location_id for m in result.matches]) if result else {}
    match_rows = [(m, facts.get(m.location_id)) for m in result.matches] if result else []
    age = age_label(timezone.now() - case.status_changed_at)
    overdue = selectors.queue_age(case).overdue
    # The clinics that said they cannot offer dates for this case, marked where they are listed.
    declines = selectors.clinic_declines(case=case) if choosing else {}
    found_locations = []
    if choosing and case.status == BookingStatus.ESCALATED and location_form.is_valid():
        found_locations = selectors.location_search(
            q=location_form.cleaned_data["find"], service_ids=[s.pk for s in service_list]
        )
    context = {
        "case": case,
        "patient": case.patient,
        "services": service_list,
        "age": age,
        "overdue": overdue,
        "status_age": _status_age(case, age, overdue),
        "service_names": " + ".join(s.name_en for s in service_list),
        "match_origin": origin,
        "works": works,
        "can_take": works and "start_sourcing" in names,
        "can_assign_me": works and case.owner_id != user.pk and case.status != BookingStatus.CLOSED,
        "can_escalate": works and "escalate" in names,
        "choosing": choosing,
        "can_offer": works and "offer_dates" in listed and case.location_id,
        "can_decide": works and "approve_date" in names and open_offer is not None,
        "can_cancel": works and "cancel" in names,
        "can_record_decline": works and "clinic_decline" in names,
        "declines": list(declines.values()),
        # What the clinic asked about the booked appointment, until staff reschedule or cancel;
        # and the reminder it was sent while it has given no dates.
        "pending_request": selectors.clinic_request_pending(case=case),
        "clinic_reminded": selectors.clinic_reminded(case=case),
        "clinic_decline_form": forms.get("clinic_decline") or ClinicDeclineForm(),
        "buttons": [
            StepButton(t.name, t.label, t.needs_note, STEP_NOTE_LABELS.get(t.name, t.label))
            for t in transitions
            if t.button and t.name in STEP_USE_CASES
        ],
        "matches": matches,
        "match_rows": match_rows,
        "location_form": location_form,
        "found_locations": found_locations,
        "offers": offers,
        "open_offer": open_offer,
        "appointments": selectors.booking_request_appointments(case=case),
        "emails": inbound_emails_filed_on(case=case),  # replies filed on it (booking inbox)
        "timeline": _timeline(case),
        "escalate_form": forms.get("escalate") or EscalateForm(),
        "slot_formset": forms.get("slots") or SlotFormSet(prefix="slots"),
        "slots_errors": forms.get("slots_errors", []),
        "approve_form": forms.get("approve") or ApproveSlotForm(),
        "decline_form": forms.get("decline") or DeclineForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "note_form": NoteForm(),
        "statuses": BookingStatus,
        **documents.staff_panel_context(request, case),
        **quote_panel(request, case),
        **order_panel(request, case),  # the order to finance (staff/orders.py)
        **invoices.invoice_panel(request, case),  # its invoice (staff/invoices.py)
        **payables.payables_panel(request, case),  # the provider's side (staff/payables.py)
        **payment_requests.payments_panel(request, case),  # pre-payment (payment_requests.py)
        **escalation_panel(request, case, forms),
    }
    return render(request, "web/staff/bookings/case.html", context, status=status)


@require_capability(Capability.BOOKING_VIEW)
def case_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    return _render_case(request, case_or_404(request, order_id, purpose="viewed"))


def _back(case: BookingRequest) -> HttpResponse:
    return redirect("web:staff_booking_detail", order_id=case.order_id)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_take(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: services.booking_request_take(case=case, actor=actor_of(request)),
        success=_("The case is yours: find a clinic."),
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_assign_me(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: services.booking_request_assign(
            case=case, owner=request.user, actor=actor_of(request)
        ),
        success=_("The case is assigned to you."),
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_select_clinic(request: HttpRequest, order_id: str) -> HttpResponse:
    from medworks.network.models import Location

    case = case_or_404(request, order_id, purpose="worked")
    form = SelectClinicForm(request.POST)
    location = None
    if form.is_valid():
        location = (
            Location.objects.select_related("partner")
            .filter(pk=form.cleaned_data["location"])
            .first()
        )
    if location is None:
        messages.error(request, _("Choose a clinic from the list."))
        return _back(case)
    run_action(
        request,
        lambda: services.booking_request_select_clinic(
            case=case,
            location=location,
            actor=actor_of(request),
            note=form.cleaned_data.get("note", ""),
        ),
        success=_("%(partner)s — %(location)s chosen: ask the clinic for dates.")
        % {"partner": location.partner.name, "location": location.name},
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_escalate(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = EscalateForm(request.POST)
    return form_action_response(
        request,
        form,
        lambda data: services.booking_request_escalate(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_("Escalated to management."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"escalate": form}),
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_offer_dates(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    formset = SlotFormSet(request.POST, prefix="slots")
    top_errors: list[str] = []
    if formset.is_valid():
        slots, rows = formset.slots()
        try:
            services.availability_offer_record(case=case, slots=slots, actor=actor_of(request))
        except DomainError as exc:
            if not place_slot_errors(formset, rows, exc):
                top_errors.append(exc.message)
        else:
            messages.success(request, _("Dates recorded and sent to the insurer for approval."))
            return _back(case)
    return _render_case(
        request, case, forms={"slots": formset, "slots_errors": top_errors}, status=400
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_approve_slot(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = ApproveSlotForm(request.POST)
    slot = None
    if form.is_valid():
        slot = (
            case.offers.filter(status=OfferStatus.OPEN)
            .values_list("slots__pk", flat=True)
            .filter(slots__pk=form.cleaned_data["slot"])
            .first()
        )
        if slot is None:
            form.add_error(None, _("This date is not among the dates offered."))
    return form_action_response(
        request,
        form,
        lambda data: services.availability_offer_approve(
            slot=OfferSlot.objects.get(pk=slot),
            actor=actor_of(request),
            note=f"Approved for the insurer: {data['note']}",
        ),
        success=_("Booked. Confirmations are on their way."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"approve": form}),
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_decline_dates(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = DeclineForm(request.POST)
    return form_action_response(
        request,
        form,
        lambda data: services.availability_offer_decline(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_("Dates declined: the case is back in sourcing."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"decline": form}),
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_step(request: HttpRequest, order_id: str, name: str) -> HttpResponse:
    """The plain buttons (complete, no-show, reschedule, ready for billing, close)."""
    use_case = STEP_USE_CASES.get(name)
    if use_case is None:
        raise Http404("No such step")
    case = case_or_404(request, order_id, purpose="worked")
    note = NoteForm(request.POST)
    text = note.cleaned_data["note"] if note.is_valid() else ""
    run_action(
        request,
        lambda: use_case(case=case, actor=actor_of(request), note=text),
        success=_("%(step)s: done.") % {"step": TRANSITIONS[name].label},
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = CancelForm(request.POST)
    return form_action_response(
        request,
        form,
        lambda data: services.booking_request_cancel(
            case=case,
            actor=actor_of(request),
            cancelled_by=data["cancelled_by"],
            note=data["note"],
        ),
        success=_("The case is cancelled."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"cancel": form}),
    )


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_clinic_decline(request: HttpRequest, order_id: str) -> HttpResponse:
    """Staff record, for the clinic, that it cannot offer dates (it phoned or replied by email):
    the same use case as the clinic's own, so the case goes back to sourcing with the clinic
    noted as having declined."""
    case = case_or_404(request, order_id, purpose="worked")
    form = ClinicDeclineForm(request.POST)
    return form_action_response(
        request,
        form,
        lambda data: services.booking_request_clinic_decline(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success=_("The clinic cannot offer dates: the case is back in sourcing."),
        done=lambda: _back(case),
        again=lambda: _render_case(request, case, forms={"clinic_decline": form}),
    )
