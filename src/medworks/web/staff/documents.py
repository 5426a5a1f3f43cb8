"""Paperwork in the staff back office: attach a document (or a new version of one), ask the
insurer for a GOP, issue and amend a GOP, change a GOP's status, download, and the access
history of a case and a patient.

The documents panel itself is part of the case page (`staff_panel_context`, included by
staff.case._render_case). Each form here posts to its own route: success goes back to
the case page; a refusal re-renders the form on its own page with the errors on the fields
and the input kept (status 400). Downloads go through `document_open`, which logs the read.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings import selectors as booking_selectors
from medworks.bookings import workflow as booking_workflow
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.errors import DomainError
from medworks.documents import gops as gop_services
from medworks.documents import selectors as document_selectors
from medworks.documents import services as document_services
from medworks.documents.models import GOP_LIVE_STATUSES, DocumentAccessAction, DocumentKind

from .. import paperwork as panels
from ..access import actor_of, require_capability
from ..uploads import mark_skipped_uploads
from .forms import (
    DocumentUploadForm,
    GopStatusForm,
    GopUploadForm,
)

FORM_PAGE = "web/paperwork/form_page.html"


class GopRequestForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note for the team (not sent to the insurer)"),
        required=False,
        max_length=2000,
    )


def _may_request_gop(case: BookingRequest, gops) -> bool:
    """The case needs paperwork, is not over, and has no GOP standing or already asked for
    (`gop_request` refuses a second one)."""
    return (
        case.paperwork_required
        and case.status not in (BookingStatus.CANCELLED, BookingStatus.CLOSED)
        and not any(g.status in GOP_LIVE_STATUSES for g in gops)
    )


def staff_panel_context(request: HttpRequest, case: BookingRequest) -> dict:
    """The case page's documents panel (read by staff.case._render_case)."""
    works = user_can(request.user, Capability.BOOKING_WORK)
    context = panels.panel_context(request, case, face="staff")
    can_request_gop = works and _may_request_gop(case, context["gops"])
    # The workflow hides "Ready for billing" while a guard refuses it; say why here.
    billing = next(
        (
            m
            for m in booking_workflow.moves(case, actor_of(request))
            if m.name == "mark_ready_for_billing"
        ),
        None,
    )
    context.update(
        {
            "billing_waits": (
                _("%(step)s waits: %(reason)s") % {"step": billing.label, "reason": billing.reason}
                if billing and billing.reason
                else ""
            ),
            "works": works,
            "upload_form": DocumentUploadForm(prefix="doc") if works else None,
            "can_request_gop": can_request_gop,
            "gop_request_form": GopRequestForm(prefix="gop-request") if can_request_gop else None,
        }
    )
    return {"documents_panel": context}


def _back(case: BookingRequest) -> HttpResponse:
    return redirect(reverse("web:staff_booking_detail", args=[case.order_id]) + "#documents")


def _form_page(request, case, form, *, heading, action, submit, status=200, intro=""):
    return render(
        request,
        FORM_PAGE,
        {
            "case": case,
            "form": form,
            "gop_fields": getattr(form, "GOP_FIELDS", ()),
            "heading": heading,
            "intro": intro,
            "action": action,
            "submit": submit,
            "back_url": reverse("web:staff_booking_detail", args=[case.order_id]) + "#documents",
            "crumb_url": reverse("web:staff_booking_queue"),
            "crumb_label": _("Work queue"),
        },
        status=status,
    )


@require_capability(Capability.BOOKING_VIEW)
def staff_document_download(request: HttpRequest, order_id: str, version_id: int):
    return panels.download(request, panels.case_in_scope(request, order_id), version_id)


@require_capability(Capability.BOOKING_WORK)
def staff_document_new(request: HttpRequest, order_id: str) -> HttpResponse:
    """Attach a document to the case; with `document`, a new version of that document."""
    case = panels.case_in_scope(request, order_id)
    documents = {
        d.pk: d for d in document_selectors.documents_for_case(case=case, user=request.user)
    }
    form = DocumentUploadForm(request.POST or None, request.FILES or None, prefix="doc")
    if request.method == "POST" and not form.is_valid():
        mark_skipped_uploads(request, form)
    if request.method == "GET" and request.GET.get("document", "").isdigit():
        existing = documents.get(int(request.GET["document"]))
        if existing is not None:
            form = DocumentUploadForm(
                prefix="doc",
                initial={"document": existing.pk, "kind": existing.kind, "title": existing.title},
            )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        existing = documents.get(data["document"]) if data.get("document") else None
        if data.get("document") and existing is None:
            form.add_error(None, _("That document is not part of this case."))
        else:
            upload = data["file"]
            try:
                version = document_services.document_upload(
                    case=case,
                    kind=existing.kind if existing else data["kind"],
                    file=upload,
                    filename=upload.name,
                    actor=actor_of(request),
                    title=data["title"],
                    document=existing,
                )
            except DomainError as exc:
                panels.put_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(document)s attached (version %(number)s).")
                    % {
                        "document": version.document.title or version.original_name,
                        "number": version.number,
                    },
                )
                return _back(case)
    new_version = bool(form["document"].value())
    return _form_page(
        request,
        case,
        form,
        heading=_("Attach a new version") if new_version else _("Attach a document"),
        action=reverse("web:staff_document_new", args=[case.order_id]),
        submit=_("Upload"),
        status=400 if form.errors else 200,
    )


