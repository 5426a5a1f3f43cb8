"""API v1: booking requests for insurers' systems. Handlers parse, check, call, render.

An insurer's key sees only its own cases (another insurer's Order Id is 404, so its existence is
not disclosed); staff sessions may read every case. Each read of one case goes through
`bookings.selectors.booking_request_get`, which records who read it. What a case shows here is
what the insurer may see: status, its own timeline (no staff-internal notes or payloads), the
dates offered and the appointment. Patient details are not echoed back: the caller sent them.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Header, Query, Router, Schema, Status
from pydantic import ConfigDict, Field, WithJsonSchema, field_validator

from medworks.accounts.permissions import Capability, user_can
from medworks.accounts.services import ApiClient
from medworks.bookings import selectors
from medworks.bookings import workflow as booking_workflow
from medworks.bookings.forms import MAX_PREFERRED_DATES, MAX_SERVICES, BookingRequestForm
from medworks.bookings.idempotency import MAX_KEY_LENGTH, booking_request_submit_once
from medworks.bookings.models import (
    AppointmentStatus,
    BookingRequest,
    BookingStatus,
    Channel,
    OfferSlot,
    OfferStatus,
    SlotStatus,
)
from medworks.bookings.services import (
    availability_offer_approve,
    availability_offer_decline,
    booking_request_cancel,
    booking_request_submit,
)
from medworks.core.errors import DomainError, NotFound

from .auth import actor_of, require
from .errors import ErrorOut, responses
from .parser import no_booleans

router = Router(tags=["booking requests"])

PAGE_SIZE = 50


EXAMPLE_REQUEST = {
    "insurer_reference": "CLM-2026-55120",
    "policy_number": "POL-778812",
    "insurer_contact_name": "Ines Adjuster",
    "insurer_contact_email": "adjuster@maple-assist.example",
    "insurer_contact_phone": "416-555-0100",
    "patient_first_name": "Jean",
    "patient_last_name": "Tremblay",
    "patient_date_of_birth": "1980-04-12",
    "patient_phone": "416-555-0199",
    "patient_email": "jean.tremblay@example.com",
    "patient_address": "300 Front Street West",
    "patient_city": "Toronto",
    "patient_province": "ON",
    "patient_postal_code": "M5V 3L9",
    "patient_language": "fr",
    "services": ["XRAY"],
    "symptoms": "Pain in the left wrist after a fall.",
    "summary": "Wrist X-ray, two views.",
    "preferred_dates": ["2026-12-14", "2026-12-15"],
    "preferred_time_window": "morning",
    "scheduling_notes": "Not before 9:30.",
    "urgency": "soon",
    "paperwork_required": False,
    "results_delivery": "direct_to_patient",
    "notify_patient": True,
}


# --- schemas ----------------------------------------------------------------------------------


def _limit(name: str) -> int | None:
    """The form's max length of a field: the API documents the rule the form applies."""
    return BookingRequestForm.base_fields[name].max_length


