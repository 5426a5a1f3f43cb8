"""Paperwork in the insurer portal and the clinic portal (SOP case 1 steps 4-5).

The insurer uploads its paperwork: a GOP with its details (`gop_issue`), an insurer form, or
another paper (`document_upload`), and downloads its case's documents. The clinic retrieves
the paperwork before the appointment, acknowledges the GOP, and sends back the completed
documents signed off by the physician (with the signer, the date and an attestation) and its
invoice. Both see only their own cases: another organisation's case is a 404.

Forms post to their own routes; success goes back to the case page, a refusal re-renders the
form on its own page with the errors on the fields and the input kept (status 400).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.errors import DomainError
from medworks.documents import gops as gop_services
from medworks.documents import selectors as document_selectors
from medworks.documents import services as document_services
from medworks.documents.models import DocumentKind, GopStatus

from ..access import actor_of, require_capability
from ..uploads import mark_skipped_uploads
from . import documents_panels as panels
from ._actions import run_action
from .documents_forms import InsurerUploadForm, InvoiceUploadForm, SignedUploadForm

FORM_PAGE = "web/documents/form_page.html"
# A clinic sees a case's paperwork once the appointment is booked there.
CLINIC_PAPERWORK_STATES = frozenset(
    {
        BookingStatus.BOOKED,
        BookingStatus.COMPLETED,
        BookingStatus.NO_SHOW,
        BookingStatus.READY_FOR_BILLING,
        BookingStatus.CLOSED,
    }
)


def _page(request, case, form, *, face, heading, action, submit, intro="", status=200):
    home, label, case_route = {
        "portal": ("web:portal_home", "Booking requests", "web:portal_request"),
        "clinic": ("web:clinic_home", "Clinic portal", "web:clinic_request"),
    }[face]
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
            "back_url": reverse(case_route, args=[case.order_id]) + "#paperwork",
            "crumb_url": reverse(home),
            "crumb_label": label,
        },
        status=status,
    )


# --- Insurer portal ---------------------------------------------------------------------------


def portal_panel_context(request: HttpRequest, case: BookingRequest) -> dict:
    """The insurer case page's paperwork panel (read by bookings_portals._portal_case_context)."""
    context = panels.panel_context(request, case, face="portal")
    if user_can(request.user, Capability.BOOKING_SUBMIT):
        services = list(case.services.order_by("name_en"))
        context["upload_form"] = InsurerUploadForm(
            services=services, initial=_insurer_initial(case)
        )
    return {"documents_panel": context}


def _insurer_initial(case: BookingRequest) -> dict:
    return {
        "kind": DocumentKind.GOP,
        "insurer_reference": case.insurer_reference,
        "patient_name": case.patient.full_name,
        "patient_date_of_birth": case.patient.date_of_birth,
        "policy_number": case.policy_number,
        "authorised_services": [s.code for s in case.services.all()],
        "currency": "CAD",
    }


@require_capability(Capability.INSURER_PORTAL)
def portal_document_download(request: HttpRequest, order_id: str, version_id: int):
    return panels.download(request, panels.case_in_scope(request, order_id), version_id)


@require_capability(Capability.BOOKING_SUBMIT)
def portal_document_new(request: HttpRequest, order_id: str) -> HttpResponse:
    """Upload paperwork: a GOP (with its details) or an insurer form or another paper."""
    case = panels.case_logged(request, order_id, purpose="paperwork_uploaded")
    services = list(case.services.order_by("name_en"))
    if request.method != "POST":
        form = InsurerUploadForm(services=services, initial=_insurer_initial(case))
    else:
        form = InsurerUploadForm(request.POST, request.FILES, services=services)
        if not form.is_valid():
            mark_skipped_uploads(request, form)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if form.is_gop:
                    gop_services.gop_issue(
                        case=case,
                        data=form.gop_data(),
                        actor=actor_of(request),
                        file=upload,
                        filename=upload.name,
                    )
                else:
                    document_services.document_upload(
                        case=case,
                        kind=form.cleaned_data["kind"],
                        file=upload,
                        filename=upload.name,
                        actor=actor_of(request),
                        title=form.cleaned_data["title"],
                    )
            except DomainError as exc:
                panels.put_errors(form, exc)
            else:
                messages.success(request, f"{upload.name} sent to MedWorks.")
                return redirect(reverse("web:portal_request", args=[order_id]) + "#paperwork")
    return _page(
        request,
        case,
        form,
        face="portal",
        heading="Upload paperwork",
        intro="For a GOP, fill in its details as the guarantee reads; for other papers they "
        "are not needed.",
        action=reverse("web:portal_document_new", args=[case.order_id]),
        submit="Upload",
        status=400 if form.errors else 200,
    )


