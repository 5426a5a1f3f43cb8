"""API v1: a case's documents and its guarantee of payment (GOP). Handlers parse, call, render.

Insurers' systems (API keys) upload paperwork and GOPs to their own cases and read what they
may (never a clinic's invoice); staff sessions read and attach anything; a clinic user's
session acts on its own cases. Another insurer's Order Id is 404. Downloading a document
records who read it (origin "api"); listing does not show content, so it is not logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field, field_validator

from medworks.accounts.permissions import Capability, user_can
from medworks.core.errors import NotFound, PermissionDenied
from medworks.documents import selectors
from medworks.documents.files import TYPES
from medworks.documents.gops import gop_amend, gop_issue
from medworks.documents.models import (
    STAFF_ONLY_KINDS,
    Document,
    DocumentKind,
    DocumentVersion,
    Gop,
)
from medworks.documents.services import document_open, document_upload

from .auth import actor_of
from .bookings import ERRORS, WRITE_ERRORS
from .errors import responses
from .parser import no_booleans

router = Router(tags=["documents and GOPs"])

# A download's bytes are the document's own type (documents.files.TYPES), declared as a file.
FILE_CONTENT = {
    file_type.content_type: {"schema": {"type": "string", "format": "binary"}}
    for file_type in TYPES
}

# How the API answers the documents domain's refusals (merged into v1.STATUS_BY_CODE).
STATUS_BY_CODE = {
    "file_empty": 422,
    "file_type_refused": 422,
    "file_truncated": 422,
    "file_not_binary": 422,
    "file_too_large": 413,
    "document_kind_invalid": 422,
    "document_kind_mismatch": 422,
    "document_signature_missing": 422,
    "document_signature_invalid": 422,
    "gop_invalid": 422,
    "document_duplicate": 409,
    "document_case_closed": 409,
    "gop_exists": 409,
    "gop_status_illegal": 409,
    "document_unreadable": 500,
}


# --- schemas ----------------------------------------------------------------------------------


# A record id the database can hold: a longer number is a 422, never an overflow (a 500).
RECORD_ID_MAX = 2**63 - 1
RecordId = Annotated[int, Field(ge=1, le=RECORD_ID_MAX)]
# The kinds a document can be uploaded as (the desk's own, such as the order to finance, never
# are); which of them a caller may upload is the domain's answer (403 otherwise).
UploadKind = Literal[tuple(sorted(set(DocumentKind.values) - STAFF_ONLY_KINDS))]


class VersionLinksOut(Schema):
    download: str


class VersionOut(Schema):
    id: int
    document_id: int
    number: int = Field(description="1 for the first upload, then 2, 3 ...")
    original_name: str = Field(description="The cleaned file name, with the detected type's")
    content_type: str = Field(examples=["application/pdf"])
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str = Field(description="staff, insurer or clinic")
    signed_by: str
    signed_on: dt.date | None
    attested: bool
    links: VersionLinksOut


class DocumentOut(Schema):
    id: int
    kind: str = Field(examples=["gop"])
    kind_label: str
    title: str
    created_at: dt.datetime
    current: VersionOut
    versions: list[VersionOut] = Field(description="Newest first; every version is kept")


class DocumentListOut(Schema):
    order_id: str
    documents: list[DocumentOut]


class UploadedOut(VersionOut):
    kind: str
    title: str


EXAMPLE_GOP = {
    "authorised_services": ["XRAY"],
    "valid_from": "2026-12-01",
    "valid_to": "2026-12-31",
    "max_amount": "450.00",
    "copay_exclusions": "No co-pay.",
    "billing_instructions": "Invoice MedWorks quoting our claim number.",
}


class GopIn(Schema):
    """The guarantee's terms. Reference, patient, date of birth, policy number and provider
    default to the case's; an amendment sends only what changes."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_GOP]})

    insurer_reference: str | None = Field(None, max_length=100)
    patient_name: str | None = Field(None, max_length=200)
    patient_date_of_birth: dt.date | None = None
    policy_number: str | None = Field(None, max_length=100)
    provider: RecordId | None = Field(None, description="The clinic location's id (the case's)")
    authorised_services: list[str | int] | None = Field(
        None, description="Catalogue codes (XRAY) or ids: services of the case", max_length=10
    )
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    max_amount: str | None = Field(
        None,
        description='Dollars and cents as a string ("450.00"), ASCII digits, at most two '
        "decimals, no exponent: money is never a float",
        max_length=20,
    )
    currency: str | None = Field(None, description="CAD", max_length=3)
    copay_exclusions: str | None = Field(None, max_length=2000)
    billing_instructions: str | None = Field(None, max_length=2000)

    # JSON's true is the int 1 to Python, and names no record.
    _no_booleans = field_validator("provider", "authorised_services", mode="before")(no_booleans)


