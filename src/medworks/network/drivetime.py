"""Drive time between two points: an offline estimate behind a small interface.

Every time shown from here is approximate ("about 45 min"): it is a model, not a route.

`get_estimator()` returns the estimator named by the setting MEDWORKS_DRIVE_TIME_ESTIMATOR
(a dotted path to a class with no constructor arguments), so a routing engine (OSRM, Valhalla,
a commercial matrix API) can replace the offline model without touching matching. A
replacement implements `DriveTimeEstimator`: `estimate()` and `min_minutes()`, the latter a
lower bound that matching's spatial search relies on to stop early (for a router,
straight_km / 130 km/h is a safe bound).

The offline model (OfflineEstimator)
------------------------------------
1. Road distance = straight line x circuity. Published circuity factors for North America are
   about 1.2-1.4, higher for short trips (see Ballou, Rahardja & Sakai 2002, "Selected country
   circuity factors for road travel distance estimation", Transportation Research A; Boscoe,
   Henry & Zdeb 2012, "A nationwide comparison of driving distance versus straight-line
   distance to hospitals", The Professional Geographer). We use
   circuity(d) = 1.15 + 0.25 * exp(-d / 30 km): 1.40 at 0 km, 1.36 at 5 km, 1.27 at 22 km,
   1.18 at 60 km, 1.15 beyond ~150 km.
2. A regional factor, faded in over the first 30 km (a city grid is a city grid anywhere):
   British Columbia x1.15 (mountain valleys, inlets, few crossings) and the island of
   Newfoundland x1.3 (deep bays and one trunk road: St. John's - Corner Brook is ~690 road km
   for 417 straight). The region is judged at the trip's midpoint from coarse outlines (an
   estimator only receives coordinates). No factor below 1 (a Prairie grid would deserve
   ~0.93): the lower bound matching relies on stays tight, and the Prairie pairs below are
   still within +10%.
3. Water: a trip between Vancouver Island or the island of Newfoundland and anywhere else
   needs a ferry: +120 min (BC Ferries' ~95 min crossings plus loading) and +360 min (Marine
   Atlantic, Port aux Basques - North Sydney, ~7 h) respectively. A trip to or from Prince
   Edward Island is routed through the Confederation Bridge.
4. Speed by stretch of road distance, because every trip starts and ends on city streets:
   first 2 km at 24 km/h (local streets, lights, parking), next 8 km at 40 km/h (arterials),
   next 15 km at 65 km/h (suburban arterials, ramps), next 75 km at 100 km/h, beyond at
   110 km/h (long runs are nearly all 400-series / Autoroute / Trans-Canada / QEII).

Calibration (typical off-peak drive times from public route planners, centre to centre; the
test suite checks each within +/-25%, tests/network/test_drivetime.py):
Toronto-Hamilton ~60 min (model 58), Ottawa-Montreal ~120 (126), Toronto-Barrie ~70 (76),
Calgary-Edmonton ~180 (198), Vancouver-Surrey ~30 (35), a 5 km downtown trip 12-15 (12),
Toronto-London ~120 (127), Toronto-Kitchener ~75 (80), Montreal-Quebec City ~150 (167),
Winnipeg-Brandon ~135 (148), Saskatoon-Regina ~160 (169), Charlottetown-Moncton ~110 (104),
Victoria-Nanaimo ~95 (88), Toronto-Mississauga ~30 (33), Montreal-Laval ~25 (27). The model
leans ~5% long on average, which errs towards escalating rather than sending a patient to a
clinic over an hour away. Rush-hour traffic is not modelled: the estimate is an off-peak one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .geo import haversine_km


@dataclass(frozen=True)
class DriveEstimate:
    distance_km: float  # estimated road distance
    minutes: float  # estimated off-peak driving time, approximate


class DriveTimeEstimator(Protocol):
    def estimate(
        self, origin_lat: float, origin_lon: float, dest_lat: float, dest_lon: float
    ) -> DriveEstimate: ...

    def min_minutes(self, straight_km: float) -> float:
        """A lower bound of `estimate().minutes` for any pair this far apart in a straight line.

        Must not decrease as straight_km grows; matching stops searching farther once this
        bound exceeds the worst minutes it would keep.
        """
        ...


# --- the offline model's constants (see the module docstring) --------------------------------
CIRCUITY_BASE = 1.15
CIRCUITY_SHORT_EXTRA = 0.25
CIRCUITY_DECAY_KM = 30.0
REGION_FADE_KM = 30.0
REGION_FACTOR = {"bc": 1.15, "nl_island": 1.3, "other": 1.0}
MIN_REGION_FACTOR = min(REGION_FACTOR.values())
# (length of the stretch in road km, speed in km/h); the last stretch is open-ended.
SPEED_STRETCHES: tuple[tuple[float, float], ...] = (
    (2.0, 24.0),
    (8.0, 40.0),
    (15.0, 65.0),
    (75.0, 100.0),
    (math.inf, 110.0),
)
FERRY_MINUTES = {"vancouver_island": 120.0, "nl_island": 360.0}
# The crossings by name, for screens (road_access names the ferry a road trip includes).
FERRY_NAMES = {
    "vancouver_island": _("BC Ferries, Vancouver Island to the mainland"),
    "nl_island": _("Marine Atlantic, Port aux Basques to North Sydney"),
}
# The Confederation Bridge, mid-span: the only road between PEI and the mainland.
CONFEDERATION_BRIDGE = (46.19, -63.72)

# Coarse outlines, (lat, lon) vertices; accurate to a few km, which is all a ferry test needs.
_VANCOUVER_ISLAND = (
    (48.25, -123.60),
    (48.35, -123.20),
    (48.75, -123.10),
    (49.05, -123.55),
    (49.40, -124.00),
    (49.75, -124.60),
    (50.10, -125.15),
    (50.45, -125.90),
    (50.70, -127.30),
    (51.00, -128.50),
    (50.20, -128.20),
    (49.00, -126.30),
    (48.40, -124.80),
)
_NEWFOUNDLAND = (
    (47.50, -59.50),
    (46.50, -53.40),
    (46.60, -52.60),
    (47.80, -52.40),
    (49.80, -53.20),
    (51.75, -55.20),
    (51.65, -56.00),
    (50.70, -57.50),
    (49.50, -58.40),
    (48.50, -59.60),
)
_PEI = (
    (46.40, -64.45),
    (47.10, -64.05),
    (46.55, -61.90),
    (45.93, -62.45),
    (45.93, -62.90),
    (46.18, -63.55),
    (46.24, -63.80),
    (46.35, -64.20),
)


def _inside(lat: float, lon: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting; fine for small polygons far from the poles and the antimeridian."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (y1, x1), (y2, x2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def _island(lat: float, lon: float) -> str | None:
    # Cheap bounding boxes first: nearly every point is in neither.
    if 48.2 <= lat <= 51.1 and -128.6 <= lon <= -123.0 and _inside(lat, lon, _VANCOUVER_ISLAND):
        return "vancouver_island"
    if 46.4 <= lat <= 51.8 and -59.7 <= lon <= -52.3 and _inside(lat, lon, _NEWFOUNDLAND):
        return "nl_island"
    if 45.9 <= lat <= 47.1 and -64.5 <= lon <= -61.9 and _inside(lat, lon, _PEI):
        return "pei"
    return None


def _region(lat: float, lon: float) -> str:
    if 46.4 <= lat <= 51.8 and -59.7 <= lon <= -52.3 and _inside(lat, lon, _NEWFOUNDLAND):
        return "nl_island"
    if lat < 60.0 and lon < -114.06:
        # West of the Rockies' crest, the BC-Alberta line from (49, -114.06) to (53.8, -120),
        # then the 120th meridian north.
        if lon <= -120.0:
            return "bc"
        border_lat = 49.0 + (-114.06 - lon) / 5.94 * 4.8
        if lat < border_lat:
            return "bc"
    return "other"


def _ferries(a: str | None, b: str | None) -> tuple[str, ...]:
    """The ferries (FERRY_MINUTES keys) between two places' islands, as estimate() adds them."""
    if a == b or "pei" in (a, b):
        return ()  # same island or mainland; PEI is routed over the bridge
    return tuple(sorted({a, b} - {None}))


