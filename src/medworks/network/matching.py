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

Places without a road (road_access.py): a clinic that the patient cannot reach by a
year-round road (either is in a fly-in community, and not the same one) has no drive time
(`drive_minutes` and `distance_km` None), is never within the service area, and is ranked
after every clinic reached by road, by straight-line distance. The ranking key is therefore
(0, minutes, road km, offering id) for a road pair and (1, straight km, 0, offering id) for
the others; the search's lower bound follows: from a patient on the road network, a clinic
farther than d is at best (0, min_minutes(d)); from a patient in a fly-in community, the
clinics of that community are read up front (one query on its FSAs), and every other clinic
farther than d is at best (1, d).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from medworks.core.errors import DomainError

from . import geo, road_access
from .drivetime import FERRY_NAMES, DriveTimeEstimator, ferry_crossings, get_estimator
from .geo import EARTH_RADIUS_KM, GeoPoint
from .models import AffiliatePartner, Location, Offering, Service
from .road_access import Community
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
    distance_km: float | None  # estimated road distance; None without road access
    drive_minutes: int | None  # estimated, approximate; None without road access
    within_area: bool  # never without road access
    price: Decimal | None
    geo_precision: str
    road_access: bool = True  # False: no year-round road between patient and clinic
    ferry: str = ""  # the ferry crossing the estimate includes, named; "" when none

    @property
    def rank_key(self) -> tuple:
        """The order matching ranks by (road first by minutes, then the rest by straight km).

        For merging several results (e.g. one per service): sort or compare by this, never
        by drive_minutes alone, which is None without road access.
        """
        if self.road_access:
            return (0, self.drive_minutes, self.distance_km, self.offering_id)
        return (1, self.straight_km, 0.0, self.offering_id)


@dataclass(frozen=True)
class MatchResult:
    origin: GeoPoint
    service: Service
    max_minutes: int
    matches: list[Match]
    # The patient's community when it has no year-round road to the rest of the network.
    origin_community: Community | None = None

    @property
    def any_within(self) -> bool:
        return any(m.within_area for m in self.matches)

    @property
    def origin_road_access(self) -> bool:
        return self.origin_community is None


def origin_resolve(*, postal_code: str) -> GeoPoint:
    """A postal code, or an address containing one, geocoded; DomainError when neither works."""
    text = (postal_code or "").strip()
    if not text:
        message = _("Give the patient's postal code (A1A 1A1).")
        raise DomainError("postal_code_invalid", message, fields={"postal_code": [message]})
    try:
        code = geo.normalize_postal_code(text)
    except ValueError as exc:
        found = geo.extract_postal_code(text)
        if found is None:
            message = geo.sentence_of(exc)
            raise DomainError(
                "postal_code_invalid", message, fields={"postal_code": [message]}
            ) from None
        code = found
    try:
        return geo.geocode(code)
    except geo.PostalCodeInvalid as exc:
        message = geo.sentence_of(exc)
        raise DomainError(
            "postal_code_invalid", message, fields={"postal_code": [message]}
        ) from None
    except geo.PostalCodeUnknown as exc:
        message = geo.sentence_of(exc)
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
SELECT o.id, l.latitude, l.longitude, l.postal_code
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
SELECT o.id, l.latitude, l.longitude, l.postal_code
FROM {location} l
CROSS JOIN {offering} o
CROSS JOIN {partner} p
WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL
  {not_inner}
  AND l.is_active = %s
  AND o.location_id = l.id AND o.service_id = %s AND o.is_active = %s
  AND p.id = l.partner_id AND p.is_active = %s
"""
# A patient in a fly-in community: every clinic whose postal code is in one of the community's
# FSAs (those of the same community, reached by road, are among them), read first.
_FSA_SQL = """
SELECT o.id, l.latitude, l.longitude, l.postal_code
FROM {location} l
CROSS JOIN {offering} o
CROSS JOIN {partner} p
WHERE l.latitude IS NOT NULL AND l.longitude IS NOT NULL
  AND ({fsas})
  AND l.is_active = %s
  AND o.location_id = l.id AND o.service_id = %s AND o.is_active = %s
  AND p.id = l.partner_id AND p.is_active = %s
