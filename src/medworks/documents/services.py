"""Every write about a case's documents (GOPs: gops.py). Keyword-only, one transaction each.

Who may upload what to a case (the party is the actor's on the case, `_party`):

| party                              | kinds                                          |
|------------------------------------|------------------------------------------------|
| the case's insurer (user or key)   | gop, insurer_form, other                       |
| the clinic of the case's location  | completed_form, results, clinic_invoice, other |
| staff with BOOKING_WORK            | any but the desk's own (`order`)               |

The desk's own kinds (models.STAFF_ONLY_KINDS: the order sent to finance) are written only by
the use case that makes them, through `document_store_generated`, so a stored order is always
the one that was sent.

A case the user cannot see is NotFound (its existence is not disclosed); a kind the party may
not upload is PermissionDenied. Refusals are DomainErrors with stable codes and field errors
(see README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus
from medworks.bookings.workflow import party_of
from medworks.core.actor import Actor, Party
from medworks.core.audit import audit_record
from medworks.core.cards import refuse_card_numbers
from medworks.core.errors import DomainError, NotFound, PermissionDenied

from . import emails
from .files import clean_filename, detect
from .models import (
    STAFF_ONLY_KINDS,
    Document,
    DocumentAccess,
    DocumentAccessAction,
    DocumentKind,
    DocumentVersion,
    UploaderParty,
)
from .storage import DocumentDecryptionError

logger = logging.getLogger(__name__)

K = DocumentKind
UPLOAD_KINDS: dict[UploaderParty, frozenset[str]] = {
    UploaderParty.STAFF: frozenset(K.values) - STAFF_ONLY_KINDS,
    UploaderParty.INSURER: frozenset({K.GOP, K.INSURER_FORM, K.OTHER}),
    UploaderParty.CLINIC: frozenset({K.COMPLETED_FORM, K.RESULTS, K.CLINIC_INVOICE, K.OTHER}),
}
# Insurers and clinics stop adding papers once a case is over; staff may still attach (a late
# invoice, a form that came by email).
_CLOSED = frozenset({BookingStatus.CANCELLED, BookingStatus.CLOSED})
_CASE_CLOSED = {
    BookingStatus.CANCELLED: gettext_lazy(
        "The case is cancelled: documents can no longer be added."
    ),
    BookingStatus.CLOSED: gettext_lazy("The case is closed: documents can no longer be added."),
}
# One sentence per kind (the English keeps the kind's label in lower case, as it always said).
_UPLOAD_FORBIDDEN = {
    K.GOP: gettext_lazy("You may not upload a guarantee of payment (gop) to this case."),
    K.INSURER_FORM: gettext_lazy("You may not upload a insurer form to this case."),
    K.COMPLETED_FORM: gettext_lazy("You may not upload a completed, signed form to this case."),
    K.RESULTS: gettext_lazy("You may not upload a results to this case."),
    K.CLINIC_INVOICE: gettext_lazy("You may not upload a clinic invoice to this case."),
    K.OTHER: gettext_lazy("You may not upload a other to this case."),
    K.ORDER: gettext_lazy(
        "An order sent to finance is not uploaded: it is stored when the order is sent."
    ),
}
_DOCUMENT_IS = {
    K.GOP: gettext_lazy("This document is a guarantee of payment (gop)."),
    K.INSURER_FORM: gettext_lazy("This document is a insurer form."),
    K.COMPLETED_FORM: gettext_lazy("This document is a completed, signed form."),
    K.RESULTS: gettext_lazy("This document is a results."),
    K.CLINIC_INVOICE: gettext_lazy("This document is a clinic invoice."),
    K.OTHER: gettext_lazy("This document is a other."),
    K.ORDER: gettext_lazy("This document is an order sent to finance."),
}
_UPLOADERS = frozenset({Party.STAFF, Party.INSURER, Party.CLINIC})


def document_storage():
    return storages["documents"]


# --- who acts ---------------------------------------------------------------------------------


def _visible_case(case: BookingRequest, actor: Actor) -> BookingRequest:
    found = (
        BookingRequest.objects.for_user(actor.principal)
        .select_related("location__partner", "patient", "insurer")
        .filter(pk=case.pk)
        .first()
    )
    if found is None:
        raise NotFound(
            "request_not_found",
            _("No booking request %(order)s for you.") % {"order": case.order_id},
        )
    return found


def _party(actor: Actor, case: BookingRequest) -> UploaderParty | None:
    """The side the actor uploads as: its party on the case (bookings.workflow.party_of)."""
    party = party_of(actor, case)
    return UploaderParty(party.value) if party in _UPLOADERS else None


def clinic_folder(case: BookingRequest) -> str:
    """The case's clinic folder in storage: the partner's name as a slug, with its id so two
    partners whose names slugify alike never share a folder; "unassigned" before sourcing."""
    if not case.location_id:
        return "unassigned"
    partner = case.location.partner
    return f"{slugify(partner.name)[:50] or 'clinic'}-{partner.pk}"


# --- uploads ----------------------------------------------------------------------------------


def _read_upload(file, max_bytes: int) -> bytes:
    """The file's bytes, refusing one over the limit without reading more than limit + 1."""
    message = _("The file is larger than %(size)s MB.") % {"size": max_bytes // (1024 * 1024) or 1}
    too_big = DomainError("file_too_large", message, fields={"file": [message]})
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise too_big
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(max_bytes + 1)
    if isinstance(data, str):
        raise DomainError(
            "file_not_binary",
            _("Send the file's bytes."),
            fields={"file": [_("Not a binary file.")]},
        )
    if len(data) > max_bytes:
        raise too_big
    return data


def _appointment_day(case) -> dt.date | None:
    """The day of the case's appointment on the clinic's wall clock (the latest that stands or
    took place), or None before one is booked."""
    from medworks.bookings.models import AppointmentStatus
    from medworks.notifications.formatting import zone_for

    appointment = (
        case.appointments.exclude(
            status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED]
        )
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )
    if appointment is None:
        return None
    return timezone.localtime(appointment.starts_at, zone_for(appointment.location)).date()