class GopOut(Schema):
    id: int
    version: int
    status: str = Field(examples=["issued"])
    status_label: str
    supersedes_id: int | None
    insurer_reference: str
    policy_number: str
    provider: str | None = Field(description="The clinic location's name")
    authorised_services: list[str]
    valid_from: dt.date | None
    valid_to: dt.date | None
    max_amount: str | None
    currency: str
    copay_exclusions: str
    billing_instructions: str
    document_id: int | None
    created_at: dt.datetime


class NonEmptyFile(UploadedFile):
    """An uploaded file, documented as one that has bytes: an empty file is refused (422)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):
        return {"type": "string", "format": "binary", "minLength": 1}


# --- rendering --------------------------------------------------------------------------------


def _version(version: DocumentVersion) -> dict:
    return {
        "id": version.pk,
        "document_id": version.document_id,
        "number": version.number,
        "original_name": version.original_name,
        "content_type": version.content_type,
        "size": version.size,
        "sha256": version.sha256,
        "uploaded_at": version.uploaded_at,
        "uploaded_by": version.uploaded_by_party,
        "signed_by": version.signed_by,
        "signed_on": version.signed_on,
        "attested": version.attested,
        "links": {"download": reverse("api-v1:document_download", args=[version.pk])},
    }


def _document(document: Document) -> dict:
    versions = sorted(document.versions.all(), key=lambda v: -v.number)
    return {
        "id": document.pk,
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "title": document.title,
        "created_at": document.created_at,
        "current": _version(versions[0]),
        "versions": [_version(v) for v in versions],
    }


def _gop(gop: Gop) -> dict:
    return {
        "id": gop.pk,
        "version": gop.version,
        "status": gop.status,
        "status_label": gop.get_status_display(),
        "supersedes_id": gop.supersedes_id,
        "insurer_reference": gop.insurer_reference,
        "policy_number": gop.policy_number,
        "provider": gop.provider.name if gop.provider_id else None,
        "authorised_services": sorted(s.code for s in gop.authorised_services.all()),
        "valid_from": gop.valid_from,
        "valid_to": gop.valid_to,
        "max_amount": None if gop.max_amount is None else str(gop.max_amount),
        "currency": gop.currency,
        "copay_exclusions": gop.copay_exclusions,
        "billing_instructions": gop.billing_instructions,
        "document_id": gop.document_id,
        "created_at": gop.created_at,
    }


def _require_party(request) -> None:
    """Staff, insurers and clinics have cases; anyone else is refused outright."""
    if not any(
        user_can(request.auth, c)
        for c in (Capability.BOOKING_VIEW, Capability.INSURER_PORTAL, Capability.CLINIC_PORTAL)
    ):
        raise PermissionDenied("permission_denied", _("Your role does not allow this."))


def _case(request, order_id: str):
    _require_party(request)
    return selectors.case_for_documents(user=request.auth, order_id=order_id)


# --- endpoints --------------------------------------------------------------------------------


@router.post(
    "/booking-requests/{order_id}/documents",
    response={201: UploadedOut, **WRITE_ERRORS},
    summary="Upload a document to a case (multipart), or a new version of one",
    description=(
        "Form fields: `kind` (insurers: gop, insurer_form, other), `title`, `file`; "
        "`document_id` to upload a new version of that document (nothing is ever "
        "overwritten). The type is read from the content: PDF, PNG, JPEG, TIFF or DOCX, at "
        "most 25 MB by default. An empty, truncated or disguised file is 422 with "
        "`fields.file`; too large is 413; the same bytes as the current version is 409."
    ),
)
def document_create(
    request,
    order_id: str,
    file: File[NonEmptyFile],
    kind: Form[UploadKind],
    title: Form[str] = "",
    # Optional, and not nullable: multipart has no null, a new document leaves the field out.
    document_id: int = Form(None, ge=1, le=RECORD_ID_MAX),
    signed_by: Form[str] = "",
    signed_on: Form[dt.date] = None,
    attested: Form[bool] = False,
):
    case = _case(request, order_id)
    document = None
    if document_id is not None:
        document = Document.objects.filter(pk=document_id, request=case).first()
        if document is None:
            raise NotFound(
                "document_not_found",
                _("No document %(document)s on %(order)s.")
                % {"document": document_id, "order": order_id},
            )
    version = document_upload(
        case=case,
        kind=kind,
        file=file,
        filename=file.name or "",
        actor=actor_of(request),
        title=title,
        signed_by=signed_by,
        signed_on=signed_on,
        attested=attested,
        document=document,
    )
    return Status(
        201, {**_version(version), "kind": version.document.kind, "title": version.document.title}
    )


@router.get(
    "/booking-requests/{order_id}/documents",
    response={200: DocumentListOut, **ERRORS},
    summary="The case's documents you may see, each with every version",
)
def document_list(request, order_id: str):
    case = _case(request, order_id)
    documents = [d for d in selectors.documents_for_case(case=case, user=request.auth) if d.current]
    return {"order_id": case.order_id, "documents": [_document(d) for d in documents]}


@router.get(
    "/documents/{version_id}/download",
    # None: no JSON body to document; openapi_extra says the 200 is a file, of which types.
    response={200: None, **responses(401, 403, 404, 422, 500)},
    url_name="document_download",
    summary="Download one version of a document (its bytes); the read is recorded",
    openapi_extra={
        "responses": {
            200: {"description": "The version's bytes, as uploaded", "content": FILE_CONTENT}
        }
    },
)
def document_download(request, version_id: RecordId):
    _require_party(request)
    version = selectors.document_version_get(user=request.auth, version_id=version_id)
    content, content_type, filename = document_open(
        version=version, actor=actor_of(request), origin="api", action="downloaded"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"  # patient papers stay out of caches
    return response


@router.post(
    "/booking-requests/{order_id}/gops",
    response={201: GopOut, **WRITE_ERRORS},
    summary="Issue the case's guarantee of payment (JSON)",
    description=(
        "Validity dates, the maximum amount (a string, CAD) and the authorised services "
        "(services of the case) are required. A case whose GOP is issued already is 409: "
        "amend it instead."
    ),
)
def gop_create(request, order_id: str, payload: GopIn):
    case = _case(request, order_id)
    gop = gop_issue(case=case, data=payload.model_dump(exclude_unset=True), actor=actor_of(request))
    return Status(201, _gop(gop))


@router.get(
    "/booking-requests/{order_id}/gops",
    response={200: list[GopOut], **ERRORS},
    summary="The case's GOP versions, newest first",
)
def gop_list(request, order_id: str):
    case = _case(request, order_id)
    return [_gop(g) for g in selectors.gops_for_case(case=case, user=request.auth)]


@router.post(
    "/booking-requests/{order_id}/gops/{gop_id}/amend",
    response={201: GopOut, **WRITE_ERRORS},
    summary="Amend a GOP: a new version superseding it (the old one is kept, amended)",
)
def gop_amend_endpoint(request, order_id: str, gop_id: RecordId, payload: GopIn):
    case = _case(request, order_id)
    gop = Gop.objects.filter(pk=gop_id, request=case).first()
    if gop is None:
        raise NotFound(
            "gop_not_found", _("No GOP %(gop)s on %(order)s.") % {"gop": gop_id, "order": order_id}
        )
    new = gop_amend(gop=gop, data=payload.model_dump(exclude_unset=True), actor=actor_of(request))
    return Status(201, _gop(new))
