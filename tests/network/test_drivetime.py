"""The offline drive-time estimate: realistic for real trips, and a safe bound for matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medworks.network import drivetime
from medworks.network.drivetime import DriveEstimate, OfflineEstimator, get_estimator
from medworks.network.geo import haversine_km

PLACES = {
    "Toronto": (43.6532, -79.3832),
    "Hamilton": (43.2557, -79.8711),
    "Barrie": (44.3894, -79.6903),
    "Ottawa": (45.4215, -75.6972),
    "Montreal": (45.5017, -73.5673),
    "Calgary": (51.0447, -114.0719),
    "Edmonton": (53.5461, -113.4938),
    "Vancouver": (49.2827, -123.1207),
    "Surrey": (49.1913, -122.8490),
    "London": (42.9849, -81.2453),
    "Kitchener": (43.4516, -80.4925),
    "Quebec City": (46.8139, -71.2080),
    "Winnipeg": (49.8951, -97.1384),
    "Brandon": (49.8485, -99.9501),
    "Saskatoon": (52.1332, -106.6700),
    "Regina": (50.4452, -104.6189),
    "Charlottetown": (46.2382, -63.1311),
    "Moncton": (46.0878, -64.7782),
    "Victoria": (48.4284, -123.3656),
    "Nanaimo": (49.1659, -123.9401),
    "Mississauga": (43.5890, -79.6441),
    "Laval": (45.6066, -73.7124),
}

# Typical off-peak drive times (minutes) from public route planners, city centre to centre.
REAL_TRIPS = [
    ("Toronto", "Hamilton", 60),
    ("Ottawa", "Montreal", 120),
    ("Toronto", "Barrie", 70),
    ("Calgary", "Edmonton", 180),
    ("Vancouver", "Surrey", 30),
    ("Toronto", "London", 120),
    ("Toronto", "Kitchener", 75),
    ("Montreal", "Quebec City", 150),
    ("Winnipeg", "Brandon", 135),
    ("Saskatoon", "Regina", 160),
    ("Charlottetown", "Moncton", 110),
    ("Victoria", "Nanaimo", 95),
    ("Toronto", "Mississauga", 30),
    ("Montreal", "Laval", 25),
]


@pytest.mark.parametrize(("origin", "destination", "real_minutes"), REAL_TRIPS)
def test_a_real_trip_is_estimated_within_a_quarter_of_its_real_drive_time(
    origin, destination, real_minutes
):
    estimate = OfflineEstimator().estimate(*PLACES[origin], *PLACES[destination])
    assert real_minutes * 0.75 <= estimate.minutes <= real_minutes * 1.25


def test_a_five_km_trip_downtown_takes_twelve_to_fifteen_minutes():
    lat, lon = PLACES["Toronto"]
    estimate = OfflineEstimator().estimate(lat, lon, lat + 5 / 111.2, lon)
    assert 10.5 <= estimate.minutes <= 16


def test_road_distance_is_longer_than_the_straight_line_and_more_so_for_short_trips():
    e = OfflineEstimator()
    short = e.estimate(*PLACES["Toronto"], *PLACES["Mississauga"])
    long = e.estimate(*PLACES["Calgary"], *PLACES["Edmonton"])
    short_ratio = short.distance_km / haversine_km(*PLACES["Toronto"], *PLACES["Mississauga"])
    long_ratio = long.distance_km / haversine_km(*PLACES["Calgary"], *PLACES["Edmonton"])
    assert 1.1 <= long_ratio < short_ratio <= 1.45


def test_crossing_to_vancouver_island_adds_the_ferry():
    e = OfflineEstimator()
    estimate = e.estimate(*PLACES["Vancouver"], *PLACES["Victoria"])
    assert estimate.minutes > 180  # never "within an hour", whatever the straight line says


def test_the_same_point_is_zero_minutes_away():
    assert OfflineEstimator().estimate(45.0, -75.0, 45.0, -75.0) == DriveEstimate(0.0, 0.0)


def test_the_estimator_comes_from_the_setting(settings):
    settings.MEDWORKS_DRIVE_TIME_ESTIMATOR = "medworks.network.drivetime.OfflineEstimator"
    assert isinstance(get_estimator(), OfflineEstimator)


coords = st.tuples(
    st.floats(min_value=42.0, max_value=60.0), st.floats(min_value=-135.0, max_value=-52.0)
)


@settings(max_examples=50, deadline=None)
@given(a=coords, b=coords)
def test_the_lower_bound_never_exceeds_an_estimate(a, b):
    e = OfflineEstimator()
    straight = haversine_km(*a, *b)
    assert e.min_minutes(straight) <= e.estimate(*a, *b).minutes + 1e-9


@settings(max_examples=50, deadline=None)
@given(d1=st.floats(min_value=0, max_value=3000), d2=st.floats(min_value=0, max_value=3000))
def test_the_lower_bound_grows_with_distance(d1, d2):
    e = OfflineEstimator()
    low, high = sorted((d1, d2))
    assert e.min_minutes(low) <= e.min_minutes(high) + 1e-9


def test_minutes_grow_with_road_distance_stretch_by_stretch():
    values = [drivetime.minutes_for_road_km(km) for km in range(0, 400, 5)]
    assert values == sorted(values)
    # The highway stretch is ~100 km/h: 100 more road km far out take about an hour.
    assert 54 <= drivetime.minutes_for_road_km(300) - drivetime.minutes_for_road_km(200) <= 60
