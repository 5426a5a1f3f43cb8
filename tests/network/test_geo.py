"""Postal codes: format, province, offline geocoding, and outlier codes in the data."""

from __future__ import annotations

import pytest

from medworks.network import geo, geo_stats
from medworks.network.models import GeoPrecision


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("M5V 3L9", "M5V 3L9"),
        ("m5v3l9", "M5V 3L9"),
        ("m5v 3l9", "M5V 3L9"),
        (" M5V-3L9 ", "M5V 3L9"),
        ("h2x\t1y4", "H2X 1Y4"),
        ("X0A 0H0", "X0A 0H0"),
    ],
)
def test_a_postal_code_is_read_in_any_case_with_or_without_space_or_dash(raw, expected):
    assert geo.normalize_postal_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "missing"),
        ("M5V 3L", "A1A 1A1"),
        ("M5V 3L99", "A1A 1A1"),
        ("55V 3L9", "A1A 1A1"),
        ("W1A 1A1", "W or Z"),
        ("Z1A 1A1", "W or Z"),
        ("D1A 1A1", "D, F, I, O, Q and U"),
        ("M5F 3L9", "D, F, I, O, Q and U"),
        ("M5V 3I9", "D, F, I, O, Q and U"),
        ("K1O 1U1", "D, F, I, O, Q and U"),
    ],
)
def test_a_malformed_postal_code_is_refused_with_the_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        geo.normalize_postal_code(raw)


def test_w_and_z_may_appear_after_the_first_letter():
    assert geo.normalize_postal_code("T2W 1Z9") == "T2W 1Z9"


@pytest.mark.parametrize(
    ("code", "province", "ok"),
    [
        ("M5V 3L9", "ON", True),
        ("M5V 3L9", "QC", False),
        ("H2X 1Y4", "QC", True),
        ("V6B 1A1", "BC", True),
        ("T2P 1J9", "BC", False),
        ("X0A 0H0", "NU", True),
        ("X1A 1A1", "NT", True),
        ("K1A 0C9", "QC", True),  # federal offices in Gatineau share Ottawa's K1A
        ("A1C 5M2", "NL", True),
        ("Y1A 1A1", "YT", True),
    ],
)
def test_the_first_letter_must_belong_to_the_province_given(code, province, ok):
    assert geo.postal_code_matches_province(postal_code=code, province=province) is ok


def test_a_known_code_is_located_at_its_own_coordinates():
    point = geo.geocode("M5V 3L9")
    assert point.precision == GeoPrecision.POSTAL_CODE
    assert point.province == "ON"
    assert point.note == ""
    assert geo.haversine_km(point.latitude, point.longitude, 43.6426, -79.3871) < 1.0


def test_an_unlisted_code_falls_back_to_its_fsa_centre_with_a_note():
    point = geo.geocode("M5V 9Z9")
    assert point.precision == GeoPrecision.FSA
    assert "not in the postal-code data" in point.note
    assert geo.haversine_km(point.latitude, point.longitude, 43.64, -79.39) < 3.0


def test_an_unknown_fsa_is_refused_as_unknown_not_as_malformed():
    with pytest.raises(geo.PostalCodeUnknown, match="unknown"):
        geo.geocode("Y9Z 9Z9")


def test_a_malformed_code_is_refused_as_malformed():
    with pytest.raises(geo.PostalCodeInvalid):
        geo.geocode("12345")


# Real outliers in the GeoNames 2022 data, each far from where the code is.
@pytest.mark.parametrize(
    ("code", "true_lat", "true_lon", "wrong_lat", "wrong_lon"),
    [
        ("L9E 1N5", 43.51, -79.88, 64.2823, -135.0),  # Milton ON, placed in the Yukon
        ("T2X 4J8", 50.90, -114.05, 43.6707, -79.393),  # Calgary, placed in Toronto
        ("K7P 0P6", 44.26, -76.58, 43.7572, -79.1993),  # Kingston, placed in Scarborough
        ("L9V 1J7", 44.12, -80.20, 48.9986, -113.3789),  # Mono ON, placed in Alberta
        ("R5K 0J5", 49.70, -96.80, 56.1304, -106.3468),  # Rosewood MB, at "centre of Canada"
        ("M1V 5K2", 43.82, -79.28, 43.6601, -79.4755),  # Scarborough, placed in High Park
    ],
)
def test_an_outlier_code_is_located_at_its_fsa_centre_not_in_the_wrong_city(
    code, true_lat, true_lon, wrong_lat, wrong_lon
):
    point = geo.geocode(code)
    assert point.precision == GeoPrecision.FSA
    assert "from the rest of" in point.note
    assert geo.is_outlier(code)
    assert geo.haversine_km(point.latitude, point.longitude, true_lat, true_lon) < 15
    assert geo.haversine_km(point.latitude, point.longitude, wrong_lat, wrong_lon) > 20


@pytest.mark.parametrize(
    "code",
    [
        "J1X 0B3",  # Orford, a village on the edge of Magog's FSA: its own place, kept
        "E3B 0T2",  # Rusagonis, in Fredericton's FSA
        "K1A 0C9",  # Gatineau, in Ottawa's K1A
        "T0A 0A0",  # Abee: a rural FSA covers a whole region
    ],
)
def test_a_code_on_the_fringe_of_its_fsa_but_among_its_own_place_is_trusted(code):
    assert not geo.is_outlier(code)
    assert geo.geocode(code).precision == GeoPrecision.POSTAL_CODE


def test_the_fsa_centre_is_robust_to_its_outliers():
    # L9V has Mono/Mulmur codes placed 2,500 km away; its median centre stays in Dufferin.
    stats = geo.fsa_stats("L9V")
    assert stats is not None
    assert geo.haversine_km(stats.latitude, stats.longitude, 44.1, -80.2) < 20


def test_an_fsa_with_a_wrong_centre_in_the_data_is_corrected():
    point = geo.geocode("G0B 1A0")  # Iles-de-la-Madeleine; the package puts G0B inland
    assert geo.haversine_km(point.latitude, point.longitude, 47.38, -61.86) < 10


def test_the_shipped_fsa_file_was_built_from_the_installed_data():
    data = geo._geo_data()
    assert data.package_version == geo_stats.package_version()
    assert len(data.fsas) > 1600
    # About half a percent of the 890,000 codes are outliers: a few thousand, not tens.
    assert 1000 < len(data.outliers) < 10000


def test_rural_fsas_are_those_with_a_zero_second_character():
    assert geo_stats.is_rural_fsa("T0A")
    assert not geo_stats.is_rural_fsa("T2X")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 King St W, Toronto, ON M5V 3L9", "M5V 3L9"),
        ("12 King St W, Toronto ON m5v3l9", "m5v 3l9"),
        ("1 rue Sainte-Catherine, Montréal (QC) H2X-1Y4, Canada", "H2X 1Y4"),
        ("no postal code here", None),
        ("Suite 5B5, 100 Main", None),
    ],
)
def test_a_postal_code_is_found_inside_an_address(text, expected):
    assert geo.extract_postal_code(text) == expected


def test_grid_cells_are_half_a_degree():
    assert geo.grid_cell(43.64, -79.38) == geo.grid_cell(43.99, -79.01)
    assert geo.grid_cell(43.64, -79.38) != geo.grid_cell(44.01, -79.38)
    assert geo.grid_cell(43.64, -79.38) - geo.grid_cell(43.64, -79.51) == 1
