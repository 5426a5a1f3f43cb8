"""Reads of booking requests that pages, the API and commands share.

Every read of a case shows patient information, so `booking_request_get` records who read
which case, when and from where (RULES.md: PIPEDA/PHIPA access logging).

The work queue (`work_queue`, `work_queue_counts`) shows no patient data at all: Order Id,
insurer, services, urgency, owner and age. So listing it is not a read of a case and is not
logged per case; opening one is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medworks.accounts.actors import actor_for
from medworks.accounts.models import Organisation, OrganisationKind
from medworks.core.audit import audit_record, audit_record_many
from medworks.core.errors import DomainError, NotFound
from medworks.network.models import Location, Service
from medworks.notifications.formatting import zone_for

from .events import CASE_EVENTS
from .links import clinic_link_current
from .models import (
    OPEN_STATUSES,
    AvailabilityOffer,
    BookingEvent,
    BookingRequest,
    BookingStatus,
    OfferSlot,
)
from .workflow import CLINIC_REQUESTS

# The queue's states, in the order a case meets them (the page's tabs follow it).
QUEUE_STATES: tuple[str, ...] = (
    BookingStatus.RECEIVED,
    BookingStatus.SOURCING,
    BookingStatus.ESCALATED,
    BookingStatus.AWAITING_AVAILABILITY,
    BookingStatus.DATES_OFFERED,
    BookingStatus.BOOKED,
    BookingStatus.NO_SHOW,
)
assert set(QUEUE_STATES) == set(OPEN_STATUSES)  # a new open state must join the queue

OWNER_FILTERS = ("anyone", "mine", "unassigned")


def booking_requests_for(*, user) -> QuerySet[BookingRequest]:
    """The cases this user may see (staff all, an insurer its own, a clinic its own)."""
    return BookingRequest.objects.for_user(user)


def booking_request_get(
    *, user, order_id: str, origin: str = "", purpose: str = "viewed"
) -> BookingRequest:
    """One case the user may see, by Order Id; its reading is logged. NotFound otherwise.

    A case of another insurer is 'not found', not 'forbidden': its existence is not disclosed.
    """
    case = (
        booking_requests_for(user=user)
        .select_related("patient", "insurer", "location__partner", "owner")
        .filter(order_id=order_id)
        .first()
    )
    if case is None:
        raise NotFound(
            "request_not_found",
            gettext("No booking request %(order)s for you.") % {"order": order_id},
        )
    audit_record(
        actor=actor_for(user),
        action=f"booking_request.{purpose}",
        obj=case,
        summary=f"{case.order_id} {purpose}",
        payload={"patient_id": case.patient_id, "origin": origin[:100]},
    )
    return case


# --- The work queue ---------------------------------------------------------------------------


def queue_threshold(state: str) -> dt.timedelta | None:
    hours = settings.MEDWORKS_QUEUE_THRESHOLDS_HOURS.get(state)
    return dt.timedelta(hours=hours) if hours else None


def _overdue_q(now: dt.datetime) -> Q:
    """Cases that have waited longer than their state's threshold: one OR per state."""
    q = Q(pk__in=[])
    for state in QUEUE_STATES:
        limit = queue_threshold(state)
        if limit is not None:
            q |= Q(status=state, status_changed_at__lt=now - limit)
    return q