# --- Clinic portal ----------------------------------------------------------------------------


def clinic_panel_context(request: HttpRequest, case: BookingRequest) -> dict:
    """The clinic case page's paperwork panel (read by bookings_portals._clinic_case_context).

    Shown once the case is booked at the clinic: the paperwork names the patient, whom the
    clinic sees only from then on (need to know), and stays for the signed forms and invoice.
    """
    if case.status not in CLINIC_PAPERWORK_STATES:
        return {"documents_panel": {"shown": False}}
    context = panels.panel_context(request, case, face="clinic")
    acts = user_can(request.user, Capability.CLINIC_AVAILABILITY)
    context.update(
        {
            "shown": True,
            "clinic_acts": acts,
            "to_acknowledge": [g for g in context["gops"] if g.status == GopStatus.ISSUED],
            "signed_form": SignedUploadForm(prefix="signed") if acts else None,
            "invoice_form": InvoiceUploadForm(prefix="invoice") if acts else None,
        }
    )
    return {"documents_panel": context}


def clinic_home_paperwork(appointments, *, user) -> None:
    """Put each upcoming appointment's paperwork to retrieve on it (`appointment.paperwork`:
    (document, current version, download url)) and the GOPs waiting for acknowledgement.

    Prefetched for all appointments at once (`documents.selectors.paperwork_prefetch`): no
    query per appointment.
    """
    document_selectors.paperwork_prefetch(cases=[a.request for a in appointments], user=user)
    for appointment in appointments:
        case = appointment.request
        rows = panels.document_rows(case.documents.all())
        appointment.paperwork = [
            (
                row.document,
                row.current,
                reverse("web:clinic_document_download", args=[case.order_id, row.current.pk]),
            )
            for row in rows
            if row.current is not None and row.document.kind in panels.TO_RETRIEVE
        ]
        appointment.gops_to_acknowledge = [
            g for g in case.gops.all() if g.status == GopStatus.ISSUED
        ]


@require_capability(Capability.CLINIC_PORTAL)
def clinic_document_download(request: HttpRequest, order_id: str, version_id: int):
    return panels.download(request, panels.case_in_scope(request, order_id), version_id)


def _clinic_back(request: HttpRequest, case: BookingRequest) -> HttpResponse:
    if request.POST.get("next") == "home":
        return redirect("web:clinic_home")
    return redirect(reverse("web:clinic_request", args=[case.order_id]) + "#paperwork")


@require_POST
@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_gop_acknowledge(request: HttpRequest, order_id: str, gop_id: int) -> HttpResponse:
    case = panels.case_in_scope(request, order_id)
    gop = panels.gop_in_case(request, case, gop_id)
    run_action(
        request,
        lambda: gop_services.gop_acknowledge(gop=gop, actor=actor_of(request)),
        success=f"GOP version {gop.version} acknowledged. MedWorks is told.",
    )
    return _clinic_back(request, case)


def _clinic_upload(request, order_id, *, form_class, prefix, kind, heading, submit, extra):
    case = panels.case_in_scope(request, order_id)
    form = form_class(request.POST or None, request.FILES or None, prefix=prefix)
    if request.method == "POST" and not form.is_valid():
        mark_skipped_uploads(request, form)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            document_services.document_upload(
                case=case,
                kind=kind,
                file=upload,
                filename=upload.name,
                actor=actor_of(request),
                title=form.cleaned_data["title"],
                **extra(form.cleaned_data),
            )
        except DomainError as exc:
            panels.put_errors(form, exc)
        else:
            messages.success(request, f"{upload.name} uploaded. MedWorks is told.")
            return _clinic_back(request, case)
    return _page(
        request,
        case,
        form,
        face="clinic",
        heading=heading,
        action=reverse(f"web:clinic_document_{prefix}", args=[case.order_id]),
        submit=submit,
        status=400 if form.errors else 200,
    )


@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_document_signed(request: HttpRequest, order_id: str) -> HttpResponse:
    """The completed documents, signed off by the physician (SOP case 1 step 5)."""
    return _clinic_upload(
        request,
        order_id,
        form_class=SignedUploadForm,
        prefix="signed",
        kind=DocumentKind.COMPLETED_FORM,
        heading="Upload signed documents",
        submit="Upload signed documents",
        extra=lambda data: {
            "signed_by": data["signed_by"],
            "signed_on": data["signed_on"],
            "attested": data["attested"],
        },
    )


@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_document_invoice(request: HttpRequest, order_id: str) -> HttpResponse:
    return _clinic_upload(
        request,
        order_id,
        form_class=InvoiceUploadForm,
        prefix="invoice",
        kind=DocumentKind.CLINIC_INVOICE,
        heading="Upload your invoice",
        submit="Upload invoice",
        extra=lambda data: {},
    )
