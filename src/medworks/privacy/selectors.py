"""Reads of the privacy office: the breach register and the access trail.

**The access trail** answers two questions from the records the desk already keeps:

- *Who saw or changed this patient's information?* (a patient's access request, PIPEDA
  principle 4.9; an audit). The audit rows (`core.AuditEvent`) of the patient's cases
  (object `bookings.bookingrequest`, whatever the action: reads written by
  `bookings.selectors.booking_request_get`, `record_listed` and the clinic pages, and every
  change), the rows whose payload names the patient (`patient_id`: every list that showed
  the case), the rows of the patient record itself, and every view and download of the
  cases' documents (`documents.DocumentAccess`, which records document reads apart).
- *What did this user do?* Every audit row and document access with that user as the actor.

Both are one query (a UNION of the two tables, newest first) so that a page is a LIMIT/OFFSET
of it and the CSV export streams the very same rows. Each trail is read up to a moment
(`until`, excluded), fixed when the page or the export starts, so the page's count, the
export's rows and the count its audit row records agree.

The privacy office's own rows (`privacy.access_trail_viewed` / `_exported`) name the patient
as `subject_patient_id`, not `patient_id`: showing a patient's trail is not a read of their
cases, and a trail viewed and then exported shows the same rows. They are in the officer's own
user trail, and in the audit table for whoever audits the privacy office.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext

from medworks.accounts.models import User
from medworks.bookings.models import BookingRequest, Patient
from medworks.core.models import AuditEvent
from medworks.documents.models import DocumentAccess
from medworks.reconciliation.exports import safe_text

from .models import BreachRecord

_CASE_TYPE = BookingRequest._meta.label_lower  # "bookings.bookingrequest"
_PATIENT_TYPE = Patient._meta.label_lower
_VERSION_TYPE = "documents.documentversion"

# The columns of one trail row, in the order both halves of the UNION select them.
_COLUMNS = (
    "t_at",
    "t_source",
    "t_row",
    "t_actor",
    "t_kind",
    "t_detail",
    "t_action",
    "t_type",
    "t_object",
    "t_case",
    "t_summary",
    "t_origin",
)


# --- The breach register -------------------------------------------------------------------


def breach_records() -> QuerySet[BreachRecord]:
    """The register, the most recently found first, with who recorded and changed each."""
    return BreachRecord.objects.select_related("recorded_by", "updated_by").order_by(
        "-found_on", "-pk"
    )


# --- Finding whose trail -------------------------------------------------------------------


def patients_find(*, order_id: str = "", name: str = "", date_of_birth: dt.date | None = None):
    """The patients matching an Order Id, or a name (every word in the first or last name)
    with a date of birth (both: a name alone would list strangers), at most 20."""
    order_id = (order_id or "").strip()
    if order_id:
        return list(
            Patient.objects.filter(requests__order_id__iexact=order_id)
            .select_related("insurer")
            .distinct()[:20]
        )
    words = [w for w in (name or "").replace(",", " ").split() if w]
    if not words or date_of_birth is None:
        return []
    match = Q(date_of_birth=date_of_birth)
    for word in words:
        match &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return list(Patient.objects.filter(match).select_related("insurer").order_by("pk")[:20])


def patient_cases(*, patient: Patient) -> list[BookingRequest]:
    return list(
        BookingRequest.objects.filter(patient=patient)
        .only("pk", "order_id", "status")
        .order_by("created_at", "pk")
    )


def user_find(*, username: str) -> User | None:
    username = (username or "").strip()
    if not username:
        return None
    return User.objects.filter(username__iexact=username).select_related("organisation").first()


# --- The trail -------------------------------------------------------------------------------


def _audit_half(where: Q) -> QuerySet:
    return (
        AuditEvent.objects.filter(where)
        .order_by()
        .annotate(
            t_at=F("occurred_at"),
            t_source=Value("audit", output_field=CharField()),
            t_row=F("id"),
            t_actor=F("actor_id"),
            t_kind=F("actor_kind"),
            t_detail=F("actor_detail"),
            t_action=F("action"),
            t_type=F("object_type"),
            t_object=F("object_id"),
            t_case=Value("", output_field=CharField()),
            t_summary=F("summary"),
            t_origin=Cast(KeyTextTransform("origin", "payload"), CharField()),
        )
        .values_list(*_COLUMNS)
    )


def _document_half(where: Q) -> QuerySet:
    return (
        DocumentAccess.objects.filter(where)
        .order_by()
        .annotate(
            t_at=F("at"),
            t_source=Value("document", output_field=CharField()),
            t_row=F("id"),
            t_actor=F("actor_id"),
            t_kind=Value("", output_field=CharField()),
            t_detail=Value("", output_field=CharField()),
            t_action=Concat(Value("document."), F("action"), output_field=CharField()),
            t_type=Value(_VERSION_TYPE, output_field=CharField()),
            t_object=Cast("version_id", CharField()),
            t_case=Cast("request_id", CharField()),
            t_summary=F("purpose"),
            t_origin=F("origin"),
        )
        .values_list(*_COLUMNS)
    )


def _private_to_the_office() -> Q:
    """The privacy office's own rows about a trail are not part of the trail shown."""
    return Q(action__startswith="privacy.access_trail_")


