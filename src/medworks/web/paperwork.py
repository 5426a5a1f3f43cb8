"""What the paperwork pages of every audience share: the case and version loaded in scope, a
download, refusals on the form, the documents panel's rows, the upload form page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from medworks.bookings import selectors as booking_selectors
from medworks.bookings.models import BookingRequest
from medworks.core.errors import DomainError, NotFound
from medworks.documents import selectors as document_selectors
from medworks.documents import services as document_services
from medworks.documents.models import DocumentKind, Gop, GopStatus
from medworks.documents.workflow import GOP_WORKFLOW, STATUS_STEPS

from .access import actor_of
from .actions import case_or_404, origin_of

# A GOP in one of these is issued: the next one is an amendment (the domain decides again).
GOP_STANDING = frozenset({GopStatus.ISSUED, GopStatus.ACKNOWLEDGED, GopStatus.SERVICE_RENDERED})


_STATUS_STEP_NAMES = frozenset(STATUS_STEPS.values())


# Paperwork the clinic retrieves before the appointment (the rest is what it sends back).
TO_RETRIEVE = frozenset({DocumentKind.GOP, DocumentKind.INSURER_FORM, DocumentKind.OTHER})


def case_in_scope(request: HttpRequest, order_id: str) -> BookingRequest:
    """The case, if this user may see it; 404 otherwise. Not a read of patient data, so the
    case itself is not logged here: what the page then shows or opens is."""
    case = (
        booking_selectors.booking_requests_for(user=request.user)
        .select_related("location__partner", "insurer")
        .filter(order_id=order_id)
        .first()
    )
    if case is None:
        raise Http404("No such booking request")
    return case


def case_logged(request: HttpRequest, order_id: str, purpose: str = "worked") -> BookingRequest:
    """The case for a page that shows patient data (a GOP form prefilled with the patient's
    name and date of birth): its reading is logged like the case page's."""
    return case_or_404(request, order_id, purpose=purpose)


def version_in_case(request: HttpRequest, case: BookingRequest, version_id: int):
    """A version of one of this case's documents that the user may see; 404 otherwise."""
    try:
        version = document_selectors.document_version_get(user=request.user, version_id=version_id)
    except NotFound:
        raise Http404("No such document") from None
    if version.document.request_id != case.pk:
        raise Http404("No such document")
    return version


def gop_in_case(request: HttpRequest, case: BookingRequest, gop_id: int) -> Gop:
    gop = next(
        (
            g
            for g in document_selectors.gops_for_case(case=case, user=request.user)
            if g.pk == gop_id
        ),
        None,
    )
    if gop is None:
        raise Http404("No such GOP")
    return gop


def download(request: HttpRequest, case: BookingRequest, version_id: int) -> FileResponse:
    """The file, as an attachment: never rendered inline, never cached, never sniffed."""
    version = version_in_case(request, case, version_id)
    try:
        content, content_type, filename = document_services.document_open(
            version=version, actor=actor_of(request), origin=origin_of(request)
        )
    except NotFound:
        raise Http404("No such document") from None
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


# Where a refusal about the uploaded file lands when the domain names no form field.
_FILE_KEYS = {"file", "filename", "content", "upload", "name", "size"}


def put_errors(form, error: DomainError) -> None:
    """A refusal on the form: per field where it names one ("file" for the file's problems),
    else at the top. The input is kept (the form is bound); only the file must be chosen again.
    """
    placed = False
    for key, problems in error.fields.items():
        if key in form.fields:
            target = key
        elif key in _FILE_KEYS and "file" in form.fields:
            target = "file"
        else:
            target = None
        for problem in problems:
            form.add_error(target, problem)
            placed = True
    if not placed:
        form.add_error(None, error.message)


@dataclass
class DocumentRow:
    document: object
    current: object
    older: list = field(default_factory=list)


def document_rows(documents) -> list[DocumentRow]:
    """Each document with its current version and the older ones (versions are prefetched)."""
    rows = []
    for document in documents:
        versions = sorted(document.versions.all(), key=lambda v: v.number, reverse=True)
        rows.append(DocumentRow(document, versions[0] if versions else None, versions[1:]))
    return rows


def _download_url(route: str, case: BookingRequest):
    return lambda version: reverse(f"web:{route}", args=[case.order_id, version.pk])


def panel_context(request: HttpRequest, case: BookingRequest, *, face: str) -> dict:
    """The documents panel of a case page; `face` is staff, portal or clinic (download route)."""
    documents = document_selectors.documents_for_case(case=case, user=request.user)
    rows = document_rows(documents)
    link = _download_url(f"{face}_document_download", case)
    for row in rows:
        row.current_url = link(row.current) if row.current else ""
        row.older_urls = [(v, link(v)) for v in row.older]
    gops = document_selectors.gops_for_case(case=case, user=request.user)
    actor = actor_of(request)
    for gop in gops:
        gop.request = case  # loaded already: the workflow reads the parties from it
        allowed = GOP_WORKFLOW.allowed(gop, actor)
        gop.can_amend = any(t.name == "supersede" for t in allowed)
        # What staff may record of it by hand, as (status, label) for the panel's select.
        gop.moves = [
            (t.target, GopStatus(t.target).label) for t in allowed if t.name in _STATUS_STEP_NAMES
        ]
    return {
        "rows": rows,
        "gops": gops,
        # A GOP is issued once; after that it is amended (a requested one is filled in).
        "can_issue": not any(g.status in GOP_STANDING for g in gops),
        "paperwork_required": case.paperwork_required,
        "paperwork_complete": (
            document_selectors.paperwork_complete(case=case) if case.paperwork_required else None
        ),
    }


FORM_PAGE = "web/paperwork/form_page.html"


def form_page(request, case, form, *, face, heading, action, submit, intro="", status=200):
    home, label, case_route = {
        "portal": ("web:portal_home", _("Booking requests"), "web:portal_request"),
        "clinic": ("web:clinic_home", _("Clinic portal"), "web:clinic_request"),
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