class BookingRequestIn(Schema):
    """The fields of the portal's request form (bookings.forms.BookingRequestForm), with its
    limits: the form checks them again, whatever the door."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_REQUEST]})

    insurer_reference: str = Field(
        description="Your case / claim reference", max_length=_limit("insurer_reference")
    )
    policy_number: str = Field("", max_length=_limit("policy_number"))
    insurer_contact_name: str = Field(max_length=_limit("insurer_contact_name"))
    insurer_contact_email: str = Field(max_length=_limit("insurer_contact_email"))
    insurer_contact_phone: str = Field("", max_length=_limit("insurer_contact_phone"))
    patient_first_name: str = Field(max_length=_limit("patient_first_name"))
    patient_last_name: str = Field(max_length=_limit("patient_last_name"))
    patient_date_of_birth: str = Field(description="YYYY-MM-DD", max_length=40)
    patient_phone: str = Field("", max_length=_limit("patient_phone"))
    patient_email: str = Field("", max_length=_limit("patient_email"))
    patient_address: str = Field(max_length=_limit("patient_address"))
    patient_city: str = Field(max_length=_limit("patient_city"))
    patient_province: str = Field(
        "", description="Two letters (ON); from the postal code if empty", max_length=2
    )
    patient_postal_code: str = Field(
        description="Canadian postal code, A1A 1A1", max_length=_limit("patient_postal_code")
    )
    patient_language: str = Field("en", description="en or fr", max_length=2)
    patient_needs_wheelchair_access: bool = Field(
        False, description="The clinic must be wheelchair accessible"
    )
    services: list[str | int] = Field(
        description="Catalogue codes (XRAY) or names (X-ray); see GET /api/v1/services",
        min_length=1,
        max_length=MAX_SERVICES,
    )
    symptoms: str = Field("", max_length=_limit("symptoms"))
    summary: str = Field("", description="What is required", max_length=_limit("summary"))
    preferred_dates: list[str] = Field(
        default_factory=list,
        description="ISO dates, YYYY-MM-DD, from today to two years ahead",
        max_length=MAX_PREFERRED_DATES,
    )
    preferred_time_window: str = Field(
        "any", description="any, morning, afternoon or evening", max_length=20
    )
    scheduling_notes: str = Field("", max_length=_limit("scheduling_notes"))
    urgency: str = Field("routine", description="routine, soon or urgent", max_length=20)
    paperwork_required: bool = Field(False, description="Paperwork or a GOP comes with the case")
    results_delivery: str = Field(
        "direct_to_patient", description="direct_to_patient or via_paperwork", max_length=40
    )
    notify_patient: bool = Field(False, description="MedWorks may send the patient confirmations")

    _services_no_booleans = field_validator("services", mode="before")(no_booleans)


class LinksOut(Schema):
    self: str


class BookingRequestOut(Schema):
    order_id: str = Field(examples=["MW-2026-000123"])
    status: str = Field(examples=["received"])
    status_label: str = Field(examples=["Received"])
    created_at: dt.datetime
    insurer_reference: str
    links: LinksOut


class EventOut(Schema):
    kind: str = Field(examples=["decline_dates"])
    label: str = Field(examples=["Dates declined"], description="The event in words")
    from_status: str
    to_status: str
    at: dt.datetime
    note: str


class LocationOut(Schema):
    name: str
    address: str
    city: str
    province: str
    postal_code: str
    phone: str


class SlotOut(Schema):
    id: int
    starts_at: dt.datetime
    duration_minutes: int
    practitioner: str
    expires_at: dt.datetime = Field(description="The clinic holds the date until then")
    available: bool


class OfferOut(Schema):
    id: int
    created_at: dt.datetime
    location: LocationOut
    slots: list[SlotOut]


class AppointmentOut(Schema):
    starts_at: dt.datetime
    duration_minutes: int
    practitioner: str
    status: str
    location: LocationOut


class ActionOut(Schema):
    name: str = Field(examples=["cancel"], description="The workflow step")
    label: str = Field(examples=["Cancel"])
    allowed: bool = Field(description="Whether you may take it now")
    reason: str = Field(description="Why not now, when not allowed")
    needs_note: bool = Field(description="The step needs a note saying why")


class BookingRequestDetailOut(BookingRequestOut):
    status_changed_at: dt.datetime
    services: list[str] = Field(description="Catalogue codes")
    timeline: list[EventOut]
    open_offer: OfferOut | None = Field(description="Dates waiting for your approval")
    appointment: AppointmentOut | None
    actions: list[ActionOut] = Field(
        description="The steps you may take on this case now (from its workflow), with why not"
    )


class BookingRequestPageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[BookingRequestOut]


class ListQuery(Schema):
    status: BookingStatus | None = None
    page: int = Field(1, ge=1)


class ApproveIn(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"slot_id": 41}]})
    slot_id: int = Field(ge=1, le=2**63 - 1)

    _no_booleans = field_validator("slot_id", mode="before")(no_booleans)


class NoteIn(Schema):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "The patient is travelling that week."}]}
    )
    note: str = Field(min_length=1, max_length=2000)


# Besides its success, what an operation can answer (every one in errors.ErrorOut's shape):
# reading one case, and acting on one (a conflict with its state, an oversize or refused body).
ERRORS = responses(401, 403, 404, 500)
WRITE_ERRORS = responses(401, 403, 404, 409, 413, 422, 500)
__all__ = ["ERRORS", "WRITE_ERRORS", "ErrorOut"]


# --- rendering --------------------------------------------------------------------------------


def _link(case: BookingRequest) -> dict:
    return {"self": reverse("api-v1:booking_request_detail", args=[case.order_id])}


def _summary(case: BookingRequest) -> dict:
    return {
        "order_id": case.order_id,
        "status": case.status,
        "status_label": case.get_status_display(),
        "created_at": case.created_at,
        "insurer_reference": case.insurer_reference,
        "links": _link(case),
    }


def _location(location) -> dict:
    return {
        "name": location.name,
        "address": location.address,
        "city": location.city,
        "province": location.province,
        "postal_code": location.postal_code,
        "phone": location.phone,
    }


def _detail(request, case: BookingRequest) -> dict:
    """The caller's view of a case already read through booking_request_get."""
    events = [
        {
            "kind": entry.kind,
            "label": entry.label,
            "from_status": entry.from_status,
            "to_status": entry.to_status,
            "at": entry.at,
            "note": entry.note,
        }
        for entry in selectors.insurer_timeline(case=case)
    ]
    offer = (
        case.offers.filter(status=OfferStatus.OPEN)
        .select_related("location")
        .order_by("-created_at")
        .first()
    )
    open_offer = None
    if offer is not None:
        open_offer = {
            "id": offer.pk,
            "created_at": offer.created_at,
            "location": _location(offer.location),
            "slots": [
                {
                    "id": slot.pk,
                    "starts_at": slot.starts_at,
                    "duration_minutes": slot.duration_minutes,
                    "practitioner": slot.practitioner,
                    "expires_at": slot.expires_at,
                    "available": slot.is_available(),
                }
                for slot in offer.slots.order_by("starts_at")
            ],
        }
    appointment = (
        case.appointments.exclude(status=AppointmentStatus.RESCHEDULED)
        .select_related("location")
        .order_by("-created_at")
        .first()
    )
    return {
        **_summary(case),
        "status_changed_at": case.status_changed_at,
        "services": sorted(case.services.values_list("code", flat=True)),
        "timeline": events,
        "open_offer": open_offer,
        "actions": [
            {
                "name": move.name,
                "label": str(move.label),
                "allowed": move.allowed,
                "reason": move.reason or "",
                "needs_note": move.transition.needs_note,
            }
            for move in booking_workflow.moves(case, actor_of(request))
        ],
        "appointment": None
        if appointment is None
        else {
            "starts_at": appointment.starts_at,
            "duration_minutes": appointment.duration_minutes,
            "practitioner": appointment.practitioner,
            "status": appointment.status,
            "location": _location(appointment.location),
        },
    }


