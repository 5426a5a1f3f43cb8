"""Reads of documents and GOPs that pages, the API and the workflow share.

Listing documents shows kinds, titles, names and dates, not their content, so a list is not
logged; opening one is (services.document_open writes a DocumentAccess row).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils.translation import gettext as _

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings.models import BookingRequest
from medworks.core.errors import NotFound

from .models import (
    CLINIC_PAPERWORK_STATUSES,
    Document,
    DocumentAccess,
    DocumentKind,
    DocumentVersion,
    Gop,
    UploaderParty,
)


def documents_for_case(*, case: BookingRequest, user) -> list[Document]:
    """The case's documents this user may see, oldest first, each with its versions (newest
    first) prefetched, so `document.current` costs no query. Empty for a case the user may not
    see; an insurer does not see clinic invoices (models.HIDDEN_FROM_INSURER)."""
    versions = DocumentVersion.objects.select_related("uploaded_by").order_by("-number")
    return list(
        Document.objects.for_user(user)
        .filter(request=case)
        .prefetch_related(Prefetch("versions", queryset=versions))
        .order_by("created_at", "pk")
    )


def document_version_get(*, user, version_id: int) -> DocumentVersion:
    """One version of a document the user may see, with its document and case; NotFound else."""
    version = (
        DocumentVersion.objects.select_related("document__request")
        .filter(pk=version_id, document__in=Document.objects.for_user(user).values("pk"))
        .first()
    )
    if version is None:
        raise NotFound("document_not_found", _("No such document for you."))
    return version


def document_access_history(*, case=None, patient=None) -> QuerySet[DocumentAccess]:
    """Who read which document, newest first, for a case and/or a patient (all their cases).

    Staff only: the caller checks (BOOKING_VIEW). Both None gives every record.
    """
    rows = DocumentAccess.objects.select_related(
        "actor", "api_key", "version__document", "request"
    ).order_by("-at", "-pk")
    if case is not None:
        rows = rows.filter(request=case)
    if patient is not None:
        rows = rows.filter(patient=patient)
    return rows


def _is_clinic(user) -> bool:
    return user_can(user, Capability.CLINIC_PORTAL) and not user_can(user, Capability.BOOKING_VIEW)


def gops_for_case(*, case: BookingRequest, user) -> list[Gop]:
    """The case's GOP versions, newest first, with their services, provider and file; empty for
    a case the user may not see."""
    if not BookingRequest.objects.for_user(user).filter(pk=case.pk).exists():
        return []
    if _is_clinic(user) and case.status not in CLINIC_PAPERWORK_STATUSES:
        return []  # need to know: not before the appointment is booked with the clinic
    return list(
        case.gops.select_related("provider", "document", "supersedes")
        .prefetch_related("authorised_services")
        .order_by("-version")
    )


def gop_current(*, case: BookingRequest) -> Gop | None:
    """The version that stands: the newest not amended (it may be expired or cancelled)."""
    return case.gops.exclude(status="amended").order_by("-version").first()


def paperwork_complete(*, case: BookingRequest) -> bool:
    """Whether the case may go to billing as far as paperwork goes: none was required, or the
    clinic has uploaded a completed form with the physician's signature and its attestation."""
    if not case.paperwork_required:
        return True
    return DocumentVersion.objects.filter(
        document__request_id=case.pk,
        document__kind=DocumentKind.COMPLETED_FORM,
        uploaded_by_party=UploaderParty.CLINIC,
        attested=True,
    ).exists()


def case_for_documents(*, user, order_id: str) -> BookingRequest:
    """A case the user may see, by Order Id, for its documents and GOPs; NotFound otherwise.

    Not logged as a read of the case: the documents' own openings are (DocumentAccess).
    """
    case = (
        BookingRequest.objects.for_user(user)
        .select_related("location__partner", "patient", "insurer")
        .filter(order_id=order_id)
        .first()
    )
    if case is None:
        raise NotFound(
            "request_not_found",
            _("No booking request %(order)s for you.") % {"order": order_id},
        )
    return case


def paperwork_prefetch(*, cases, user) -> None:
    """Prefetch on each case the documents this user may see, with their versions newest first,
    as `case.documents.all()`, and its GOP versions newest first as `case.gops.all()`: three
    queries for any number of cases (the clinic home lists many)."""
    documents = Document.objects.for_user(user).prefetch_related(
        Prefetch("versions", queryset=DocumentVersion.objects.order_by("-number"))
    )
    prefetch_related_objects(
        list(cases),
        Prefetch("documents", queryset=documents.order_by("created_at", "pk")),
        Prefetch("gops", queryset=Gop.objects.order_by("-version")),
    )