def _signature_errors(
    kind: str,
    signed_by: str,
    signed_on: dt.date | None,
    attested: bool,
    *,
    appointment_day: dt.date | None = None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if signed_on is not None and signed_on > timezone.localdate():
        errors["signed_on"] = [_("The signing date cannot be in the future.")]
    elif signed_on is not None and appointment_day is not None and signed_on < appointment_day:
        # Forms signed by the physician who saw the patient cannot predate the visit.
        errors["signed_on"] = [
            _("The forms cannot be signed before the appointment (%(day)s).")
            % {"day": date_format(appointment_day, "DATE_FORMAT")}
        ]
    if kind != K.COMPLETED_FORM:
        return errors
    if not signed_by:
        errors["signed_by"] = [_("Name the physician who signed the forms.")]
    if signed_on is None:
        errors.setdefault("signed_on", [_("Give the date the forms were signed.")])
    if not attested:
        errors["attested"] = [_("Confirm that these are the forms the physician signed.")]
    return errors


def document_upload(
    *,
    case: BookingRequest,
    kind: str,
    file,
    filename: str,
    actor: Actor,
    title: str = "",
    signed_by: str = "",
    signed_on: dt.date | None = None,
    attested: bool = False,
    document: Document | None = None,
) -> DocumentVersion:
    """Store a new document of `case`, or (document=...) a new version of one. Never overwrites.

    `file` is an UploadedFile or any binary file object. The type is decided from the content;
    the stored name is `<clinic>/<order id>/<kind>/<version uuid>` (no patient name in a path).
    Uploading the very bytes of the document's current version again is refused
    (`document_duplicate`): a double submit must not make a version 2 nobody meant.
    """
    return _upload(
        case=case,
        kind=kind,
        file=file,
        filename=filename,
        actor=actor,
        title=title,
        signed_by=signed_by,
        signed_on=signed_on,
        attested=attested,
        document=document,
        notify=True,
    )


def document_store_generated(
    *,
    case: BookingRequest,
    kind: str,
    data: bytes,
    filename: str,
    actor: Actor,
    title: str = "",
    document: Document | None = None,
) -> DocumentVersion:
    """Store a paper the desk made itself (the order PDF of billing.orders) on `case`, or as a
    new version of `document`: the same checks, storage, encryption, event and audit as an
    upload, and the desk's own kinds (models.STAFF_ONLY_KINDS) allowed, for staff only. No
    email to the clinic. Call inside the caller's transaction."""
    return _upload(
        case=case,
        kind=kind,
        file=ContentFile(data),
        filename=filename,
        actor=actor,
        title=title,
        signed_by="",
        signed_on=None,
        attested=False,
        document=document,
        notify=False,
        desk=True,
    )


def _upload(
    *,
    case,
    kind,
    file,
    filename,
    actor: Actor,
    title,
    signed_by,
    signed_on,
    attested,
    document,
    notify,
    desk: bool = False,
) -> DocumentVersion:
    # What the uploader typed: a title, the physician's name, the file's name (RULES.md, cards).
    refuse_card_numbers({"title": title, "signed_by": signed_by, "file": filename})
    if kind not in K.values:
        raise DomainError(
            "document_kind_invalid",
            _("Choose what kind of document this is."),
            fields={"kind": [_("One of: %(choices)s.") % {"choices": ", ".join(K.values)}]},
        )
    case = _visible_case(case, actor)
    party = _party(actor, case)
    desk_kinds = STAFF_ONLY_KINDS if desk and party == UploaderParty.STAFF else frozenset()
    if party is None or kind not in UPLOAD_KINDS[party] | desk_kinds:
        raise PermissionDenied(
            "document_kind_forbidden",
            str(_UPLOAD_FORBIDDEN[kind]),
            fields={"kind": [_("Not a kind you may upload.")]},
        )
    if party != UploaderParty.STAFF and case.status in _CLOSED:
        raise DomainError("document_case_closed", str(_CASE_CLOSED[case.status]))
    if document is not None:
        if document.request_id != case.pk:
            raise NotFound("document_not_found", _("No such document on this case."))
        if document.kind != kind:
            raise DomainError(
                "document_kind_mismatch",
                _("A new version keeps its document's kind."),
                fields={"kind": [str(_DOCUMENT_IS[document.kind])]},
            )
    signed_by = (signed_by or "").strip()[:200]
    errors = _signature_errors(
        kind,
        signed_by,
        signed_on,
        attested,
        appointment_day=_appointment_day(case) if kind == K.COMPLETED_FORM else None,
    )
    if errors:
        raise DomainError(
            "document_signature_missing"
            if kind == K.COMPLETED_FORM
            else "document_signature_invalid",
            _("Say who signed the forms, when, and confirm them."),
            fields=errors,
        )
    data = _read_upload(file, settings.MEDWORKS_DOCUMENT_MAX_BYTES)
    file_type = detect(data, filename=filename)
    original_name = clean_filename(filename, file_type)
    digest = hashlib.sha256(data).hexdigest()
    version_uuid = uuid.uuid4()
    storage = document_storage()
    stored_name = None
    try:
        with transaction.atomic():
            case = _lock(case)
            _refuse_duplicate(case=case, kind=kind, digest=digest, document=document)
            user = actor.user
            if document is None:
                document = Document.objects.create(
                    request=case,
                    kind=kind,
                    title=(title or "").strip()[:200] or str(K(kind).label),
                    created_by=user,
                )
            number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            name = f"{clinic_folder(case)}/{case.order_id}/{kind}/{version_uuid}"
            stored_name = storage.save(name, ContentFile(data))
            version = DocumentVersion.objects.create(
                document=document,
                number=number,
                uuid=version_uuid,
                original_name=original_name,
                content_type=file_type.content_type,
                size=len(data),
                sha256=digest,
                storage_name=stored_name,
                uploaded_by=user,
                uploaded_by_party=party,
                api_key=actor.api_key,
                signed_by=signed_by,
                signed_on=signed_on,
                attested=bool(attested),
            )
            payload = {
                "document_id": document.pk,
                "version_id": version.pk,
                "version": number,
                "kind": kind,
                "party": party.value,
                "sha256": digest,
                **({"api_key": actor.api_key.prefix} if actor.api_key is not None else {}),
            }
            BookingEvent.objects.record(
                request=case, actor=actor, kind="document_uploaded", payload=payload
            )
            audit_record(
                actor=actor,
                action="document.uploaded",
                obj=version,
                summary=f"{case.order_id} {kind} v{number}",
                payload=payload,
            )
            if notify:
                emails.paperwork_for_clinic(case, kind=kind)
            if kind == K.COMPLETED_FORM and party == UploaderParty.CLINIC:
                emails.paperwork_back_for_team(case, version=version)
    except BaseException:
        # The row never committed: remove the sealed file too, so storage holds no orphan.
        if stored_name is not None:
            try:
                storage.delete(stored_name)
            except Exception:
                logger.exception("could not remove orphan document %s", stored_name)
        raise
    version.document = document
    return version


def _lock(case: BookingRequest) -> BookingRequest:
    """Lock the case (the one lock order: the case first) and keep the loaded relations."""
    locked = lock_case(case.pk)
    locked.location = case.location
    locked.patient = case.patient
    locked.insurer = case.insurer
    return locked


def _refuse_duplicate(*, case, kind: str, digest: str, document: Document | None) -> None:
    """The same bytes again: refused when they are the document's current version, or (a new
    document) already a current version of the same kind on the case. An older version's bytes
    are accepted: that is going back to it, as a new version."""
    documents = (
        Document.objects.filter(pk=document.pk)
        if document is not None
        else Document.objects.filter(request=case, kind=kind)
    )
    for existing in documents.prefetch_related("versions"):
        current = existing.current
        if current is not None and current.sha256 == digest:
            raise DomainError(
                "document_duplicate",
                _("This file is already on the case: “%(title)s”, version %(version)s.")
                % {"title": existing.title, "version": current.number},
                fields={"file": [_("This exact file was uploaded already.")]},
            )


# --- reading ----------------------------------------------------------------------------------


def document_version_bytes(ref: str) -> bytes:
    """The plaintext of one version, by its uuid, checked against its sha256: the reader of
    email attachments kept here (notifications' "document_version" source, registered from
    DocumentsConfig.ready()), so a PDF sent by email is stored once, encrypted. The worker
    reads it to send it: no DocumentAccess row (the use case that queued the email recorded
    the disclosure, who sent what to whom, on the case's timeline)."""
    version = DocumentVersion.objects.get(uuid=ref)
    with document_storage().open(version.storage_name, "rb") as stored:
        data = stored.read()
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise DocumentDecryptionError(f"document version {version.pk} does not match its sha256")
    return data


def document_open(
    *,
    version: DocumentVersion,
    actor: Actor,
    origin: str = "",
    action: str = "downloaded",
    purpose: str = "",
) -> tuple[bytes, str, str]:
    """The plaintext, its content type and its download name; the read is recorded.

    NotFound when the user may not see the document (its existence is not disclosed). The
    bytes are checked against the sha256 taken at upload.
    """
    if action not in DocumentAccessAction.values:
        raise DomainError(
            "document_access_action_invalid",
            _("Unknown access %(action)s.") % {"action": repr(action)},
        )
    document = (
        Document.objects.for_user(actor.principal)
        .select_related("request")
        .filter(pk=version.document_id)
        .first()
    )
    if document is None:
        raise NotFound("document_not_found", _("No such document for you."))
    case = document.request
    try:
        with document_storage().open(version.storage_name, "rb") as stored:
            data = stored.read()
    except (DocumentDecryptionError, FileNotFoundError) as exc:
        logger.error("document version %s unreadable: %s", version.pk, exc)
        raise DomainError(
            "document_unreadable", _("This document cannot be read; MedWorks has been told.")
        ) from None
    if hashlib.sha256(data).hexdigest() != version.sha256:
        logger.error("document version %s does not match its sha256", version.pk)
        raise DomainError(
            "document_unreadable", _("This document cannot be read; MedWorks has been told.")
        )
    DocumentAccess.objects.create(
        actor=actor.user,
        api_key=actor.api_key,
        action=action,
        version=version,
        request=case,
        patient_id=case.patient_id,
        origin=(origin or "")[:100],
        purpose=(purpose or f"case {case.order_id}")[:200],
    )
    return data, version.content_type, version.original_name