def _origin(request) -> str:
    auth = request.auth
    return f"api key {auth.api_key.prefix}" if isinstance(auth, ApiClient) else "api"


def _case(request, order_id: str) -> BookingRequest:
    return selectors.booking_request_get(
        user=request.auth, order_id=order_id, origin=_origin(request)
    )


def _reload(case: BookingRequest) -> BookingRequest:
    case.refresh_from_db(fields=["status", "status_changed_at"])
    return case


def require_reader(request) -> None:
    """Insurers (keys and portal users) read their own cases; staff read every case."""
    if user_can(request.auth, Capability.BOOKING_VIEW):
        return
    require(request, Capability.INSURER_PORTAL)


# The key's rule as the schema says it, checked by the domain (422 `idempotency_key_invalid`,
# its own code): 1 to 200 characters, not blank.
IdempotencyKey = Annotated[
    str | None,
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"}
    ),
]


# --- endpoints --------------------------------------------------------------------------------


@router.post(
    "/booking-requests",
    response={
        201: BookingRequestOut,
        200: BookingRequestOut,
        **responses(401, 403, 413, 422, 500),
    },
    summary="Submit a booking request",
    description=(
        "Creates a case (201). Send an `Idempotency-Key` (any unique string up to 200 "
        "characters, e.g. a UUID) so that a retry of the same request returns the case it "
        "created (200) instead of creating a second one; the same key with a different body "
        "is refused (422, code `idempotency_key_reused`). Field errors: 422 with `fields`."
    ),
)
def booking_request_create(
    request,
    payload: BookingRequestIn,
    idempotency_key: IdempotencyKey = Header(  # noqa: B008 (Ninja's way to declare a header)
        None,
        alias="Idempotency-Key",
        description="Makes retries safe: the same key and body return the same case",
    ),
):
    require(request, Capability.BOOKING_SUBMIT)
    insurer = request.auth.organisation
    data = payload.model_dump(mode="json")
    if idempotency_key is None:
        case = booking_request_submit(
            insurer=insurer, data=data, actor=actor_of(request), channel=Channel.API
        )
        return Status(201, _summary(case))
    case, created = booking_request_submit_once(
        insurer=insurer,
        data=data,
        idempotency_key=idempotency_key,
        actor=actor_of(request),
        channel=Channel.API,
    )
    return Status(201 if created else 200, _summary(case))


