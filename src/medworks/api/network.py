"""API v1: the service catalogue (staff and insurers) and clinic matching (staff).

Handlers parse, check, call, render.
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from ninja import Query, Router, Schema
from pydantic import Field

from medworks.accounts.permissions import Capability
from medworks.network.matching import MAX_LIMIT, match_clinics
from medworks.network.selectors import service_list

from .auth import require
from .errors import responses

router = Router(tags=["network"])


class ServiceOut(Schema):
    code: str
    name_en: str
    name_fr: str
    category: str


class OriginOut(Schema):
    postal_code: str
    latitude: float
    longitude: float
    precision: str = Field(description="postal_code, or fsa when the area's centre was used")
    place: str
    province: str
    note: str


class MatchOut(Schema):
    offering_id: int
    location_id: int
    partner_id: int
    partner: str
    location: str
    address: str
    city: str
    province: str
    postal_code: str
    straight_km: float
    distance_km: float | None = Field(
        description="Estimated road distance (approximate); null without road access"
    )
    drive_minutes: int | None = Field(
        description="Estimated drive time, off-peak (approximate); null without road access"
    )
    road_access: bool = Field(
        description=(
            "False when patient and clinic are not joined by a year-round road (a fly-in "
            "community on either side, e.g. anywhere in Nunavut): travel by air. Such a "
            "clinic is never within the area and is ranked after those reached by road, by "
            "straight-line distance."
        )
    )
    ferry: str | None = Field(
        None, description="The ferry crossing the drive time includes, when there is one"
    )
    within_area: bool
    price: Decimal | None = Field(description="Clinic price, CAD")
    geo_precision: str


class MatchResultOut(Schema):
    origin: OriginOut
    service: ServiceOut
    max_minutes: int
    any_within: bool = Field(description="False: no clinic within the area, escalate the case")
    drive_times_are_estimates: bool = True
    matches: list[MatchOut]


class MatchQuery(Schema):
    postal_code: str = Field(description="The patient's postal code, or an address with one")
    service: str = Field(description="A catalogue code (XRAY) or name (X-ray)")
    max_minutes: int | None = Field(
        None, ge=1, le=24 * 60, description="Service area; default the configured hour"
    )
    limit: int = Field(10, ge=1, le=MAX_LIMIT)


@router.get(
    "/services",
    response={200: list[ServiceOut], **responses(401, 403, 500)},
    summary="The active service catalogue",
    description=(
        "Codes and names only (no clinic or price). Staff, and insurers (API key or portal "
        "session), who name these codes in `services` when they submit a booking request."
    ),
)
def services(request):
    # An insurer needs the codes to submit a request (BOOKING_SUBMIT); matching stays staff-only.
    require(request, Capability.DIRECTORY_VIEW, Capability.BOOKING_SUBMIT)
    return list(service_list())


@router.get(
    "/matches",
    response={200: MatchResultOut, **responses(401, 403, 422, 500)},
    summary="Clinics nearest a postal code for a service, by approximate drive time",
)
def matches(request, query: Query[MatchQuery]):
    require(request, Capability.MATCH_CLINICS)
    result = match_clinics(
        postal_code=query.postal_code,
        service=query.service,
        max_minutes=query.max_minutes,
        limit=query.limit,
    )
    return {
        "origin": result.origin,
        "service": result.service,
        "max_minutes": result.max_minutes,
        "any_within": result.any_within,
        "matches": [asdict(match) | {"ferry": match.ferry or None} for match in result.matches],
    }
