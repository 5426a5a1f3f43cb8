"""The clinic's paperwork: what to retrieve before the appointment, acknowledging the GOP, the
signed forms (with the physician's attestation) and the invoice sent back.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from medworks.accounts.permissions import Capability, user_can
from medworks.billing.provider_invoices import LineIn, provider_invoice_record
from medworks.billing.selectors import quote_current
from medworks.bookings.models import BookingRequest
from medworks.core.errors import DomainError
from medworks.documents import gops as gop_services
from medworks.documents import selectors as document_selectors
from medworks.documents import services as document_services
from medworks.documents.models import CLINIC_PAPERWORK_STATUSES, DocumentKind, GopStatus

from .. import paperwork as panels
from ..access import actor_of, require_capability
from ..actions import run_action
from ..uploads import mark_skipped_uploads
from .forms import InvoiceUploadForm, SignedUploadForm


def clinic_panel_context(request: HttpRequest, case: BookingRequest) -> dict:
    """The clinic case page's paperwork panel (read by clinic.views._clinic_case_context).

    Shown once the case is booked at the clinic: the paperwork names the patient, whom the
    clinic sees only from then on (need to know), and stays for the signed forms and invoice.
    """
    if case.status not in CLINIC_PAPERWORK_STATUSES:
        return {"documents_panel": {"shown": False}}
    context = panels.panel_context(request, case, face="clinic")
    acts = user_can(request.user, Capability.CLINIC_AVAILABILITY)
    context.update(
        {
            "shown": True,
            "clinic_acts": acts,
            "to_acknowledge": [g for g in context["gops"] if g.status == GopStatus.ISSUED],
            "signed_form": SignedUploadForm(prefix="signed") if acts else None,
            "invoice_form": (
                InvoiceUploadForm(prefix="invoice", services=_invoice_services(case))
                if acts
                else None
            ),
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
        success=_("GOP version %(version)s acknowledged. MedWorks is told.")
        % {"version": gop.version},
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
            messages.success(
                request, _("%(name)s uploaded. MedWorks is told.") % {"name": upload.name}
            )
            return _clinic_back(request, case)
    return panels.form_page(
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
        heading=_("Upload signed documents"),
        submit=_("Upload signed documents"),
        extra=lambda data: {
            "signed_by": data["signed_by"],
            "signed_on": data["signed_on"],
            "attested": data["attested"],
        },
    )


def _invoice_services(case: BookingRequest):
    """The case's services with the clinic cost agreed on its quote (None without one)."""
    quote = quote_current(case=case)
    costs = {line.service_id: line.clinic_cost for line in quote.lines.all()} if quote else {}
    return [(service, costs.get(service.pk)) for service in case.services.order_by("name_en")]


@require_capability(Capability.CLINIC_AVAILABILITY)
def clinic_document_invoice(request: HttpRequest, order_id: str) -> HttpResponse:
    """The clinic invoices MedWorks for the case (SOP case 3): the invoice as data, an amount
    per service, with its file; MedWorks' finance reviews it against the agreed cost."""
    case = panels.case_in_scope(request, order_id)
    form = InvoiceUploadForm(
        request.POST or None,
        request.FILES or None,
        prefix="invoice",
        services=_invoice_services(case),
    )
    if request.method == "POST" and not form.is_valid():
        mark_skipped_uploads(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invoice = provider_invoice_record(
                provider=case.location.partner,
                number=data["number"],
                invoice_date=data["invoice_date"],
                due_date=data["due_date"],
                lines=[
                    LineIn(case=case, service=service, amount=data[key])
                    for key, service in form.service_keys
                ],
                tax_total=data["tax_total"],
                total=data["total"],
                file=data["file"],
                filename=data["file"].name,
                actor=actor_of(request),
            )
        except DomainError as exc:
            panels.put_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Invoice %(number)s received. MedWorks' finance reviews it and pays it by "
                    "its due date, %(due)s."
                )
                % {"number": invoice.number, "due": invoice.due_date.isoformat()},
            )
            return _clinic_back(request, case)
    return panels.form_page(
        request,
        case,
        form,
        face="clinic",
        heading=_("Send your invoice"),
        action=reverse("web:clinic_document_invoice", args=[case.order_id]),
        submit=_("Send the invoice"),
        status=400 if form.errors else 200,
    )
