"""Find the clinics nearest (by estimated drive time) to a patient, for one service.

`match_clinics()` is the one entry point; pages, the JSON API and the `match` command call it.
It ranks the active offerings of active locations of active partners by estimated drive
minutes (then road distance, then offering id, so the order is total and repeatable), flags
each as within the service area or not, and when none is within still returns the nearest
ones, so the caller can escalate (SOP case 2).

The spatial search reads only nearby rows. It queries boxes around the patient, each
restricted to the 0.5 degree grid cells it touches (Location.geo_cell, indexed together with
latitude and longitude) and to the box itself, skipping the box already read. The first box
is 2 km; while fewer than `limit` offerings are found the box grows by what is missing (1.5x to
4x). Once `limit` are held, the estimator's lower bound of drive minutes (`min_minutes`, a
function of straight distance) tells how far away something would have to be to be worse than
the last one kept: the next box goes straight to that radius, and the search stops when nothing
outside the box can enter the list. So the result equals a scan of every location (the tests
check this against a brute-force scan), while a query typically reads a few dozen rows in 2-4
queries. Past 400 km one last query reads all the rest (a remote patient, a rare service).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection

from medworks.core.errors import DomainError

from . import geo
from .drivetime import DriveTimeEstimator, get_estimator
from .geo import EARTH_RADIUS_KM, GeoPoint
from .models import AffiliatePartner, Location, Offering, Service
from .selectors import service_resolve

# The first box's half-size in km: a downtown has hundreds of clinics within 2 km.
FIRST_RADIUS_KM = 2.0
# While fewer than `limit` are found the box grows by 1.5x to 4x (by what is missing).
MIN_GROWTH, MAX_GROWTH = 1.5, 4.0
# Beyond this half-size (km) one last query reads everything not read yet.
MAX_RADIUS_KM = 400.0
MAX_LIMIT = 100
KM_PER_DEG_LAT = math.pi / 180.0 * EARTH_RADIUS_KM


@dataclass(frozen=True)
class Match:
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
    distance_km: float  # estimated road distance
    drive_minutes: int  # estimated, approximate
    within_area: bool
    price: Decimal | None
    geo_precision: str


@dataclass(frozen=True)
class MatchResult:
    origin: GeoPoint
    service: Service
    max_minutes: int
    matches: list[Match]

    @property
    def any_within(self) -> bool:
        return any(m.within_area for m in self.matches)


def origin_resolve(*, postal_code: str) -> GeoPoint:
    """A postal code, or an address containing one, geocoded; DomainError when neither works."""
    text = (postal_code or "").strip()
    if not text:
        raise DomainError(
            "postal_code_invalid",
            "Give the patient's postal code (A1A 1A1).",
            fields={"postal_code": ["Give the patient's postal code (A1A 1A1)."]},
        )
    try:
        code = geo.normalize_postal_code(text)
    except ValueError as exc:
        found = geo.extract_postal_code(text)
        if found is None:
            message = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
            raise DomainError(
                "postal_code_invalid", message, fields={"postal_code": [message]}
            ) from None
        code = found
    try:
        return geo.geocode(code)
    except geo.PostalCodeInvalid as exc:
        message = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        raise DomainError(
            "postal_code_invalid", message, fields={"postal_code": [message]}
        ) from None
    except geo.PostalCodeUnknown as exc:
        message = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        raise DomainError(
            "postal_code_unknown", message, fields={"postal_code": [message]}
        ) from None


def _service(service: Service | str) -> Service:
    if isinstance(service, Service):
        return service
    try:
        return service_resolve(name_or_code=service)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, fields={"service": [exc.message]}) from None


def _outside_bound_km(
    lat: float, lon: float, lat_lo: float, lat_hi: float, half_lon: float
) -> float:
    """Least straight distance from (lat, lon) to any point outside the box.

    North/south: the meridian arc to the nearer edge. East/west: a point `half_lon` degrees of
    longitude away is at least asin(cos(lat) * sin(half_lon)) away, whatever its latitude.
    """
    ns = min(lat - lat_lo, lat_hi - lat) * KM_PER_DEG_LAT
    if half_lon >= 90.0:
        return ns
    ew = math.asin(math.cos(math.radians(lat)) * math.sin(math.radians(half_lon)))
    return min(ns, ew * EARTH_RADIUS_KM)


def _box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float, float]:
    half_lat = radius_km / KM_PER_DEG_LAT
    far_lat = min(89.0, abs(lat) + half_lat)
    half_lon = min(180.0, half_lat / math.cos(math.radians(far_lat)))
    return lat - half_lat, lat + half_lat, lon - half_lon, lon + half_lon, half_lon


def _cells(lat_lo: float, lat_hi: float, lon_lo: float, lon_hi: float) -> list[int]:
    r0 = geo.grid_cell(lat_lo, lon_lo) // 1000
    r1 = geo.grid_cell(lat_hi, lon_lo) // 1000
    c0 = geo.grid_cell(lat_lo, lon_lo) % 1000
    c1 = geo.grid_cell(lat_lo, lon_hi) % 1000
    return [r * 1000 + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


# One query per box. Written as SQL, not the ORM, for two reasons measured on 600,000
# offerings: SQLite's planner, given the ORM's INNER JOIN and six or more cells, drives the
# join from every offering of the service (20 ms) instead of from the location index
# location_geo_box (0.3 ms) - CROSS JOIN makes SQLite keep the written order, and PostgreSQL
# plans it as an ordinary join; and building a queryset costs more Python time than the query.
_BOX_SQL = """
SELECT o.id, l.latitude, l.longitude
FROM {location} l
CROSS JOIN {offering} o
CROSS JOIN {partner} p
WHERE l.geo_cell IN ({cells})
  AND l.latitude >= %s AND l.latitude <= %s
  AND l.longitude >= %s AND l.longitude <= %s
  {not_inner}
  AND l.is_active = %s
  AND o.location_id = l.id AND o.service_id = %s AND o.is_active = %s
  AND p.id = l.partner_id AND p.is_active = %s
