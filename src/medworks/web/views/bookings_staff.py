"""The staff booking pages: the work queue, the case page and its actions, email intake.

Views parse, check the capability, call one use case of bookings.services and render. Every
case is loaded through `booking_request_get`, which logs the read. Each action is its own
POST view that redirects back to the case; a refusal (DomainError) is shown as its message
and, because each use case is one transaction, nothing is left half-done.

Privacy: the queue's filters are GET (bookmarkable) and carry only states, owners, insurer,
urgency, age and an Order Id or insurer reference. There is no search by patient name on the
queue: a name in a query string lands in browser history and server logs. Staff who know the
name but not the Order Id ask the insurer for its reference.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings import intake, selectors, services, workflow
from medworks.bookings.models import (
    BookingRequest,
    BookingStatus,
    Channel,
    OfferSlot,
    OfferStatus,
)
from medworks.bookings.workflow import TRANSITIONS
from medworks.core.errors import DomainError
from medworks.notifications.formatting import zone_for

from ..access import actor_of, require_capability
from ..forms import add_domain_errors
from . import documents_staff
from ._actions import case_or_404, place_slot_errors, run_action, run_form_action
from .bookings_staff_forms import (
    ApproveSlotForm,
    CancelForm,
    DeclineForm,
    EmailSourceForm,
    EscalateForm,
    LocationSearchForm,
    NoteForm,
    QueueFilterForm,
    SelectClinicForm,
    SlotFormSet,
)

CASES_PER_PAGE = 50
PASTED_NAME = "pasted-email.txt"
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


def age_label(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d {hours % 24} h"


# --- The work queue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case: BookingRequest
    age: str
    overdue: bool
    services: list


@require_capability(Capability.BOOKING_VIEW)
def work_queue(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    insurers = selectors.insurer_list()
    form = QueueFilterForm(request.GET or None, insurers=insurers)
    cases = selectors.work_queue(user=request.user, now=now, **form.queue_kwargs())
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for case in page.object_list:
        age = selectors.queue_age(case, now=now)
        rows.append(
            QueueRow(case, age_label(age.age), age.overdue, [s.code for s in case.services.all()])
        )
    counts = selectors.work_queue_counts(user=request.user, now=now)
    query = request.GET.copy()
    query.pop("page", None)
    state_query = request.GET.copy()
    for key in ("page", "state"):
        state_query.pop(key, None)
    tabs = [
        {
            "state": state,
            "label": BookingStatus(state).label,
            "total": counts[state]["total"],
            "overdue": counts[state]["overdue"],
            "threshold": selectors.queue_threshold(state),
        }
        for state in selectors.QUEUE_STATES
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "tabs": tabs,
        "open_total": sum(t["total"] for t in tabs),
        "current_state": form.cleaned_data.get("state", "") if form.is_valid() else "",
        "query": query.urlencode(),
        "state_query": state_query.urlencode(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "web/staff/bookings/_queue_table.html", context)
    return render(request, "web/staff/bookings/queue.html", context)


# --- The case page ----------------------------------------------------------------------------


def _who(event) -> str:
    """Who acted, for staff: the person, or which API key, email link or job."""
    if event.actor:
        return event.actor.get_full_name() or event.actor.username
    if event.actor_kind == "api_client":
        return _("Insurer's system (API key %(prefix)s)") % {"prefix": event.actor_detail}
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
    found_locations = []
    if choosing and case.status == BookingStatus.ESCALATED and location_form.is_valid():
        found_locations = selectors.location_search(
            q=location_form.cleaned_data["find"], service_ids=[s.pk for s in service_list]
        )
    context = {
        "case": case,
        "patient": case.patient,
        "services": service_list,
        "age": age_label(timezone.now() - case.status_changed_at),
        "overdue": selectors.queue_age(case).overdue,
        "works": works,
        "can_take": works and "start_sourcing" in names,
        "can_assign_me": works and case.owner_id != user.pk and case.status != BookingStatus.CLOSED,
        "can_escalate": works and "escalate" in names,
        "choosing": choosing,
        "can_offer": works and "offer_dates" in listed and case.location_id,
        "can_decide": works and "approve_date" in names and open_offer is not None,
        "can_cancel": works and "cancel" in names,
        "buttons": [t for t in transitions if t.button and t.name in STEP_USE_CASES],
        "matches": selectors.clinic_choices(case=case, services=service_list) if choosing else None,
        "location_form": location_form,
        "found_locations": found_locations,
        "offers": offers,
        "open_offer": open_offer,
        "appointments": selectors.booking_request_appointments(case=case),
        "timeline": _timeline(case),
        "escalate_form": forms.get("escalate") or EscalateForm(),
        "slot_formset": forms.get("slots") or SlotFormSet(prefix="slots"),
        "slots_errors": forms.get("slots_errors", []),
        "approve_form": forms.get("approve") or ApproveSlotForm(),
        "decline_form": forms.get("decline") or DeclineForm(),
        "cancel_form": forms.get("cancel") or CancelForm(),
        "note_form": NoteForm(),
        "statuses": BookingStatus,
        **documents_staff.staff_panel_context(request, case),
    }
    return render(request, "web/staff/bookings/case.html", context, status=status)


@require_capability(Capability.BOOKING_VIEW)
def case_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    return _render_case(request, case_or_404(request, order_id, purpose="viewed"))


@require_capability(Capability.BOOKING_VIEW)
def case_source(request: HttpRequest, order_id: str) -> HttpResponse:
    """The original email, as a download (never shown inline: it may hold HTML)."""
    case = case_or_404(request, order_id, purpose="source_downloaded")
    content = (
        BookingRequest.objects.filter(pk=case.pk).values_list("source_content", flat=True).get()
    )
    if not content:
        raise Http404("This request has no original message")
    response = HttpResponse(bytes(content), content_type="application/octet-stream")
    name = (case.source_filename or "original-message").replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{case.order_id}-{name}"'
    return response


def _back(case: BookingRequest) -> HttpResponse:
    return redirect("web:staff_booking_detail", order_id=case.order_id)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_take(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    run_action(
        request,
        lambda: services.booking_request_take(case=case, actor=actor_of(request)),
        success="The case is yours: find a clinic.",
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
        success="The case is assigned to you.",
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
        messages.error(request, "Choose a clinic from the list.")
        return _back(case)
    run_action(
        request,
        lambda: services.booking_request_select_clinic(
            case=case,
            location=location,
            actor=actor_of(request),
            note=form.cleaned_data.get("note", ""),
        ),
        success=f"{location.partner.name} — {location.name} chosen: ask the clinic for dates.",
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_escalate(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = EscalateForm(request.POST)
    if run_form_action(
        request,
        form,
        lambda data: services.booking_request_escalate(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success="Escalated to management.",
    ):
        return _back(case)
    return _render_case(request, case, forms={"escalate": form}, status=400)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_offer_dates(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    formset = SlotFormSet(request.POST, prefix="slots")
    top_errors: list[str] = []
    if formset.is_valid():
        zone = zone_for(case.location)
        indexed = [(i, f.slot(zone)) for i, f in enumerate(formset.forms)]
        indexed = [(i, slot) for i, slot in indexed if slot is not None]
        try:
            services.availability_offer_record(
                case=case, slots=[slot for _, slot in indexed], actor=actor_of(request)
            )
        except DomainError as exc:
            if not place_slot_errors(formset, [i for i, _ in indexed], exc):
                top_errors.append(exc.message)
        else:
            messages.success(request, "Dates recorded and sent to the insurer for approval.")
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
            form.add_error(None, "This date is not among the dates offered.")
    if run_form_action(
        request,
        form,
        lambda data: services.availability_offer_approve(
            slot=OfferSlot.objects.get(pk=slot),
            actor=actor_of(request),
            note=f"Approved for the insurer: {data['note']}",
        ),
        success="Booked. Confirmations are on their way.",
    ):
        return _back(case)
    return _render_case(request, case, forms={"approve": form}, status=400)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_decline_dates(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = DeclineForm(request.POST)
    if run_form_action(
        request,
        form,
        lambda data: services.availability_offer_decline(
            case=case, actor=actor_of(request), note=data["note"]
        ),
        success="Dates declined: the case is back in sourcing.",
    ):
        return _back(case)
    return _render_case(request, case, forms={"decline": form}, status=400)


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
        success=f"{TRANSITIONS[name].label}: done.",
    )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def case_cancel(request: HttpRequest, order_id: str) -> HttpResponse:
    case = case_or_404(request, order_id, purpose="worked")
    form = CancelForm(request.POST)
    if run_form_action(
        request,
        form,
        lambda data: services.booking_request_cancel(
            case=case,
            actor=actor_of(request),
            cancelled_by=data["cancelled_by"],
            note=data["note"],
        ),
        success="The case is cancelled.",
    ):
        return _back(case)
    return _render_case(request, case, forms={"cancel": form}, status=400)


# --- Email intake -----------------------------------------------------------------------------


def _source_of(form: EmailSourceForm) -> tuple[str, bytes]:
    """The original message: a new upload, the one carried from the first step, or the text."""
    upload = getattr(form, "cleaned_data", {}).get("source_file")
    if upload is not None:
        return upload.name, upload.read()
    carried = form.cleaned_data.get("carried_b64")
    if carried:
        try:
            return form.cleaned_data.get("carried_name") or "email.eml", base64.b64decode(
                carried, validate=True
            )
        except (binascii.Error, ValueError):
            return "", b""
    text = (form.cleaned_data.get("source_text") or "").strip()
    if text:
        return PASTED_NAME, text.encode("utf-8")
    return "", b""


@require_capability(Capability.BOOKING_WORK)
def booking_intake(request: HttpRequest) -> HttpResponse:
    """Two steps on one page: "Read the email" prefills the form; "Create" makes the case.

    The uploaded message travels from the first step to the second in a hidden field (it is
    the agent's own upload, sent back to the same agent), so nothing is stored before the
    agent confirms.
    """
    from medworks.bookings.forms import BookingRequestForm

    notes: list[str] = []
    name, raw = "", b""
    if request.method != "POST":
        source_form, request_form = EmailSourceForm(), BookingRequestForm()
    else:
        source_form = EmailSourceForm(request.POST, request.FILES)
        source_ok = source_form.is_valid()
        name, raw = _source_of(source_form)
        if "read" in request.POST:
            source_form, request_form, notes = _prefill(request, name, raw)
        else:
            request_form = BookingRequestForm(request.POST)
            request_ok = request_form.is_valid()
            if not raw:
                source_form.add_error(None, "Attach the original email or paste its text.")
            elif source_ok and request_ok:
                data = request.POST.dict()
                data["services"] = request.POST.getlist("services")
                try:
                    case = services.booking_request_submit(
                        insurer=source_form.cleaned_data["insurer"],
                        data=data,
                        actor=actor_of(request),
                        channel=Channel.EMAIL,
                        source_filename=name,
                        source_content=raw,
                    )
                except DomainError as exc:
                    add_domain_errors(request_form, exc)
                else:
                    messages.success(request, f"{case.order_id} created from the email.")
                    return redirect("web:staff_booking_detail", order_id=case.order_id)
    carried = raw and name != PASTED_NAME
    return render(
        request,
        "web/staff/bookings/intake.html",
        {
            "source_form": source_form,
            "form": request_form,
            "notes": notes,
            "carried_name": name if carried else "",
            "carried_b64": base64.b64encode(raw).decode("ascii") if carried else "",
        },
        status=400 if source_form.errors or request_form.errors else 200,
    )


def _prefill(request: HttpRequest, name: str, raw: bytes):
    """The forms of the second step, with what the message suggests as initial values."""
    from medworks.bookings.forms import BookingRequestForm

    notes, guess = [], None
    lowered = name.lower()
    if not raw:
        notes.append("Attach the original email or paste its text to read it.")
    elif lowered.endswith(".eml"):
        guess = intake.guess_from_eml(raw)
    elif lowered.endswith(".msg"):
        notes.append(
            "Outlook .msg files are kept with the case but not read: fill in the form "
            "(or save the message as .eml in Outlook to have it prefilled)."
        )
    else:
        guess = intake.guess_from_text(raw.decode("utf-8", errors="replace"))
    initial = guess.initial() if guess else {}
    if guess:
        notes.extend(guess.notes)
        found = len([k for k in initial if k != "insurer"])
        notes.append(
            f"Prefilled {found} field{'s' if found != 1 else ''} from the email: "
            "check every value before creating the case."
        )
    source_form = EmailSourceForm(
        initial={
            "insurer": initial.get("insurer") or request.POST.get("insurer", ""),
            "source_text": raw.decode("utf-8", errors="replace") if name == PASTED_NAME else "",
        }
    )
    return source_form, BookingRequestForm(initial=initial), notes


def staff_booking_counts(user) -> dict:
    """For the staff home: open cases, unassigned new ones, and those waiting too long."""
    counts = selectors.work_queue_counts(user=user)
    return {
        "open": sum(c["total"] for c in counts.values()),
        "received": counts[BookingStatus.RECEIVED]["total"],
        "overdue": sum(c["overdue"] for c in counts.values()),
        "queue_url": reverse("web:staff_booking_queue"),
    }