def patient_trail(*, patient: Patient, until: dt.datetime) -> QuerySet:
    """Every recorded access to this patient's information before `until`, newest first."""
    case_ids = [
        str(pk)
        for pk in BookingRequest.objects.filter(patient=patient).values_list("pk", flat=True)
    ]
    audit = (
        Q(object_type=_CASE_TYPE, object_id__in=case_ids)
        | Q(object_type=_PATIENT_TYPE, object_id=str(patient.pk))
        | Q(payload__patient_id=patient.pk)
    ) & ~_private_to_the_office()
    return _union(
        _audit_half(audit & Q(occurred_at__lt=until)),
        _document_half(Q(patient=patient, at__lt=until)),
    )


def user_trail(*, user: User, until: dt.datetime) -> QuerySet:
    """Everything this user did that the desk records, before `until`, newest first."""
    return _union(
        _audit_half(Q(actor=user, occurred_at__lt=until)),
        _document_half(Q(actor=user, at__lt=until)),
    )


def _union(audit: QuerySet, documents: QuerySet) -> QuerySet:
    return audit.union(documents, all=True).order_by("-t_at", "-t_source", "-t_row")


@dataclass(frozen=True)
class TrailRow:
    at: dt.datetime
    who: str
    action: str
    record: str
    case: str
    origin: str
    summary: str
    source: str  # "audit" or "document"
    row_id: int


def _who(user: User | None, kind: str, detail: str) -> str:
    if user is not None:
        name = user.get_full_name()
        organisation = getattr(user.organisation, "name", "")
        label = f"{name} ({user.username})" if name else user.username
        return f"{label}, {organisation}" if organisation else label
    if kind == "api_client":
        return gettext("API key %(prefix)s") % {"prefix": detail}
    if kind == "signed_link":
        return gettext("Signed email link (%(purpose)s)") % {"purpose": detail}
    if kind == "system":
        return gettext("System (%(job)s)") % {"job": detail}
    return gettext("An insurer's system (API key)")


def trail_rows(raw: Iterable[tuple]) -> list[TrailRow]:
    """Raw trail rows as people read them: who by name, which case by Order Id. A constant
    number of queries for the rows given (the users, then the cases they name)."""
    raw = list(raw)
    user_ids = {row[3] for row in raw if row[3] is not None}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids).select_related("organisation")}
    case_ids = set()
    for row in raw:
        if row[7] == _CASE_TYPE and str(row[8]).isdigit():
            case_ids.add(int(row[8]))
        if row[9] and str(row[9]).isdigit():
            case_ids.add(int(row[9]))
    orders = dict(BookingRequest.objects.filter(pk__in=case_ids).values_list("pk", "order_id"))
    rows = []
    for at, source, row_id, actor, kind, detail, action, otype, oid, case, summary, origin in raw:
        if otype == _CASE_TYPE and str(oid).isdigit():
            case = orders.get(int(oid), "")
        elif case and str(case).isdigit():
            case = orders.get(int(case), "")
        record = f"{otype}:{oid}" if otype else ""
        rows.append(
            TrailRow(
                at=at,
                who=_who(users.get(actor), kind, detail),
                action=action,
                record=record,
                case=case or "",
                origin=origin or "",
                summary=summary or "",
                source=source,
                row_id=row_id,
            )
        )
    return rows


CSV_HEADER = ("when", "who", "action", "record", "case", "origin", "summary", "source", "row")


def _csv_line(writer, buffer: io.StringIO, values) -> str:
    writer.writerow(values)
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def trail_csv(trail: QuerySet, *, batch: int = 500) -> Iterator[str]:
    """The trail as CSV, one header then the rows, `batch` rows a chunk (streamed: a trail
    may hold years of rows). Times in UTC, ISO 8601; text that a spreadsheet would read as a
    formula is quoted away."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield _csv_line(writer, buffer, CSV_HEADER)
    pending: list[tuple] = []

    def flush():
        out = []
        for row in trail_rows(pending):
            writer.writerow(
                [
                    row.at.astimezone(dt.UTC).isoformat(),
                    safe_text(row.who),
                    safe_text(row.action),
                    safe_text(row.record),
                    safe_text(row.case),
                    safe_text(row.origin),
                    safe_text(row.summary),
                    row.source,
                    row.row_id,
                ]
            )
        out.append(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
        return "".join(out)

    for row in trail.iterator(chunk_size=batch):
        pending.append(row)
        if len(pending) == batch:
            yield flush()
            pending = []
    if pending:
        yield flush()


def trail_until() -> dt.datetime:
    """The moment a trail is read up to: now."""
    return timezone.now()