"""
_NOT_INNER = (
    "AND NOT (l.latitude >= %s AND l.latitude <= %s AND l.longitude >= %s AND l.longitude <= %s)"
)
_REST_SQL = """
SELECT o.id, l.latitude, l.longitude
FROM {location} l
CROSS JOIN {offering} o
CROSS JOIN {partner} p
WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL
  {not_inner}
  AND l.is_active = %s
  AND o.location_id = l.id AND o.service_id = %s AND o.is_active = %s
  AND p.id = l.partner_id AND p.is_active = %s
"""
_TABLES = {
    "location": Location._meta.db_table,
    "offering": Offering._meta.db_table,
    "partner": AffiliatePartner._meta.db_table,
}


def _rows(sql: str, params: list) -> list[tuple[int, float, float]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _settling_radius_km(worst_minutes: int, min_minutes) -> float:
    """The least straight distance at which nothing can take fewer than `worst_minutes`."""
    low, high = 0.0, 1.0
    while round(min_minutes(high)) <= worst_minutes:
        low, high = high, high * 2
        if high > 50000:
            return math.inf
    for _ in range(30):  # bisection to ~1e-9 of the bracket: plenty
        mid = (low + high) / 2
        if round(min_minutes(mid)) > worst_minutes:
            high = mid
        else:
            low = mid
    return high


def _nearest(
    *, origin: GeoPoint, service: Service, limit: int, estimator: DriveTimeEstimator
) -> list[tuple[int, float, int, float]]:
    """(drive minutes, road km, offering id, straight km) of the best `limit`, best first."""
    lat, lon = origin.latitude, origin.longitude
    # A max-heap (keys negated) of the best `limit` so far: the worst kept is at [0].
    kept: list[tuple[int, float, int]] = []
    best: dict[int, tuple[int, float, int, float]] = {}
    min_minutes = estimator.min_minutes

    def consider(rows) -> None:
        for offering_id, dlat, dlon in rows:
            straight = geo.haversine_km(lat, lon, dlat, dlon)
            full = len(kept) == limit
            if full and round(min_minutes(straight)) > -kept[0][0]:
                continue  # cannot beat the worst kept, whatever the road
            est = estimator.estimate(lat, lon, dlat, dlon)
            key = (round(est.minutes), est.distance_km, offering_id)
            if not full:
                heapq.heappush(kept, (-key[0], -key[1], -key[2]))
            elif key < (-kept[0][0], -kept[0][1], -kept[0][2]):
                _, _, gone = heapq.heapreplace(kept, (-key[0], -key[1], -key[2]))
                del best[-gone]
            else:
                continue
            best[offering_id] = (*key, straight)

    flags = [True, service.id, True, True]
    inner: list[float] = []
    radius = FIRST_RADIUS_KM
    while True:
        lat_lo, lat_hi, lon_lo, lon_hi, half_lon = _box(lat, lon, radius)
        cells = _cells(lat_lo, lat_hi, lon_lo, lon_hi)
        sql = _BOX_SQL.format(
            cells=", ".join(["%s"] * len(cells)), not_inner=_NOT_INNER if inner else "", **_TABLES
        )
        held_before = len(kept)
        consider(_rows(sql, [*cells, lat_lo, lat_hi, lon_lo, lon_hi, *inner, *flags]))
        inner = [lat_lo, lat_hi, lon_lo, lon_hi]
        if len(kept) == limit:
            worst = -kept[0][0]
            if round(min_minutes(_outside_bound_km(lat, lon, lat_lo, lat_hi, half_lon))) > worst:
                break
            # Jump straight to the radius that would settle it: rows in between may still
            # improve the list, but none beyond it can.
            radius = max(radius * 1.05, _settling_radius_km(worst, min_minutes) * 1.01)
        else:
            # Too few yet: grow the box's area by about what is missing, within reason; an
            # empty ring means open country, so at least double.
            factor = math.sqrt(limit / max(1, len(kept)))
            floor = 2.0 if len(kept) == held_before else MIN_GROWTH
            radius *= min(MAX_GROWTH, max(floor, factor))
        if radius > MAX_RADIUS_KM:
            # A remote patient or a rare service: read all the rest in one go.
            rest = _REST_SQL.format(not_inner=_NOT_INNER, **_TABLES)
            consider(_rows(rest, [*inner, *flags]))
            break
    return sorted(best.values())


def match_clinics(
    *,
    postal_code: str,
    service: Service | str,
    max_minutes: int | None = None,
    limit: int = 10,
) -> MatchResult:
    """The `limit` offerings of `service` nearest by estimated drive time to a postal code.

    `postal_code` may be a whole address containing one. Raises DomainError with codes
    postal_code_invalid, postal_code_unknown, service_missing, service_unknown,
    max_minutes_invalid or limit_invalid (each with a field error).
    """
    if max_minutes is None:
        max_minutes = settings.MEDWORKS_SERVICE_AREA_MINUTES
    if isinstance(max_minutes, bool) or not isinstance(max_minutes, int) or max_minutes < 1:
        message = "The service area must be a whole number of minutes, 1 or more."
        raise DomainError("max_minutes_invalid", message, fields={"max_minutes": [message]})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        message = f"The number of clinics must be a whole number from 1 to {MAX_LIMIT}."
        raise DomainError("limit_invalid", message, fields={"limit": [message]})
    origin = origin_resolve(postal_code=postal_code)
    resolved = _service(service)

    ranked = _nearest(origin=origin, service=resolved, limit=limit, estimator=get_estimator())
    # Only the columns shown: no model instances to build for ten rows (a third of the time).
    details = {
        row[0]: row
        for row in Offering.objects.filter(id__in=[oid for _, _, oid, _ in ranked]).values_list(
            "id",
            "location_id",
            "location__partner_id",
            "location__partner__name",
            "location__name",
            "location__address",
            "location__city",
            "location__province",
            "location__postal_code",
            "clinic_price",
            "location__geo_precision",
        )
    }
    matches = []
    for minutes, road_km, offering_id, straight_km in ranked:
        (_, location_id, partner_id, partner, location, address, city, province, postal_code,
         price, precision) = details[offering_id]  # fmt: skip
        matches.append(
            Match(
                offering_id=offering_id,
                location_id=location_id,
                partner_id=partner_id,
                partner=partner,
                location=location,
                address=address,
                city=city,
                province=province,
                postal_code=postal_code,
                straight_km=round(straight_km, 1),
                distance_km=round(road_km, 1),
                drive_minutes=minutes,
                within_area=minutes <= max_minutes,
                price=price,
                geo_precision=precision,
            )
        )
    return MatchResult(origin=origin, service=resolved, max_minutes=max_minutes, matches=matches)
