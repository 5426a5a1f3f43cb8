"""Every write about documents and GOPs. Keyword-only, one transaction each.

Who may upload what to a case (the party is decided by `_party`):

| party                              | kinds                                          |
|------------------------------------|------------------------------------------------|
| the case's insurer (user or key)   | gop, insurer_form, other                       |
| the clinic of the case's location  | completed_form, results, clinic_invoice, other |
| staff with BOOKING_WORK            | any                                            |

A case the user cannot see is NotFound (its existence is not disclosed); a kind the party may
not upload is PermissionDenied. Refusals are DomainErrors with stable codes and field errors
(see README.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.text import slugify

from medworks.accounts.permissions import Capability, user_can
from medworks.bookings.locks import lock_case
from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus
from medworks.core.audit import audit_record
from medworks.core.errors import DomainError, NotFound, PermissionDenied
from medworks.core.money import CURRENCY, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, to_money

from . import emails
from .files import clean_filename, detect
from .models import (
    GOP_LIVE_STATUSES,
    Document,
    DocumentAccess,
    DocumentAccessAction,
    DocumentKind,
    DocumentVersion,
    Gop,
    GopStatus,
    UploaderParty,
)
from .storage import DocumentDecryptionError

logger = logging.getLogger(__name__)

K = DocumentKind
UPLOAD_KINDS: dict[UploaderParty, frozenset[str]] = {
    UploaderParty.STAFF: frozenset(K.values),
    UploaderParty.INSURER: frozenset({K.GOP, K.INSURER_FORM, K.OTHER}),
    UploaderParty.CLINIC: frozenset({K.COMPLETED_FORM, K.RESULTS, K.CLINIC_INVOICE, K.OTHER}),
}
# Insurers and clinics stop adding papers once a case is over; staff may still attach (a late
# invoice, a form that came by email).
_CLOSED = frozenset({BookingStatus.CANCELLED, BookingStatus.CLOSED})


def document_storage():
    return storages["documents"]


# --- who acts ---------------------------------------------------------------------------------


def _visible_case(case: BookingRequest, user) -> BookingRequest:
    found = (
        BookingRequest.objects.for_user(user)
        .select_related("location__partner", "patient", "insurer")
        .filter(pk=case.pk)
        .first()
    )
    if found is None:
        raise NotFound("request_not_found", f"No booking request {case.order_id} for you.")
    return found


def _party(user, case: BookingRequest) -> UploaderParty | None:
    if user_can(user, Capability.BOOKING_WORK):
        return UploaderParty.STAFF
    if user_can(user, Capability.INSURER_PORTAL) and case.insurer_id == user.organisation_id:
        return UploaderParty.INSURER
    if (
        user_can(user, Capability.CLINIC_PORTAL)
        and case.location_id
        and case.location.partner.organisation_id == user.organisation_id
    ):
        return UploaderParty.CLINIC
    return None


def _user_row(user):
    """The User to record as actor (an insurer's API key is not a user: None)."""
    return user if getattr(user, "pk", None) else None


def _api_key(user):
    return getattr(user, "api_key", None)


def _actor_payload(user) -> dict:
    key = _api_key(user)
    return {"api_key": key.prefix} if key is not None else {}


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
    too_big = DomainError(
        "file_too_large",
        f"The file is larger than {max_bytes // (1024 * 1024) or 1} MB.",
        fields={"file": [f"The file is larger than {max_bytes // (1024 * 1024) or 1} MB."]},
    )
    size = getattr(file, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise too_big
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(max_bytes + 1)
    if isinstance(data, str):
        raise DomainError(
            "file_not_binary", "Send the file's bytes.", fields={"file": ["Not a binary file."]}
        )
    if len(data) > max_bytes:
        raise too_big
    return data


def _signature_errors(
    kind: str, signed_by: str, signed_on: dt.date | None, attested: bool
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if signed_on is not None and signed_on > timezone.localdate():
        errors["signed_on"] = ["The signing date cannot be in the future."]
    if kind != K.COMPLETED_FORM:
        return errors
    if not signed_by:
        errors["signed_by"] = ["Name the physician who signed the forms."]
    if signed_on is None:
        errors.setdefault("signed_on", ["Give the date the forms were signed."])
    if not attested:
        errors["attested"] = ["Confirm that these are the forms the physician signed."]
    return errors


def document_upload(
    *,
    case: BookingRequest,
    kind: str,
    file,
    filename: str,
    acting_user,
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
        acting_user=acting_user,
        title=title,
        signed_by=signed_by,
        signed_on=signed_on,
        attested=attested,
        document=document,
        notify=True,
    )


def _upload(
    *,
    case,
    kind,
    file,
    filename,
    acting_user,
    title,
    signed_by,
    signed_on,
    attested,
    document,
    notify,
) -> DocumentVersion:
    if kind not in K.values:
        raise DomainError(
            "document_kind_invalid",
            "Choose what kind of document this is.",
            fields={"kind": [f"One of: {', '.join(K.values)}."]},
        )
    case = _visible_case(case, acting_user)
    party = _party(acting_user, case)
    if party is None or kind not in UPLOAD_KINDS[party]:
        raise PermissionDenied(
            "document_kind_forbidden",
            f"You may not upload a {K(kind).label.lower()} to this case.",
            fields={"kind": ["Not a kind you may upload."]},
        )
    if party != UploaderParty.STAFF and case.status in _CLOSED:
        raise DomainError(
            "document_case_closed",
            f"The case is {case.get_status_display().lower()}: documents can no longer be added.",
        )
    if document is not None:
        if document.request_id != case.pk:
            raise NotFound("document_not_found", "No such document on this case.")
        if document.kind != kind:
            raise DomainError(
                "document_kind_mismatch",
                "A new version keeps its document's kind.",
                fields={"kind": [f"This document is a {document.get_kind_display().lower()}."]},
            )
    signed_by = (signed_by or "").strip()[:200]
    errors = _signature_errors(kind, signed_by, signed_on, attested)
    if errors:
        raise DomainError(
            "document_signature_missing"
            if kind == K.COMPLETED_FORM
            else "document_signature_invalid",
            "Say who signed the forms, when, and confirm them.",
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
            user = _user_row(acting_user)
            if document is None:
                document = Document.objects.create(
                    request=case,
                    kind=kind,
                    title=(title or "").strip()[:200] or K(kind).label,
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
                api_key=_api_key(acting_user),
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
                **_actor_payload(acting_user),
            }
            BookingEvent.objects.create(
                request=case, actor=user, kind="document_uploaded", payload=payload
            )
            audit_record(
                actor=user,
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
                f"This file is already on the case: “{existing.title}”, version {current.number}.",
                fields={"file": ["This exact file was uploaded already."]},
            )


# --- reading ----------------------------------------------------------------------------------


def document_open(
    *,
    version: DocumentVersion,
    user,
    origin: str = "",
    action: str = "downloaded",
    purpose: str = "",
) -> tuple[bytes, str, str]:
    """The plaintext, its content type and its download name; the read is recorded.

    NotFound when the user may not see the document (its existence is not disclosed). The
    bytes are checked against the sha256 taken at upload.
    """
    if action not in DocumentAccessAction.values:
        raise DomainError("document_access_action_invalid", f"Unknown access {action!r}.")
    document = (
        Document.objects.for_user(user)
        .select_related("request")
        .filter(pk=version.document_id)
        .first()
    )
    if document is None:
        raise NotFound("document_not_found", "No such document for you.")
    case = document.request
    try:
        with document_storage().open(version.storage_name, "rb") as stored:
            data = stored.read()
    except (DocumentDecryptionError, FileNotFoundError) as exc:
        logger.error("document version %s unreadable: %s", version.pk, exc)
        raise DomainError(
            "document_unreadable", "This document cannot be read; MedWorks has been told."
        ) from None
    if hashlib.sha256(data).hexdigest() != version.sha256:
        logger.error("document version %s does not match its sha256", version.pk)
        raise DomainError(
            "document_unreadable", "This document cannot be read; MedWorks has been told."
        )
    DocumentAccess.objects.create(
        actor=_user_row(user),
        api_key=_api_key(user),
        action=action,
        version=version,
        request=case,
        patient_id=case.patient_id,
        origin=(origin or "")[:100],
        purpose=(purpose or f"case {case.order_id}")[:200],
    )
    return data, version.content_type, version.original_name


# --- GOPs -------------------------------------------------------------------------------------

GOP_FIELDS = frozenset(
    {
        "insurer_reference",
        "patient_name",
        "patient_date_of_birth",
        "policy_number",
        "provider",
        "authorised_services",
        "valid_from",
        "valid_to",
        "max_amount",
        "currency",
        "copay_exclusions",
        "billing_instructions",
    }
)
_TEXT_LIMITS = {"insurer_reference": 100, "patient_name": 200, "policy_number": 100}
# What a GOP may become through gop_set_status, and from where (staff only).
GOP_MOVES: dict[str, frozenset[str]] = {
    GopStatus.SERVICE_RENDERED: frozenset({GopStatus.ISSUED, GopStatus.ACKNOWLEDGED}),
    GopStatus.EXPIRED: frozenset({GopStatus.ISSUED, GopStatus.ACKNOWLEDGED}),
    GopStatus.CANCELLED: frozenset({GopStatus.REQUESTED, GopStatus.ISSUED, GopStatus.ACKNOWLEDGED}),
}
# An amendment replaces the standing version, used or not (an over-limit bill needs one).
_AMENDABLE = frozenset(
    {GopStatus.ISSUED, GopStatus.ACKNOWLEDGED, GopStatus.SERVICE_RENDERED, GopStatus.EXPIRED}
)


def _as_date(value, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        errors[field] = ["Give a date, not a date and time."]
        return None
    if isinstance(value, dt.date):
        return value
    try:
        parsed = parse_date(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        errors[field] = ["Give a date as YYYY-MM-DD."]
    return parsed


def _as_amount(value, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    if isinstance(value, float | bool):
        errors["max_amount"] = ['Give the amount as text or a decimal, e.g. "1500.00".']
        return None
    try:
        amount = to_money(value)
    except (ValueError, TypeError, InvalidOperation):
        errors["max_amount"] = ["Give an amount in dollars and cents, e.g. 1500.00."]
        return None
    if not amount.is_finite():
        errors["max_amount"] = ["Give an amount in dollars and cents, e.g. 1500.00."]
    elif amount < 0:
        errors["max_amount"] = ["The maximum cannot be negative."]
    elif amount.adjusted() >= MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES:
        errors["max_amount"] = ["The amount is too large."]
    else:
        return amount
    return None


def _gop_terms(*, case: BookingRequest, data: Mapping[str, Any], base: dict) -> tuple[dict, list]:
    """Validated GOP terms: `base` (defaults, or the amended version's terms) overlaid with
    `data`. Returns (fields, services). Raises DomainError("gop_invalid") with field errors."""
    from medworks.network.models import Location, Service

    errors: dict[str, list[str]] = {}
    unknown = set(data) - GOP_FIELDS
    for key in sorted(unknown):
        errors[str(key)] = ["Not a GOP field."]
    terms = {key: value for key, value in base.items() if key != "authorised_services"}
    for key in GOP_FIELDS & set(data) - {"authorised_services", "provider"}:
        terms[key] = data[key]
    for key, limit in _TEXT_LIMITS.items():
        text = str(terms.get(key) or "").strip()
        if len(text) > limit:
            errors[key] = [f"At most {limit} characters."]
        terms[key] = text[:limit]
    for key in ("copay_exclusions", "billing_instructions"):
        terms[key] = str(terms.get(key) or "").strip()
    terms["patient_date_of_birth"] = _as_date(
        terms.get("patient_date_of_birth"), "patient_date_of_birth", errors
    )
    terms["valid_from"] = _as_date(terms.get("valid_from"), "valid_from", errors)
    terms["valid_to"] = _as_date(terms.get("valid_to"), "valid_to", errors)
    terms["max_amount"] = _as_amount(terms.get("max_amount"), errors)
    terms["currency"] = str(terms.get("currency") or CURRENCY).strip().upper()
    if terms["currency"] != CURRENCY:
        errors["currency"] = [f"Guarantees are in {CURRENCY}."]
    for key, label in (
        ("valid_from", "the first day"),
        ("valid_to", "the last day"),
        ("max_amount", "the maximum amount"),
    ):
        if terms[key] is None and key not in errors:
            errors[key] = [f"Give {label} of the guarantee."]
    if terms["valid_from"] and terms["valid_to"] and terms["valid_to"] < terms["valid_from"]:
        errors["valid_to"] = ["The guarantee ends before it starts."]

    provider = data["provider"] if "provider" in data else base.get("provider")
    if isinstance(provider, Location) or provider is None:
        pass
    elif isinstance(provider, int) or (isinstance(provider, str) and provider.strip().isdigit()):
        provider = Location.objects.filter(pk=int(provider)).first()
        if provider is None:
            errors["provider"] = ["No such clinic location."]
    elif provider == "":
        provider = None
    else:
        errors["provider"] = ["Name the clinic location by its id."]
        provider = None
    if provider is not None and case.location_id and provider.pk != case.location_id:
        errors["provider"] = ["The provider is the case's clinic."]
    terms["provider"] = provider

    wanted = (
        data["authorised_services"]
        if "authorised_services" in data
        else base.get("authorised_services", [])
    )
    if isinstance(wanted, str | int | Service):
        wanted = [wanted]
    case_services = {s.pk: s for s in case.services.all()}
    by_code = {s.code.upper(): s for s in case_services.values()}
    services, bad = [], []
    for item in wanted or []:
        if isinstance(item, Service):
            found = case_services.get(item.pk)
        elif isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            found = case_services.get(int(item))
        else:
            found = by_code.get(str(item).strip().upper())
        if found is None:
            bad.append(str(getattr(item, "code", item)))
        elif found not in services:
            services.append(found)
    if bad:
        errors["authorised_services"] = [
            f"Not a service of this case: {', '.join(bad)}. The case asks for "
            f"{', '.join(sorted(by_code)) or 'no service'}."
        ]
    elif not services:
        errors["authorised_services"] = ["Name the services the guarantee covers."]
    if errors:
        raise DomainError("gop_invalid", "The guarantee has errors: see the fields.", fields=errors)
    return terms, services


def _gop_defaults(case: BookingRequest) -> dict:
    """A new GOP's terms default to what the case already says (the insurer confirms them)."""
    patient = case.patient
    return {
        "insurer_reference": case.insurer_reference,
        "patient_name": patient.full_name,
        "patient_date_of_birth": patient.date_of_birth,
        "policy_number": case.policy_number,
        "provider": case.location,
        "currency": CURRENCY,
    }


def _gop_party(user, case) -> UploaderParty | None:
    party = _party(user, case)
    return party if party in (UploaderParty.STAFF, UploaderParty.INSURER) else None


def _gop_event(*, gop: Gop, kind: str, user, previous: str = "", note: str = "") -> None:
    payload = {
        "gop_id": gop.pk,
        "version": gop.version,
        "from": previous,
        "to": gop.status,
        **_actor_payload(user),
    }
    BookingEvent.objects.create(
        request_id=gop.request_id, actor=_user_row(user), kind=kind, note=note, payload=payload
    )
    audit_record(
        actor=user,
        action=kind.replace("gop_", "gop."),
        obj=gop,
        summary=f"GOP v{gop.version} {previous + ' -> ' if previous else ''}{gop.status}",
        payload=payload,
    )


def _attach_gop_file(*, case, gop: Gop, file, filename: str, acting_user, document=None):
    version = _upload(
        case=case,
        kind=K.GOP,
        file=file,
        filename=filename,
        acting_user=acting_user,
        title=f"GOP version {gop.version}",
        signed_by="",
        signed_on=None,
        attested=False,
        document=document,
        notify=False,  # the GOP's own email says it (one email, not two)
    )
    return version.document


def gop_issue(
    *, case: BookingRequest, data: Mapping[str, Any], acting_user, file=None, filename: str = ""
) -> Gop:
    """The insurer (or staff for it) issues the case's guarantee of payment: status issued.

    Terms not given default to the case's (reference, patient, date of birth, policy number,
    provider); validity dates, the maximum amount and the authorised services (codes or ids,
    services of the case) are required. A GOP that MedWorks requested (`gop_request`) is
    filled in; a case whose GOP is already issued is refused: amend it instead.
    """
    case = _visible_case(case, acting_user)
    if _gop_party(acting_user, case) is None:
        raise PermissionDenied("gop_forbidden", "Only the insurer or MedWorks issues a GOP.")
    terms, services = _gop_terms(case=case, data=data, base=_gop_defaults(case))
    with transaction.atomic():
        case = _lock(case)
        standing = case.gops.filter(status__in=GOP_LIVE_STATUSES).order_by("-version").first()
        if standing is not None and standing.status != GopStatus.REQUESTED:
            raise DomainError(
                "gop_exists",
                f"This case already has a GOP (version {standing.version}, "
                f"{standing.get_status_display().lower()}): amend it instead.",
            )
        if standing is not None:
            gop, previous = standing, standing.status
            for key, value in terms.items():
                setattr(gop, key, value)
            gop.status = GopStatus.ISSUED
            gop.status_changed_at = timezone.now()
            gop.save()
        else:
            previous = ""
            gop = Gop.objects.create(
                request=case,
                version=_next_gop_version(case),
                status=GopStatus.ISSUED,
                created_by=_user_row(acting_user),
                **terms,
            )
        gop.authorised_services.set(services)
        if file is not None:
            gop.document = _attach_gop_file(
                case=case, gop=gop, file=file, filename=filename, acting_user=acting_user
            )
            gop.save(update_fields=["document"])
        _gop_event(gop=gop, kind="gop_issued", user=acting_user, previous=previous)
        emails.paperwork_for_clinic(
            case, kind=K.GOP, what="document" if file is not None else "gop_terms"
        )
    return gop


def _next_gop_version(case) -> int:
    return (case.gops.aggregate(n=Max("version"))["n"] or 0) + 1


def gop_request(*, case: BookingRequest, acting_user, note: str = "") -> Gop:
    """MedWorks asks the insurer for a GOP: a placeholder (status requested) with no terms,
    filled in by `gop_issue`. Staff only. The insurer's contact is emailed (after commit, by
    the outbox); the note stays on the case for the team."""
    case = _visible_case(case, acting_user)
    if _party(acting_user, case) != UploaderParty.STAFF:
        raise PermissionDenied("gop_forbidden", "Only MedWorks requests a GOP.")
    with transaction.atomic():
        case = _lock(case)
        if case.gops.filter(status__in=GOP_LIVE_STATUSES).exists():
            raise DomainError("gop_exists", "This case already has a GOP.")
        gop = Gop.objects.create(
            request=case,
            version=_next_gop_version(case),
            status=GopStatus.REQUESTED,
            created_by=_user_row(acting_user),
            insurer_reference=case.insurer_reference,
        )
        _gop_event(gop=gop, kind="gop_requested", user=acting_user, note=note.strip())
        emails.gop_requested_for_insurer(case)
    return gop


def _terms_of(gop: Gop) -> dict:
    terms = {key: getattr(gop, key) for key in GOP_FIELDS - {"authorised_services"}}
    terms["authorised_services"] = list(gop.authorised_services.all())
    return terms


def gop_amend(
    *, gop: Gop, data: Mapping[str, Any], acting_user, file=None, filename: str = ""
) -> Gop:
    """A new version (version + 1) superseding `gop`, which becomes amended and is kept.

    The new version takes the old terms, overlaid with `data`, and is issued. Its file, if any,
    is a new version of the old GOP's document. Only the standing version can be amended.
    """
    case = _visible_case(gop.request, acting_user)
    if _gop_party(acting_user, case) is None:
        raise PermissionDenied("gop_forbidden", "Only the insurer or MedWorks amends a GOP.")
    terms, services = _gop_terms(case=case, data=data, base=_terms_of(gop))
    with transaction.atomic():
        case = _lock(case)
        old = Gop.objects.get(pk=gop.pk)
        if old.status not in _AMENDABLE:
            raise DomainError(
                "gop_status_illegal",
                f"Cannot amend GOP version {old.version}: it is "
                f"{old.get_status_display().lower()}.",
            )
        Gop.objects.filter(pk=old.pk).update(
            status=GopStatus.AMENDED, status_changed_at=timezone.now()
        )
        previous, old.status = old.status, GopStatus.AMENDED
        _gop_event(gop=old, kind="gop_superseded", user=acting_user, previous=previous)
        new = Gop.objects.create(
            request=case,
            version=_next_gop_version(case),
            supersedes=old,
            status=GopStatus.ISSUED,
            created_by=_user_row(acting_user),
            **terms,
        )
        new.authorised_services.set(services)
        if file is not None:
            new.document = _attach_gop_file(
                case=case,
                gop=new,
                file=file,
                filename=filename,
                acting_user=acting_user,
                document=old.document,
            )
            new.save(update_fields=["document"])
        _gop_event(gop=new, kind="gop_amended", user=acting_user)
        emails.paperwork_for_clinic(
            case, kind=K.GOP, what="document" if file is not None else "gop_terms"
        )
    gop.status = GopStatus.AMENDED
    return new


def _set_status(*, gop: Gop, to: str, allowed_from: frozenset[str], user, kind: str, note=""):
    with transaction.atomic():
        lock_case(gop.request_id)
        current = Gop.objects.get(pk=gop.pk)
        if current.status not in allowed_from:
            raise DomainError(
                "gop_status_illegal",
                f"Cannot make GOP version {current.version} {GopStatus(to).label.lower()}: it "
                f"is {current.get_status_display().lower()}.",
            )
        previous = current.status
        current.status = to
        current.status_changed_at = timezone.now()
        current.save(update_fields=["status", "status_changed_at"])
        _gop_event(gop=current, kind=kind, user=user, previous=previous, note=note)
    gop.status, gop.status_changed_at = current.status, current.status_changed_at
    return current


def gop_acknowledge(*, gop: Gop, acting_user) -> Gop:
    """The clinic of the case's location (or staff for it) confirms it has the GOP."""
    case = _visible_case(gop.request, acting_user)
    if _party(acting_user, case) not in (UploaderParty.CLINIC, UploaderParty.STAFF):
        raise PermissionDenied("gop_forbidden", "Only the case's clinic acknowledges its GOP.")
    return _set_status(
        gop=gop,
        to=GopStatus.ACKNOWLEDGED,
        allowed_from=frozenset({GopStatus.ISSUED}),
        user=acting_user,
        kind="gop_acknowledged",
    )


def gop_set_status(*, gop: Gop, status: str, acting_user, note: str = "") -> Gop:
    """Staff record what became of a GOP: service rendered, expired or cancelled (GOP_MOVES)."""
    case = _visible_case(gop.request, acting_user)
    if _party(acting_user, case) != UploaderParty.STAFF:
        raise PermissionDenied("gop_forbidden", "Only MedWorks changes a GOP's status.")
    if status not in GOP_MOVES:
        raise DomainError(
            "gop_status_illegal",
            f"A GOP is made {status!r} by its own step (issue, acknowledge, amend), not here.",
            fields={"status": [f"One of: {', '.join(GOP_MOVES)}."]},
        )
    return _set_status(
        gop=gop,
        to=status,
        allowed_from=GOP_MOVES[status],
        user=acting_user,
        kind=f"gop_{status}",
        note=(note or "").strip(),
    )