def _gop_initial(case: BookingRequest) -> dict:
    """A new GOP starts from what the case says; the person checks it against the insurer's."""
    return {
        "insurer_reference": case.insurer_reference,
        "patient_name": case.patient.full_name,
        "patient_date_of_birth": case.patient.date_of_birth,
        "policy_number": case.policy_number,
        "authorised_services": [s.code for s in case.services.all()],
        "currency": "CAD",
    }


def _gop_from(gop) -> dict:
    return {
        "insurer_reference": gop.insurer_reference,
        "patient_name": gop.patient_name,
        "patient_date_of_birth": gop.patient_date_of_birth,
        "policy_number": gop.policy_number,
        "authorised_services": [s.code for s in gop.authorised_services.all()],
        "valid_from": gop.valid_from,
        "valid_to": gop.valid_to,
        "max_amount": gop.max_amount,
        "currency": gop.currency,
        "copay_exclusions": gop.copay_exclusions,
        "billing_instructions": gop.billing_instructions,
    }


def _gop_page(request, case, *, gop=None):
    """Issue (gop=None) or amend a GOP: one form, one page."""
    services = list(case.services.order_by("name_en"))
    if request.method == "POST":
        form = GopUploadForm(request.POST, request.FILES, services=services)
        if not form.is_valid():
            mark_skipped_uploads(request, form)
    else:
        initial = _gop_from(gop) if gop else _gop_initial(case)
        form = GopUploadForm(initial=initial, services=services)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        file_kwargs = {"file": upload, "filename": upload.name} if upload else {}
        try:
            if gop is None:
                issued = gop_services.gop_issue(
                    case=case, data=form.gop_data(), actor=actor_of(request), **file_kwargs
                )
            else:
                issued = gop_services.gop_amend(
                    gop=gop, data=form.gop_data(), actor=actor_of(request), **file_kwargs
                )
        except DomainError as exc:
            panels.put_errors(form, exc)
        else:
            messages.success(
                request, _("GOP version %(version)s recorded.") % {"version": issued.version}
            )
            return _back(case)
    if gop is None:
        heading, action = _("Record a GOP"), reverse("web:staff_gop_new", args=[case.order_id])
    else:
        heading = _("Amend GOP version %(version)s") % {"version": gop.version}
        action = reverse("web:staff_gop_amend", args=[case.order_id, gop.pk])
    return _form_page(
        request,
        case,
        form,
        heading=heading,
        intro=_(
            "The insurer's guarantee of payment as it reads. An amendment keeps every "
            "earlier version."
        ),
        action=action,
        submit=_("Save the GOP"),
        status=400 if form.errors else 200,
    )


@require_capability(Capability.BOOKING_WORK)
def staff_gop_new(request: HttpRequest, order_id: str) -> HttpResponse:
    return _gop_page(request, panels.case_logged(request, order_id))


@require_capability(Capability.BOOKING_WORK)
def staff_gop_amend(request: HttpRequest, order_id: str, gop_id: int) -> HttpResponse:
    case = panels.case_logged(request, order_id)
    return _gop_page(request, case, gop=panels.gop_in_case(request, case, gop_id))


@require_POST
@require_capability(Capability.BOOKING_WORK)
def staff_gop_request(request: HttpRequest, order_id: str) -> HttpResponse:
    """Ask the insurer for a GOP: a requested GOP on the case, and an email to its contact."""
    case = panels.case_in_scope(request, order_id)
    form = GopRequestForm(request.POST, prefix="gop-request")
    if not form.is_valid():
        messages.error(request, _("The note is too long (2,000 characters at most)."))
        return _back(case)
    try:
        gop = gop_services.gop_request(
            case=case, actor=actor_of(request), note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("GOP requested from %(insurer)s (version %(version)s); %(email)s is emailed.")
            % {
                "insurer": case.insurer.name,
                "version": gop.version,
                "email": case.insurer_contact_email,
            },
        )
    return _back(case)


@require_POST
@require_capability(Capability.BOOKING_WORK)
def staff_gop_status(request: HttpRequest, order_id: str, gop_id: int) -> HttpResponse:
    case = panels.case_in_scope(request, order_id)
    gop = panels.gop_in_case(request, case, gop_id)
    form = GopStatusForm(request.POST, prefix="gop")
    if not form.is_valid():
        messages.error(request, _("Choose the GOP's new status."))
        return _back(case)
    try:
        gop_services.gop_set_status(
            gop=gop,
            status=form.cleaned_data["status"],
            actor=actor_of(request),
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("GOP version %(version)s: status changed.") % {"version": gop.version}
        )
    return _back(case)


# --- Access history ---------------------------------------------------------------------------


ACCESS_VERBS = {a.value: a.label for a in DocumentAccessAction}

