"""The insurer's paperwork: its case's documents panel, downloads, uploading a GOP or forms."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings.models import BookingRequest
from medworks.core.errors import DomainError
from medworks.documents import gops as gop_services
from medworks.documents import services as document_services
from medworks.documents.models import DocumentKind

from .. import paperwork as panels
from ..access import actor_of, require_capability
from ..uploads import mark_skipped_uploads
from .forms import InsurerUploadForm


def portal_panel_context(request: HttpRequest, case: BookingRequest) -> dict:
    """The insurer case page's paperwork panel (read by insurer.views._portal_case_context)."""
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
                messages.success(request, _("%(name)s sent to MedWorks.") % {"name": upload.name})
                return redirect(reverse("web:portal_request", args=[order_id]) + "#paperwork")
    return panels.form_page(
        request,
        case,
        form,
        face="portal",
        heading=_("Upload paperwork"),
        intro=_(
            "For a GOP, fill in its details as the guarantee reads; for other papers they "
            "are not needed."
        ),
        action=reverse("web:portal_document_new", args=[case.order_id]),
        submit=_("Upload"),
        status=400 if form.errors else 200,
    )