def work_queue(
    *,
    user,
    state: str = "",
    owner: str = "anyone",
    insurer_id: int | None = None,
    urgency: str = "",
    overdue: bool = False,
    q: str = "",
    now: dt.datetime | None = None,
) -> QuerySet[BookingRequest]:
    """Cases for the staff queue (open ones unless `state` names another), longest waiting in
    their state first.

    Loads only the columns the queue shows (the patient's name and city among them: the view
    records each case listed as read), with insurer, owner and patient joined and services
    prefetched, so a page costs the same number of queries whatever its size. `q` is an Order
    Id or an insurer reference, never a patient's name (this is read from GET; patients are
    found by the POST search, `case_search`).
    """
    now = now or timezone.now()
    cases = (
        booking_requests_for(user=user)
        .annotate(**queue_flags())
        .select_related("insurer", "owner", "patient")
        .only(
            "order_id",
            "insurer_reference",
            "urgency",
            "status",
            "status_changed_at",
            "created_at",
            "channel",
            "patient_id",
            "patient__first_name",
            "patient__last_name",
            "patient__city",
            "insurer__name",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .order_by("status_changed_at", "pk")
    )
    # Open cases by default; any state, closed and cancelled included, when asked for.
    cases = cases.filter(status=state) if state else cases.filter(status__in=OPEN_STATUSES)
    if owner == "mine":
        cases = cases.filter(owner_id=user.pk)
    elif owner == "unassigned":
        cases = cases.filter(owner__isnull=True)
    if insurer_id:
        cases = cases.filter(insurer_id=insurer_id)
    if urgency:
        cases = cases.filter(urgency=urgency)
    if overdue:
        cases = cases.filter(_overdue_q(now))
    q = (q or "").strip()
    if q:
        cases = cases.filter(Q(order_id__iexact=q) | Q(insurer_reference__iexact=q))
    return cases


def _event_in_this_state(*kinds: str) -> Exists:
    """An event of one of `kinds` written while the case has been in its current state (at or
    after status_changed_at): leaving the state moves status_changed_at past it."""
    return Exists(
        BookingEvent.objects.filter(
            request_id=OuterRef("pk"),
            kind__in=kinds,
            occurred_at__gte=OuterRef("status_changed_at"),
        )
    )


def queue_flags() -> dict:
    """What the queue flags beside a case's age, as annotations (subqueries of the queue's one
    query, not a query per row):

    - `clinic_reminded`: the clinic was reminded (clinic_reminders_queue) and has still given no
      dates: the case still waits for them;
    - `clinic_asks`: the clinic asked to reschedule, or said the appointment cannot take place,
      and staff have not yet rescheduled or cancelled (the case is still booked).
    """
    return {
        "clinic_reminded": ExpressionWrapper(
            Q(_event_in_this_state("clinic_reminded"), status=BookingStatus.AWAITING_AVAILABILITY),
            output_field=BooleanField(),
        ),
        "clinic_asks": ExpressionWrapper(
            Q(_event_in_this_state(*CLINIC_REQUESTS), status=BookingStatus.BOOKED),
            output_field=BooleanField(),
        ),
    }


def escalation_queue(*, user, mine: bool = False) -> QuerySet[BookingRequest]:
    """Management's queue: every escalated case, longest waiting since its escalation first,
    with its escalation owner (no patient data, as the work queue)."""
    cases = (
        booking_requests_for(user=user)
        .filter(status=BookingStatus.ESCALATED)
        .select_related("insurer", "owner", "escalation_owner")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .order_by("status_changed_at", "pk")
    )
    return cases.filter(escalation_owner_id=user.pk) if mine else cases


def work_queue_counts(*, user, now: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """Per open state: how many cases, and how many waited too long. One query."""
    now = now or timezone.now()
    rows = (
        booking_requests_for(user=user)
        .filter(status__in=OPEN_STATUSES)
        .values("status")
        .annotate(total=Count("pk"), overdue=Count("pk", filter=_overdue_q(now)))
        .order_by()
    )
    counts = {state: {"total": 0, "overdue": 0} for state in QUEUE_STATES}
    for row in rows:
        counts[row["status"]] = {"total": row["total"], "overdue": row["overdue"]}
    return counts


@dataclass(frozen=True)
class QueueAge:
    age: dt.timedelta
    threshold: dt.timedelta | None

    @property
    def overdue(self) -> bool:
        return self.threshold is not None and self.age > self.threshold


def queue_age(case: BookingRequest, *, now: dt.datetime | None = None) -> QueueAge:
    now = now or timezone.now()
    return QueueAge(age=now - case.status_changed_at, threshold=queue_threshold(case.status))


def insurer_list() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.INSURER, is_active=True).only("name")


# --- The case page ----------------------------------------------------------------------------


def booking_request_timeline(*, case: BookingRequest) -> list[BookingEvent]:
    return list(case.events.select_related("actor").order_by("occurred_at", "pk"))


def booking_request_offers(*, case: BookingRequest) -> list[AvailabilityOffer]:
    """The case's offers, newest first, with their slots (and the appointment of a taken one)."""
    return list(
        case.offers.select_related("location__partner").prefetch_related(
            Prefetch("slots", queryset=OfferSlot.objects.order_by("starts_at"))
        )
    )


def booking_request_appointments(*, case: BookingRequest):
    return list(case.appointments.select_related("location__partner").order_by("-starts_at"))


def location_search(*, q: str, service_ids: list[int] = (), limit: int = 20) -> list[Location]:
    """Any active location by partner or location name, city, or postal code (escalations),
    among those offering every one of `service_ids`.

    Management looks beyond the area the matcher ranks, so this is a plain text search.
    """
    text = (q or "").strip()
    if len(text) < 2:
        return []
    compact = text.replace(" ", "").upper()
    postal = compact[:3] + " " + compact[3:] if len(compact) > 3 else compact
    locations = Location.objects.filter(is_active=True, partner__is_active=True).filter(
        Q(name__icontains=text)
        | Q(partner__name__icontains=text)
        | Q(city__icontains=text)
        | Q(postal_code__istartswith=postal)
    )
    wanted = set(service_ids)
    if wanted:
        locations = locations.annotate(
            offered=Count(
                "offerings__service",
                filter=Q(offerings__service_id__in=wanted, offerings__is_active=True),
                distinct=True,
            )
        ).filter(offered=len(wanted))
    return list(locations.select_related("partner").order_by("partner__name", "name")[:limit])


def locations_offering_all(*, location_ids: list[int], service_ids: list[int]) -> set[int]:
    """Which of these locations actively offer every one of these services (one query)."""
    if not location_ids or not service_ids:
        return set()
    from medworks.network.models import Offering

    rows = (
        Offering.objects.filter(
            location_id__in=location_ids, service_id__in=service_ids, is_active=True
        )
        .values("location_id")
        .annotate(n=Count("service_id", distinct=True))
    )
    return {row["location_id"] for row in rows if row["n"] == len(set(service_ids))}


# --- The insurer and clinic portals, and the signed email links -------------------------------


SEARCH_LIMIT = 50


def _search_date(text: str) -> dt.date | None:
    """A date of birth as people type it: 1980-04-12, 12/04/1980 (day first, Canada), 1980/04/12."""
    import re

    text = text.strip()
    for pattern, order in (
        (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", "ymd"),
        (r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", "dmy"),
    ):
        found = re.fullmatch(pattern, text)
        if found:
            a, b, c = (int(g) for g in found.groups())
            year, month, day = (a, b, c) if order == "ymd" else (c, b, a)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
    return None


def case_search(*, user, q: str, origin: str = "", policy: bool = False):
    """Any case the user may see, in any state (closed and cancelled included), by Order Id,
    insurer reference, patient name or date of birth (and policy number when `policy`, for
    insurers), newest first, at most SEARCH_LIMIT. Each case listed shows the patient's name,
    so each is logged as read. Called from a POST: a name never sits in a URL."""
    q = " ".join((q or "").split())[:100]
    if not q:
        return []
    match = Q(order_id__iexact=q) | Q(insurer_reference__iexact=q)
    if policy:
        match |= Q(policy_number__iexact=q)
    born = _search_date(q)
    if born is not None:
        match |= Q(patient__date_of_birth=born)
    words = [w for w in q.replace(",", " ").split() if len(w) > 1]
    if words and born is None:
        names = Q()
        for word in words:
            names &= Q(patient__first_name__icontains=word) | Q(patient__last_name__icontains=word)
        match |= names
    cases = list(
        booking_requests_for(user=user)
        .filter(match)
        .select_related("patient", "insurer", "owner")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .order_by("-created_at", "-pk")[:SEARCH_LIMIT]
    )
    record_listed(user=user, cases=cases, origin=origin, listed="search")
    return cases


def record_listed(*, user, cases, origin: str = "", listed: str) -> None:
    """Patient data shown in a list is a read of each case listed (RULES.md): one row each."""
    audit_record_many(
        actor=actor_for(user),
        action="booking_request.listed",
        objects=list(cases),
        summary_of=lambda case: f"{case.order_id} listed",
        payload_of=lambda case: {
            "patient_id": case.patient_id,
            "origin": origin[:100],
            "list": listed,
        },
    )


def record_listed_ids(*, actor, case_ids, origin: str = "", listed: str) -> int:
    """`record_listed` for a long list given by ids (an export of 100,000 orders): the same
    rows, one per case, built by the database in one INSERT ... SELECT instead of in Python
    (the ORM's bulk insert quoted every value and cost more than the export itself)."""
    from django.db import connection

    from medworks.core.models import AuditEvent

    ids = [int(pk) for pk in case_ids]
    if not ids:
        return 0
    quote = connection.ops.quote_name
    audit, cases = quote(AuditEvent._meta.db_table), quote(BookingRequest._meta.db_table)
    if connection.vendor == "postgresql":
        text_id, summary, payload, where = (
            "b.id::text",
            "left(b.order_id || ' listed', 255)",
            "jsonb_build_object('patient_id', b.patient_id, 'origin', %s::text, 'list', %s::text)",
            "b.id = ANY(%s)",
        )
        where_params = [ids]
    else:
        text_id, summary, payload = (
            "CAST(b.id AS TEXT)",
            "substr(b.order_id || ' listed', 1, 255)",
            "json_object('patient_id', b.patient_id, 'origin', %s, 'list', %s)",
        )
        where = f"b.id IN ({', '.join(['%s'] * len(ids))})"
        where_params = ids
    sql = (
        f"INSERT INTO {audit} (occurred_at, actor_id, actor_kind, actor_detail, action, "  # noqa: S608
        f"object_type, object_id, summary, payload) "
        f"SELECT %s, %s, %s, %s, 'booking_request.listed', 'bookings.bookingrequest', "
        f"{text_id}, {summary}, {payload} FROM {cases} b WHERE {where} ORDER BY b.id"
    )
    params = [
        timezone.now(),
        actor.user.pk if actor.user is not None else None,
        actor.kind.value,
        actor.detail[:64],
        origin[:100],
        listed,
        *where_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def portal_requests(*, user, status: str = "") -> QuerySet[BookingRequest]:
    """An insurer's cases for its portal list, most recently changed first.

    The list carries no patient data (Order Id, reference, services, status), so listing is
    not a read of a case and is not logged per case; opening one is.
    """
    cases = (
        booking_requests_for(user=user)
        .only(
            "order_id",
            "insurer_reference",
            "status",
            "status_changed_at",
            "urgency",
            "created_at",
        )
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .order_by("-status_changed_at", "-pk")
    )
    if status:
        cases = cases.filter(status=status)
    return cases


def portal_status_counts(*, user) -> dict[str, int]:
    """How many of the user's cases are in each state (one query)."""
    rows = booking_requests_for(user=user).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def clinic_requests_awaiting(*, user) -> QuerySet[BookingRequest]:
    """Cases waiting for dates at the clinic user's locations, oldest first. No patient data."""
    return (
        booking_requests_for(user=user)
        .filter(status=BookingStatus.AWAITING_AVAILABILITY)
        .select_related("location")
        .only(
            "order_id",
            "status",
            "status_changed_at",
            "urgency",
            "preferred_dates",
            "preferred_time_window",
            "location__name",
        )
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .order_by("status_changed_at", "pk")
    )


def clinic_appointments(
    *,
    user,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: tuple[str, ...] = ("booked",),
    origin: str = "",
    listed: str = "clinic",
    limit: int = 500,
) -> list:
    """The appointments at the clinic user's locations starting in [start, end) (either may be
    open), in `statuses`, soonest first, with the case, its patient and services.

    The clinic home lists them day by day (its week) and, below, the past ones still waiting
    for an outcome. The list names each patient, so each case shown is logged as read, exactly
    as `booking_request_get` logs it (one access record per case shown); every read is one
    query for all of them. The paperwork of all of them is added in a constant number of
    queries by `documents.selectors.paperwork_prefetch` (documents builds on bookings, not the
    reverse).
    """
    from .models import Appointment

    appointments = Appointment.objects.filter(
        status__in=statuses, request__in=booking_requests_for(user=user)
    )
    if start is not None:
        appointments = appointments.filter(starts_at__gte=start)
    if end is not None:
        appointments = appointments.filter(starts_at__lt=end)
    appointments = list(
        appointments.select_related("request__patient", "location")
        .prefetch_related(
            Prefetch(
                "request__services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            ),
        )
        .order_by("starts_at", "pk")[:limit]
    )
    actor = actor_for(user)
    for appointment in appointments:
        case = appointment.request
        audit_record(
            actor=actor,
            action="booking_request.viewed",
            obj=case,
            summary=f"{case.order_id} viewed",
            payload={"patient_id": case.patient_id, "origin": origin[:100], "list": listed},
        )
    return appointments


def clinic_zone_for_user(*, user):
    """The wall clock a clinic's days are counted in: its (first) location's zone, else the
    site's. A clinic organisation's locations are in one province in practice."""
    location = (
        Location.objects.filter(partner__organisation_id=user.organisation_id, is_active=True)
        .only("province")
        .order_by("pk")
        .first()
    )
    return zone_for(location) if location is not None else timezone.get_current_timezone()


def booking_request_open_offer(*, case: BookingRequest) -> AvailabilityOffer | None:
    """The offer waiting for the insurer's answer, with its slots and clinic, or None."""
    from .models import OfferStatus

    return (
        case.offers.filter(status=OfferStatus.OPEN)
        .select_related("location")
        .prefetch_related(Prefetch("slots", queryset=OfferSlot.objects.order_by("starts_at")))
        .order_by("-created_at")
        .first()
    )


def booking_request_current_appointment(*, case: BookingRequest):
    """The appointment that stands (booked), or None."""
    from .models import AppointmentStatus

    return (
        case.appointments.filter(status=AppointmentStatus.BOOKED)
        .select_related("location")
        .order_by("-starts_at")
        .first()
    )


def offer_link_target(*, kind: str, pk: int) -> OfferSlot | AvailabilityOffer:
    """What a signed email link names: a slot to approve, or an offer to decline.

    The link page is for whoever holds the link (no login), so it shows no patient data: the
    Order Id, the insurer's reference, the dates and the clinic.
    """
    if kind == "approve":
        found = (
            OfferSlot.objects.select_related("offer__request", "offer__location")
            .filter(pk=pk)
            .first()
        )
    else:
        found = (
            AvailabilityOffer.objects.select_related("request", "location")
            .prefetch_related(Prefetch("slots", queryset=OfferSlot.objects.order_by("starts_at")))
            .filter(pk=pk)
            .first()
        )
    if found is None:
        raise NotFound("offer_link_target_missing", gettext("These dates no longer exist."))
    return found


def clinic_link_target(*, case_id: int) -> BookingRequest:
    """The case a clinic's signed link names, with what its page shows (no scoping by user:
    the link is the credential, checked by the page with `links.clinic_link_current`)."""
    case = (
        BookingRequest.objects.select_related("patient", "location__partner")
        .prefetch_related(
            Prefetch(
                "services",
                queryset=Service.objects.only("code", "name_en", "name_fr").order_by("code"),
            )
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("clinic_link_target_missing", gettext("This request no longer exists."))
    return case


def clinic_link_case_read(
    *, case: BookingRequest, actor, location_id: int, since: str, origin: str = ""
) -> bool:
    """Record that whoever holds the clinic's link read the case's patient data on its page
    (only while the link stands: a stale link's page shows none). True when recorded."""
    if not clinic_link_current(case, location_id=location_id, since=since):
        return False
    audit_record(
        actor=actor,
        action="booking_request.viewed",
        obj=case,
        summary=f"{case.order_id} viewed",
        payload={
            "patient_id": case.patient_id,
            "origin": origin[:100],
            "location_id": location_id,
            "list": "clinic_link",
        },
    )
    return True


@dataclass(frozen=True)
class ClinicDecline:
    location_id: int
    location: str
    at: dt.datetime
    note: str


def clinic_declines(*, case: BookingRequest) -> dict[int, ClinicDecline]:
    """The clinics that said they cannot offer dates for this case, by location id (the last
    time each said so): the staff case page marks them in its list of clinics."""
    declines: dict[int, ClinicDecline] = {}
    for event in case.events.filter(kind="clinic_decline").order_by("occurred_at", "pk"):
        location_id = (event.payload or {}).get("location_id")
        if location_id:
            declines[location_id] = ClinicDecline(
                location_id, event.payload.get("location", ""), event.occurred_at, event.note
            )
    return declines


def clinic_request_pending(*, case: BookingRequest) -> BookingEvent | None:
    """The clinic's request about the booked appointment (reschedule, cannot take place) that
    waits for the booking team: made since the case was booked; staff answer it by
    rescheduling or cancelling, which moves the case on."""
    if case.status != BookingStatus.BOOKED:
        return None
    return (
        case.events.filter(kind__in=list(CLINIC_REQUESTS), occurred_at__gte=case.status_changed_at)
        .order_by("-occurred_at", "-pk")
        .first()
    )


def clinic_reminded(*, case: BookingRequest) -> BookingEvent | None:
    """The reminder sent to the clinic for the dates the case waits for now, if any."""
    if case.status != BookingStatus.AWAITING_AVAILABILITY:
        return None
    return (
        case.events.filter(kind="clinic_reminded", occurred_at__gte=case.status_changed_at)
        .order_by("-occurred_at", "-pk")
        .first()
    )


def booking_request_reads(*, cases, limit: int = 1000) -> list:
    """The recorded reads of these cases (`booking_request.*` audit events written by
    `booking_request_get` and the clinic list), newest first, with who read them."""
    from medworks.core.models import AuditEvent

    return list(
        AuditEvent.objects.filter(
            object_type=BookingRequest._meta.label_lower,
            object_id__in=[str(case.pk) for case in cases],
            action__startswith="booking_request.",
        ).select_related("actor__organisation")[:limit]
    )


# Who acted, in the insurer's words.
_PARTY_WORDS = {
    "staff": _("MedWorks"),
    "insurer": _("your team"),
    "signed_link": _("your team (email link)"),
    "clinic": _("the clinic"),
}


@dataclass(frozen=True)
class InsurerTimelineEntry:
    kind: str
    from_status: str
    to_status: str
    at: dt.datetime
    label: str
    by: str  # "MedWorks", "your team", "the clinic", or ""
    note: str


def insurer_timeline(*, case: BookingRequest) -> list[InsurerTimelineEntry]:
    """The case's events as its insurer may read them: the kinds CASE_EVENTS gives insurer
    words (bookings/events.py says what is left out, and why)."""
    rows = []
    for event in case.events.order_by("occurred_at", "pk"):
        kind = CASE_EVENTS.get(event.kind)
        payload = event.payload or {}
        label = kind.insurer_label(payload) if kind is not None else None
        if label is None:
            continue
        show_note = kind.insurer_sees_note
        rows.append(
            InsurerTimelineEntry(
                kind=event.kind,
                from_status=event.from_status,
                to_status=event.to_status,
                at=event.occurred_at,
                label=label,
                by=str(_PARTY_WORDS.get(payload.get("party", ""), "")),
                note=event.note if show_note else "",
            )
        )
    return rows


# --- Choosing a clinic --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClinicChoice:
    origin: object  # where the patient is (network.matching's origin)
    max_minutes: int  # the designated service area
    matches: list  # network.matching matches, best first, one per location
    single_service: bool
    complete: frozenset[int]  # the locations offering every requested service

    @property
    def any_within(self) -> bool:
        return any(m.within_area for m in self.matches)


@dataclass(frozen=True)
class ClinicChoices:
    result: ClinicChoice | None
    error: str = ""


def clinic_choices(*, case: BookingRequest, services: list[Service]) -> ClinicChoices:
    """The clinics near the patient for each requested service, merged by location, best first.

    A location near for one service but lacking another is still listed (`complete` tells
    which offer all), so the agent sees why the nearest clinic is not offered. The staff case
    page reads it; the API can share it.
    """
    from medworks.accounts.selectors import service_area_minutes_of
    from medworks.network.matching import match_clinics

    if not services:
        return ClinicChoices(None, gettext("The request names no service."))
    best: dict[int, object] = {}
    result = None
    try:
        for service in services:
            result = match_clinics(
                postal_code=case.patient.postal_code,
                service=service,
                max_minutes=service_area_minutes_of(case.insurer),
            )
            for match in result.matches:
                known = best.get(match.location_id)
                if known is None or match.rank_key < known.rank_key:
                    best[match.location_id] = match
    except DomainError as exc:
        return ClinicChoices(None, exc.message)
    ranked = sorted(best.values(), key=lambda m: (m.rank_key, m.location_id))
    complete = locations_offering_all(
        location_ids=[m.location_id for m in ranked], service_ids=[s.pk for s in services]
    )
    return ClinicChoices(
        ClinicChoice(
            result.origin, result.max_minutes, ranked, len(services) == 1, frozenset(complete)
        )
    )


def clinic_zone(*, case: BookingRequest):
    """The time zone of the case's clinic (its wall clock: dates are given and printed in it),
    or None before a clinic is chosen."""
    return zone_for(case.location) if case.location_id else None