# What a document read was, one whole sentence per action and kind of document.
ACCESS_WHAT = {
    (DocumentAccessAction.VIEWED, DocumentKind.GOP): gettext_lazy(
        "Viewed guarantee of payment (gop) “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.VIEWED, DocumentKind.INSURER_FORM): gettext_lazy(
        "Viewed insurer form “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.VIEWED, DocumentKind.COMPLETED_FORM): gettext_lazy(
        "Viewed completed, signed form “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.VIEWED, DocumentKind.RESULTS): gettext_lazy(
        "Viewed results “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.VIEWED, DocumentKind.CLINIC_INVOICE): gettext_lazy(
        "Viewed clinic invoice “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.VIEWED, DocumentKind.OTHER): gettext_lazy(
        "Viewed other “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.GOP): gettext_lazy(
        "Downloaded guarantee of payment (gop) “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.INSURER_FORM): gettext_lazy(
        "Downloaded insurer form “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.COMPLETED_FORM): gettext_lazy(
        "Downloaded completed, signed form “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.RESULTS): gettext_lazy(
        "Downloaded results “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.CLINIC_INVOICE): gettext_lazy(
        "Downloaded clinic invoice “%(title)s” (version %(number)s, %(name)s)"
    ),
    (DocumentAccessAction.DOWNLOADED, DocumentKind.OTHER): gettext_lazy(
        "Downloaded other “%(title)s” (version %(number)s, %(name)s)"
    ),
}

# Why a case was opened (the `booking_request.<purpose>` audit events).
CASE_READ_PURPOSES = {
    "viewed": gettext_lazy("viewed"),
    "worked": gettext_lazy("worked"),
    "source_downloaded": gettext_lazy("source downloaded"),
    "paperwork_uploaded": gettext_lazy("paperwork uploaded"),
    "date_approved": gettext_lazy("date approved"),
    "dates_declined": gettext_lazy("dates declined"),
    "dates_offered": gettext_lazy("dates offered"),
    "outcome_recorded": gettext_lazy("outcome recorded"),
    "cancelled": gettext_lazy("cancelled"),
    "calendar_downloaded": gettext_lazy("calendar downloaded"),
}


def _who(user) -> str:
    if user is None:
        return _("An insurer's system (API key)")
    name = user.get_full_name() or user.username
    organisation = getattr(user.organisation, "name", "")
    return f"{name} ({organisation})" if organisation else name


def _access_rows(document_accesses, case_reads, order_ids: dict[int, str]) -> list[dict]:
    """Document reads and case reads, newest first, in one list: who, when, what, from where."""
    rows = []
    for access in document_accesses:
        version = access.version
        document = version.document
        what = ACCESS_WHAT.get((access.action, document.kind)) or _(
            "%(action)s %(kind)s “%(title)s” (version %(number)s, %(name)s)"
        )
        rows.append(
            {
                "at": access.at,
                "who": _who(access.actor),
                "what": what
                % {
                    "action": ACCESS_VERBS.get(access.action, access.action),
                    "kind": document.get_kind_display(),
                    "title": document.title,
                    "number": version.number,
                    "name": version.original_name,
                },
                "case": order_ids.get(access.request_id, ""),
                "origin": access.origin,
                "purpose": access.purpose,
            }
        )
    for event in case_reads:
        code = event.action.removeprefix("booking_request.")
        purpose = str(CASE_READ_PURPOSES.get(code) or code.replace("_", " "))
        rows.append(
            {
                "at": event.occurred_at,
                "who": _who(event.actor) if event.actor else _("System"),
                "what": _("Case opened (%(purpose)s)") % {"purpose": purpose},
                "case": order_ids.get(int(event.object_id), ""),
                "origin": (event.payload or {}).get("origin", ""),
                "purpose": purpose,
            }
        )
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows


@require_capability(Capability.BOOKING_VIEW)
def staff_case_access(request: HttpRequest, order_id: str) -> HttpResponse:
    case = panels.case_in_scope(request, order_id)
    rows = _access_rows(
        document_selectors.document_access_history(case=case).select_related("actor__organisation"),
        booking_selectors.booking_request_reads(cases=[case]),
        {case.pk: case.order_id},
    )
    return render(
        request,
        "web/staff/documents/access.html",
        {"case": case, "patient_id": case.patient_id, "rows": rows, "scope": "case"},
    )


@require_capability(Capability.BOOKING_VIEW)
def staff_patient_access(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Every read of one patient's cases and documents. The page names the patient by number
    and lists the cases' Order Ids: it shows no patient data, so it is not itself a read."""
    cases = list(
        booking_selectors.booking_requests_for(user=request.user)
        .filter(patient_id=patient_id)
        .select_related("patient", "insurer")
        .order_by("-created_at")
    )
    if not cases:
        raise Http404("No such patient")
    rows = _access_rows(
        document_selectors.document_access_history(patient=cases[0].patient).select_related(
            "actor__organisation"
        ),
        booking_selectors.booking_request_reads(cases=cases),
        {c.pk: c.order_id for c in cases},
    )
    return render(
        request,
        "web/staff/documents/access.html",
        {"cases": cases, "patient_id": patient_id, "rows": rows, "scope": "patient"},
    )