def ferry_crossings(
    origin_lat: float, origin_lon: float, dest_lat: float, dest_lon: float
) -> tuple[str, ...]:
    """The ferry crossings the offline model puts on this trip (keys of FERRY_NAMES)."""
    return _ferries(_island(origin_lat, origin_lon), _island(dest_lat, dest_lon))


def circuity(straight_km: float) -> float:
    """Road km per straight-line km for a trip this long (before the regional factor)."""
    return CIRCUITY_BASE + CIRCUITY_SHORT_EXTRA * math.exp(-straight_km / CIRCUITY_DECAY_KM)


def minutes_for_road_km(road_km: float) -> float:
    """Driving minutes for a road distance, stretch by stretch (city streets first)."""
    minutes = 0.0
    left = road_km
    for length, speed in SPEED_STRETCHES:
        part = min(left, length)
        minutes += part / speed * 60.0
        left -= part
        if left <= 0:
            break
    return minutes


def _road_km(straight_km: float, region: str) -> float:
    fade = min(1.0, straight_km / REGION_FADE_KM)
    factor = 1.0 + (REGION_FACTOR[region] - 1.0) * fade
    return straight_km * circuity(straight_km) * factor


class OfflineEstimator:
    """Straight line x circuity x regional factor, then city-to-highway speeds. See module doc."""

    def estimate(
        self, origin_lat: float, origin_lon: float, dest_lat: float, dest_lon: float
    ) -> DriveEstimate:
        a = _island(origin_lat, origin_lon)
        b = _island(dest_lat, dest_lon)
        extra_minutes = 0.0
        if a != b and "pei" in (a, b):
            # Via the bridge: two legs, each with its own circuity.
            bl, bo = CONFEDERATION_BRIDGE
            legs = [(origin_lat, origin_lon, bl, bo), (bl, bo, dest_lat, dest_lon)]
        else:
            legs = [(origin_lat, origin_lon, dest_lat, dest_lon)]
            for island in _ferries(a, b):
                extra_minutes += FERRY_MINUTES[island]
        road = 0.0
        for lat1, lon1, lat2, lon2 in legs:
            straight = haversine_km(lat1, lon1, lat2, lon2)
            road += _road_km(straight, _region((lat1 + lat2) / 2, (lon1 + lon2) / 2))
        return DriveEstimate(road, minutes_for_road_km(road) + extra_minutes)

    def min_minutes(self, straight_km: float) -> float:
        # The lowest regional factor, fully applied; detours and ferries only add.
        return minutes_for_road_km(straight_km * circuity(straight_km) * MIN_REGION_FACTOR)


@lru_cache(maxsize=4)
def _load(path: str) -> DriveTimeEstimator:
    return import_string(path)()


def get_estimator() -> DriveTimeEstimator:
    """The estimator named by settings.MEDWORKS_DRIVE_TIME_ESTIMATOR (offline by default)."""
    path = getattr(
        settings,
        "MEDWORKS_DRIVE_TIME_ESTIMATOR",
        "medworks.network.drivetime.OfflineEstimator",
    )
    return _load(path)