@router.get(
    "/booking-requests",
    response={200: BookingRequestPageOut, **responses(401, 403, 422, 500)},
    summary="Your booking requests, newest first",
)
def booking_request_list(request, query: Query[ListQuery]):
    require_reader(request)
    cases = selectors.booking_requests_for(user=request.auth).only(
        "order_id", "status", "created_at", "insurer_reference"
    )
    if query.status:
        cases = cases.filter(status=query.status)
    count = cases.count()
    pages = max(1, math.ceil(count / PAGE_SIZE))
    start = (query.page - 1) * PAGE_SIZE
    # A page past the last is empty; never an offset past what the database takes (a 500).
    rows = cases.order_by("-created_at", "-pk")[start : start + PAGE_SIZE] if start < count else []
    return {
        "count": count,
        "page": query.page,
        "pages": pages,
        "results": [_summary(case) for case in rows],
    }


@router.get(
    "/booking-requests/{order_id}",
    response={200: BookingRequestDetailOut, **ERRORS},
    url_name="booking_request_detail",
    summary="A booking request: status, timeline, dates offered, appointment",
)
def booking_request_detail(request, order_id: str):
    require_reader(request)
    return _detail(request, _case(request, order_id))


@router.post(
    "/booking-requests/{order_id}/offers/approve",
    response={200: BookingRequestDetailOut, **WRITE_ERRORS},
    summary="Approve one of the offered dates: the case is booked",
    description="An expired date, or one no longer open, is refused with 409.",
)
def booking_request_offer_approve(request, order_id: str, payload: ApproveIn):
    require(request, Capability.BOOKING_SUBMIT)
    case = _case(request, order_id)
    # Only a date offered on this very case: a slot id of another case is not found.
    slot = OfferSlot.objects.filter(pk=payload.slot_id, offer__request=case).first()
    if slot is None:
        raise NotFound(
            "slot_not_found",
            _("No offered date %(slot)s on %(order)s.")
            % {"slot": payload.slot_id, "order": order_id},
        )
    if slot.status == SlotStatus.OPEN and not slot.is_available():
        raise DomainError("slot_expired", _("The clinic no longer holds this date."))
    availability_offer_approve(slot=slot, actor=actor_of(request))
    return _detail(request, _reload(case))


@router.post(
    "/booking-requests/{order_id}/offers/decline",
    response={200: BookingRequestDetailOut, **WRITE_ERRORS},
    summary="Decline every offered date, saying why: MedWorks looks again",
)
def booking_request_offer_decline(request, order_id: str, payload: NoteIn):
    require(request, Capability.BOOKING_SUBMIT)
    case = _case(request, order_id)
    availability_offer_decline(case=case, actor=actor_of(request), note=payload.note)
    return _detail(request, _reload(case))


@router.post(
    "/booking-requests/{order_id}/cancel",
    response={200: BookingRequestDetailOut, **WRITE_ERRORS},
    summary="Cancel a booking request, saying why",
)
def booking_request_cancel_endpoint(request, order_id: str, payload: NoteIn):
    require(request, Capability.BOOKING_SUBMIT)
    case = _case(request, order_id)
    booking_request_cancel(
        case=case,
        actor=actor_of(request),
        cancelled_by="insurer",
        note=payload.note,
    )
    return _detail(request, _reload(case))