"""
_TABLES = {
    "location": Location._meta.db_table,
    "offering": Offering._meta.db_table,
    "partner": AffiliatePartner._meta.db_table,
}


def _rows(sql: str, params: list) -> list[tuple[int, float, float, str]]:
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
    for _step in range(30):  # bisection to ~1e-9 of the bracket: plenty
        mid = (low + high) / 2
        if round(min_minutes(mid)) > worst_minutes:
            high = mid
        else:
            low = mid
    return high


@lru_cache(maxsize=65536)
def _place(postal_code: str) -> tuple[str | None, Community | None]:
    """A stored postal code, normalised, and its community without road (None: on the road
    network). A malformed stored code is matched as on the road network. Cached: every row
    a search reads asks."""
    try:
        code = geo.normalize_postal_code(postal_code)
    except ValueError:
        return None, None
    return code, road_access.community_for_postal_code(code)


def _nearest(
    *,
    origin: GeoPoint,
    service: Service,
    limit: int,
    estimator: DriveTimeEstimator,
    origin_community: Community | None,
) -> list[tuple[tuple, float, bool]]:
    """(ranking key, straight km, road access) of the best `limit`, best first.

    The key is (0, minutes, road km, offering id) for a clinic reached by road and
    (1, straight km, 0.0, offering id) for one that is not.
    """
    lat, lon = origin.latitude, origin.longitude
    # A max-heap (keys negated) of the best `limit` so far: the worst kept is at [0].
    kept: list[tuple] = []
    best: dict[int, tuple[tuple, float, bool]] = {}
    min_minutes = estimator.min_minutes
    origin_code = _place(origin.postal_code)[0]
    read_first: set[int] = set()

    def road_bound(straight_km: float) -> tuple:
        # Least key of anything this far: a road trip of at least min_minutes.
        return (0, round(min_minutes(straight_km)))

    def air_bound(straight_km: float) -> tuple:
        # From a fly-in community, once its own clinics (read first) are in: no road.
        return (1, straight_km)

    bound = road_bound if origin_community is None else air_bound

    def worst() -> tuple:
        w = kept[0]
        return (-w[0], -w[1], -w[2], -w[3])

    def consider(rows, *, first: bool = False) -> None:
        # The bound (see `bound`), inlined: this loop runs for every row read. Rows read
        # first (the fly-in community's FSAs) may be reached by road: the road bound.
        air = origin_community is not None and not first
        for offering_id, dlat, dlon, postal_code in rows:
            if first:
                read_first.add(offering_id)
            elif read_first and offering_id in read_first:
                continue
            straight = geo.haversine_km(lat, lon, dlat, dlon)
            full = len(kept) == limit
            if full:
                w_tier, w_primary = -kept[0][0], -kept[0][1]
                if air:
                    if w_tier == 0 or straight > w_primary:
                        continue  # (1, straight) cannot beat the worst kept
                elif w_tier == 0 and round(min_minutes(straight)) > w_primary:
                    continue  # cannot beat the worst kept, whatever the road
            code, community = _place(postal_code)
            if community is None and origin_community is None:
                reached = True
            else:
                reached = road_access.connected(
                    origin_community, community, code_a=origin_code, code_b=code
                )
            if reached:
                est = estimator.estimate(lat, lon, dlat, dlon)
                key = (0, round(est.minutes), est.distance_km, offering_id)
            else:
                key = (1, straight, 0.0, offering_id)
            negated = (-key[0], -key[1], -key[2], -offering_id)
            if not full:
                heapq.heappush(kept, negated)
            elif key < worst():
                gone = heapq.heapreplace(kept, negated)
                del best[-gone[3]]
            else:
                continue
            best[offering_id] = (key, straight, reached)

    flags = [True, service.id, True, True]
    if origin_community is not None:
        fsas = sorted(origin_community.fsas)
        sql = _FSA_SQL.format(
            fsas=" OR ".join(["UPPER(l.postal_code) LIKE %s"] * len(fsas)), **_TABLES
        )
        consider(_rows(sql, [*(f"{fsa}%" for fsa in fsas), *flags]), first=True)
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
            tier, primary = worst()[:2]
            if bound(_outside_bound_km(lat, lon, lat_lo, lat_hi, half_lon)) > (tier, primary):
                break
            if tier == 0:
                # Jump straight to the radius that would settle it: rows in between may still
                # improve the list, but none beyond it can.
                radius = max(radius * 1.05, _settling_radius_km(primary, min_minutes) * 1.01)
            elif origin_community is not None:
                # Ranked by straight line: nothing beyond the worst kept's distance can enter.
                radius = max(radius * 1.05, primary * 1.01 + 0.01)
            else:
                # A clinic without road access is held: any clinic reached by road, however
                # far, would replace it. Keep growing.
                radius *= 2.0
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
        message = _("The service area must be a whole number of minutes, 1 or more.")
        raise DomainError("max_minutes_invalid", message, fields={"max_minutes": [message]})
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        message = _("The number of clinics must be a whole number from 1 to %(max)s.") % {
            "max": MAX_LIMIT
        }
        raise DomainError("limit_invalid", message, fields={"limit": [message]})
    origin = origin_resolve(postal_code=postal_code)
    resolved = _service(service)
    origin_community = _place(origin.postal_code)[1]

    ranked = _nearest(
        origin=origin,
        service=resolved,
        limit=limit,
        estimator=get_estimator(),
        origin_community=origin_community,
    )
    # Only the columns shown: no model instances to build for ten rows (a third of the time).
    details = {
        row[0]: row
        for row in Offering.objects.filter(
            id__in=[key[3] for key, _straight, _reached in ranked]
        ).values_list(
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
            "location__latitude",
            "location__longitude",
        )
    }
    matches = []
    for key, straight_km, reached in ranked:
        offering_id = key[3]
        (_id, location_id, partner_id, partner, location, address, city, province, postal_code,
         price, precision, dlat, dlon) = details[offering_id]  # fmt: skip
        minutes = key[1] if reached else None
        road_km = round(key[2], 1) if reached else None
        ferries = ferry_crossings(origin.latitude, origin.longitude, dlat, dlon) if reached else ()
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
                distance_km=road_km,
                drive_minutes=minutes,
                within_area=reached and minutes <= max_minutes,
                price=price,
                geo_precision=precision,
                road_access=reached,
                ferry="; ".join(str(FERRY_NAMES[f]) for f in ferries),
            )
        )
    return MatchResult(
        origin=origin,
        service=resolved,
        max_minutes=max_minutes,
        matches=matches,
        origin_community=origin_community,
    )
