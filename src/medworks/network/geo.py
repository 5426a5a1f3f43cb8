"""Canadian postal codes and coordinates. (Geocoding is filled in by the geocoding work.)"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
# Matching reads only the grid cells around the patient; 0.5 degree is ~55 km north-south.
CELL_DEG = 0.5


def grid_cell(latitude: float, longitude: float) -> int:
    row = math.floor((latitude + 90.0) / CELL_DEG)
    col = math.floor((longitude + 180.0) / CELL_DEG)
    return row * 1000 + col


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
