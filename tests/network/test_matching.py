"""Matching a patient to the nearest clinics offering a service, by approximate drive time."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medworks.core.errors import DomainError
from medworks.network import geo
from medworks.network.drivetime import get_estimator
from medworks.network.matching import MatchResult, match_clinics
from medworks.network.models import Offering, Service
from medworks.network.road_access import road_access
from tests import factories

TORONTO = (43.6426, -79.3871)  # M5V 3L9
HAMILTON = (43.2557, -79.8711)
OTTAWA = (45.4215, -75.6972)
WHITEHORSE = (60.7212, -135.0568)


def clinic(lat_lon, *, service="XRAY", price="120.00", partner=None, **location_fields):
    location = factories.make_location(
        partner=partner, latitude=lat_lon[0], longitude=lat_lon[1], **location_fields
    )
    return factories.make_offering(location=location, service_code=service, price=price)


def brute_force(*, origin, service_code, limit, max_minutes):
    """The specification: every active offering, estimated and sorted. No spatial tricks.

    Clinics reached by road first, by drive minutes (then road km, then id); then those with
    no road between them and the patient (road_access), by straight-line distance, with no
    drive time and never within the area.
    """
    estimator = get_estimator()
    ranked = []
    for offering in Offering.objects.select_related("location__partner").filter(
        service__code=service_code
    ):
        location = offering.location
        if not (offering.is_active and location.is_active and location.partner.is_active):
            continue
        if location.latitude is None:
            continue
        if road_access(origin, location.postal_code):
            est = estimator.estimate(
                origin.latitude, origin.longitude, location.latitude, location.longitude
            )
            ranked.append(((0, round(est.minutes), est.distance_km, offering.id), True))
        else:
            straight = geo.haversine_km(
                origin.latitude, origin.longitude, location.latitude, location.longitude
            )
            ranked.append(((1, straight, 0.0, offering.id), False))
    ranked.sort()
    return [
        (key[3], key[1] if road else None, road and key[1] <= max_minutes)
        for key, road in ranked[:limit]
    ]


def assert_matching_equals_brute_force(origin_code, *, limit, max_minutes) -> None:
    """Matching's answer for XRAY is the brute-force scan's: same offerings, minutes (None
    without a road), area flags, road access, in the same order."""
    result = match_clinics(
        postal_code=origin_code, service="XRAY", limit=limit, max_minutes=max_minutes
    )
    expected = brute_force(
        origin=result.origin, service_code="XRAY", limit=limit, max_minutes=max_minutes
    )
    got = [(m.offering_id, m.drive_minutes, m.within_area) for m in result.matches]
    assert got == expected
    assert [m.road_access for m in result.matches] == [
        minutes is not None for _, minutes, _ in expected
    ]
    assert result.any_within == any(within for _, _, within in expected)


@pytest.mark.django_db
def test_clinics_are_ranked_by_drive_time_and_flagged_within_the_hour():
    near = clinic(TORONTO, postal_code="M5V 3L9")
    hamilton = clinic(HAMILTON, postal_code="L8P 4R5")
    ottawa = clinic(OTTAWA, postal_code="K1P 1J1")
    result = match_clinics(postal_code="M5V 3L9", service="XRAY")
    assert isinstance(result, MatchResult)
    assert [m.offering_id for m in result.matches] == [near.id, hamilton.id, ottawa.id]
    assert [m.within_area for m in result.matches] == [True, True, False]
    assert result.any_within
    assert result.max_minutes == 60
    assert result.matches[0].price == Decimal("120.00")
    assert result.matches[1].distance_km > result.matches[1].straight_km


@pytest.mark.django_db
def test_inactive_partners_locations_and_offerings_and_other_services_are_left_out():
    sleeping_partner = factories.make_partner(is_active=False)
    clinic(TORONTO, partner=sleeping_partner)
    clinic(TORONTO, is_active=False)
    inactive = clinic(TORONTO)
    inactive.is_active = False
    inactive.save()
    clinic(TORONTO, service="MRI")
    factories.make_offering(
        location=factories.make_location(latitude=None, longitude=None), service_code="XRAY"
    )
    open_one = clinic(HAMILTON)
    result = match_clinics(postal_code="M5V 3L9", service="XRAY")
    assert [m.offering_id for m in result.matches] == [open_one.id]


@pytest.mark.django_db
def test_when_none_is_within_the_area_the_nearest_are_still_returned_flagged_outside():
    ottawa = clinic(OTTAWA)
    whitehorse = clinic(WHITEHORSE)
    result = match_clinics(postal_code="M5V 3L9", service="XRAY", max_minutes=60)
    assert [m.offering_id for m in result.matches] == [ottawa.id, whitehorse.id]
    assert not result.any_within
    assert all(not m.within_area for m in result.matches)


@pytest.mark.django_db
def test_no_offering_at_all_gives_an_empty_list_not_an_error():
    result = match_clinics(postal_code="M5V 3L9", service="MRI")
    assert result.matches == []
    assert not result.any_within


@pytest.mark.django_db
def test_the_limit_and_the_service_area_can_be_chosen():
    for i in range(5):
        clinic((TORONTO[0] + i * 0.01, TORONTO[1]))
    clinic(HAMILTON)
    result = match_clinics(postal_code="M5V 3L9", service="XRAY", limit=3, max_minutes=10)
    assert len(result.matches) == 3
    assert result.max_minutes == 10
    minutes = [m.drive_minutes for m in result.matches]
    assert minutes == sorted(minutes)
    assert [m.within_area for m in result.matches] == [m <= 10 for m in minutes]


@pytest.mark.django_db
def test_a_service_may_be_named_by_code_english_or_french_name_or_given_as_an_object():
    xray = clinic(TORONTO)
    for name in ("XRAY", "xray", "X-ray", "Radiographie", Service.objects.get(code="XRAY")):
        result = match_clinics(postal_code="M5V 3L9", service=name)
        assert [m.offering_id for m in result.matches] == [xray.id]


@pytest.mark.django_db
def test_a_full_address_with_a_postal_code_is_accepted():
    clinic(TORONTO)
    result = match_clinics(postal_code="290 Bremner Blvd, Toronto, ON m5v3l9", service="XRAY")
    assert result.origin.postal_code == "M5V 3L9"
    assert len(result.matches) == 1


@pytest.mark.django_db
def test_a_patient_at_an_outlier_code_is_matched_near_home_not_where_the_data_put_them():
    # L9E 1N5 is in Milton ON; the data puts it in the Yukon.
    milton = clinic((43.5183, -79.8774), postal_code="L9T 2X5")
    yukon = clinic((64.2823, -135.0), postal_code="Y0B 1G0")
    result = match_clinics(postal_code="L9E 1N5", service="XRAY")
    assert result.origin.precision == "fsa"
    assert result.origin.note
    assert [m.offering_id for m in result.matches] == [milton.id, yukon.id]
    assert result.matches[0].within_area


@pytest.mark.parametrize(
    ("postal_code", "code"),
    [
        ("", "postal_code_invalid"),
        ("12345", "postal_code_invalid"),
        ("W1A 1A1", "postal_code_invalid"),
        ("M5D 1A1", "postal_code_invalid"),
        ("somewhere in Toronto", "postal_code_invalid"),
        ("Y9Z 9Z9", "postal_code_unknown"),
    ],
)
@pytest.mark.django_db
def test_a_bad_postal_code_is_refused_with_a_field_error(postal_code, code):
    with pytest.raises(DomainError) as caught:
        match_clinics(postal_code=postal_code, service="XRAY")
    assert caught.value.code == code
    assert caught.value.fields["postal_code"]
    assert caught.value.message


@pytest.mark.parametrize(
    ("service", "code"), [("", "service_missing"), ("Yoga", "service_unknown")]
)
@pytest.mark.django_db
def test_an_unknown_or_missing_service_is_refused(service, code):
    with pytest.raises(DomainError) as caught:
        match_clinics(postal_code="M5V 3L9", service=service)
    assert caught.value.code == code
    assert caught.value.fields["service"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"max_minutes": 0}, "max_minutes_invalid"),
        ({"max_minutes": -5}, "max_minutes_invalid"),
        ({"limit": 0}, "limit_invalid"),
        ({"limit": 101}, "limit_invalid"),
    ],
)
@pytest.mark.django_db
def test_a_bad_service_area_or_limit_is_refused(kwargs, code):
    with pytest.raises(DomainError) as caught:
        match_clinics(postal_code="M5V 3L9", service="XRAY", **kwargs)
    assert caught.value.code == code


@pytest.mark.django_db
def test_a_dense_city_is_answered_in_a_few_queries(django_assert_max_num_queries):
    for i in range(60):
        clinic((TORONTO[0] + (i % 8) * 0.004, TORONTO[1] + (i // 8) * 0.004))
    clinic(OTTAWA)
    # service lookup + a few boxes + loading the matches
    with django_assert_max_num_queries(6):
        result = match_clinics(postal_code="M5V 3L9", service="XRAY", limit=5)
    assert len(result.matches) == 5


# --- the property: the spatial search returns exactly what a full scan would ----------------

ORIGINS = ["M5V 3L9", "H2X 1Y4", "T2P 1J9", "V6B 1A1", "R3C 0V8", "A1C 5M2", "Y1A 1A1", "L9E 1N5"]


@st.composite
def directories(draw):
    """Clinics scattered around the patient (most within a few hundred km) and across Canada."""
    origin = draw(st.sampled_from(ORIGINS))
    point = geo.geocode(origin)
    clinics = []
    for _ in range(draw(st.integers(min_value=0, max_value=25))):
        if draw(st.booleans()):
            # Around the patient: exponential-ish radius, any bearing.
            km = draw(st.floats(min_value=0, max_value=6)) ** 3
            bearing = draw(st.floats(min_value=0, max_value=2 * math.pi))
            lat = point.latitude + km * math.cos(bearing) / 111.2
            lon = point.longitude + km * math.sin(bearing) / (
                111.2 * math.cos(math.radians(point.latitude))
            )
        else:
            lat = draw(st.floats(min_value=42.0, max_value=62.0))
            lon = draw(st.floats(min_value=-135.0, max_value=-53.0))
        clinics.append(
            {
                "lat": lat,
                "lon": lon,
                "service": draw(st.sampled_from(["XRAY", "XRAY", "XRAY", "MRI"])),
                "offering_active": draw(st.booleans()) or draw(st.booleans()),
                "location_active": draw(st.integers(0, 9)) > 0,
                "partner_active": draw(st.integers(0, 9)) > 0,
            }
        )
    limit = draw(st.integers(min_value=1, max_value=8))
    max_minutes = draw(st.integers(min_value=5, max_value=180))
    return origin, clinics, limit, max_minutes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=directories())
@pytest.mark.django_db
def test_matching_equals_a_brute_force_scan_of_every_offering(case):
    origin_code, clinics, limit, max_minutes = case
    with transaction.atomic():
        for c in clinics:
            partner = factories.make_partner(is_active=c["partner_active"])
            offering = clinic(
                (c["lat"], c["lon"]),
                service=c["service"],
                partner=partner,
                is_active=c["location_active"],
            )
            if not c["offering_active"]:
                Offering.objects.filter(pk=offering.pk).update(is_active=False)
        assert_matching_equals_brute_force(origin_code, limit=limit, max_minutes=max_minutes)
        transaction.set_rollback(True)


# --- places without a road (road_access.py) -----------------------------------------------------

IQALUIT = (63.7477, -68.5217)  # X0A 0H0
RANKIN_INLET = (62.8079, -92.0856)  # X0C 0G0
KUUJJUAQ = (58.0786, -68.4697)  # J0M 1C0
CHISASIBI = (53.7736, -78.8935)  # J0M 1E0
SANDY_LAKE = (53.0021, -92.7789)  # P0V 1V0
RED_LAKE = (51.018, -93.8254)  # P0V 2M0


@pytest.mark.django_db
def test_a_patient_in_iqaluit_gets_no_drive_time_to_clinics_outside_iqaluit():
    ottawa = clinic(OTTAWA, postal_code="K1P 1J1")
    rankin = clinic(RANKIN_INLET, postal_code="X0C 0G0", province="NU")
    kuujjuaq = clinic(KUUJJUAQ, postal_code="J0M 1C0", province="QC")
    result = match_clinics(postal_code="X0A 0H0", service="XRAY", max_minutes=24 * 60)
    assert result.origin_community is not None and result.origin_community.name == "Iqaluit"
    assert not result.origin_road_access
    # By straight line: Kuujjuaq ~640 km, Rankin Inlet ~1,150 km, Ottawa ~2,100 km.
    assert [m.offering_id for m in result.matches] == [kuujjuaq.id, rankin.id, ottawa.id]
    for m in result.matches:
        assert m.road_access is False
        assert m.drive_minutes is None and m.distance_km is None
        assert m.within_area is False
        assert m.rank_key[0] == 1
    straight = [m.straight_km for m in result.matches]
    assert straight == sorted(straight)
    assert not result.any_within


@pytest.mark.django_db
def test_a_clinic_in_the_patients_own_fly_in_community_is_reached_by_road_and_ranked_first():
    ottawa = clinic(OTTAWA, postal_code="K1P 1J1")
    # Nearer in a straight line than the Iqaluit clinic is to the patient? No matter: no road.
    far_in_town = clinic((IQALUIT[0] + 0.02, IQALUIT[1]), postal_code="X0A 1H0", province="NU")
    result = match_clinics(postal_code="X0A 0H0", service="XRAY")
    assert [m.offering_id for m in result.matches] == [far_in_town.id, ottawa.id]
    first, second = result.matches
    assert first.road_access and first.drive_minutes is not None and first.within_area
    assert not second.road_access and second.drive_minutes is None
    assert result.any_within


@pytest.mark.django_db
def test_a_fly_in_clinic_comes_after_every_clinic_reached_by_road_however_far():
    # Patient in Red Lake (road); Sandy Lake (fly-in, same FSA) is nearer than Winnipeg.
    sandy = clinic(SANDY_LAKE, postal_code="P0V 1V0")
    winnipeg = clinic((49.8859, -97.1476), postal_code="R3C 0V8", province="MB")
    whitehorse = clinic(WHITEHORSE, postal_code="Y1A 1A1", province="YT")
    red_lake = clinic(RED_LAKE, postal_code="P0V 2M0")
    result = match_clinics(postal_code="P0V 2M0", service="XRAY", max_minutes=24 * 60)
    assert [m.offering_id for m in result.matches] == [
        red_lake.id,
        winnipeg.id,
        whitehorse.id,
        sandy.id,
    ]
    assert [m.road_access for m in result.matches] == [True, True, True, False]
    assert result.matches[1].within_area  # Winnipeg, in a day's drive
    assert result.matches[3].straight_km < result.matches[1].straight_km
    assert not result.matches[3].within_area
    assert result.matches[3].drive_minutes is None


@pytest.mark.django_db
def test_chisasibi_is_on_the_road_though_its_fsa_holds_nunavik():
    chisasibi = clinic(CHISASIBI, postal_code="J0M 1E0", province="QC")
    kuujjuaq = clinic(KUUJJUAQ, postal_code="J0M 1C0", province="QC")
    montreal = clinic((45.5082, -73.5689), postal_code="H2X 1Y4", province="QC")
    result = match_clinics(postal_code="J0M 1E0", service="XRAY", max_minutes=24 * 60)
    assert result.origin_community is None
    assert [m.offering_id for m in result.matches] == [chisasibi.id, montreal.id, kuujjuaq.id]
    assert [m.road_access for m in result.matches] == [True, True, False]


@pytest.mark.django_db
def test_a_ferry_crossing_is_named_and_stays_an_estimate():
    halifax = clinic((44.623, -63.5732), postal_code="B3H 1A1", province="NS")
    result = match_clinics(postal_code="A1C 5M2", service="XRAY", max_minutes=24 * 60)
    (match,) = result.matches
    assert match.offering_id == halifax.id
    assert match.road_access and match.drive_minutes > 360
    assert "Marine Atlantic" in match.ferry
    assert match_clinics(postal_code="M5V 3L9", service="XRAY").matches[0].ferry == ""


@pytest.mark.django_db
def test_rank_key_orders_merged_results_as_matching_does():
    clinic(OTTAWA, postal_code="K1P 1J1")
    clinic((IQALUIT[0] + 0.01, IQALUIT[1]), postal_code="X0A 1H0", province="NU")
    clinic(KUUJJUAQ, postal_code="J0M 1C0", province="QC")
    result = match_clinics(postal_code="X0A 0H0", service="XRAY")
    assert sorted(result.matches, key=lambda m: m.rank_key) == result.matches


# The property again, with fly-in patients and clinics in fly-in communities and road towns.
NO_ROAD_ORIGINS = ["X0A 0H0", "X0C 0G0", "P0V 1V0", "J0M 1C0", "R0B 0E0"]
COMMUNITY_CODES = [
    "X0A 0H0",  # Iqaluit
    "X0A 1H0",  # Iqaluit
    "X0C 0G0",  # Rankin Inlet
    "J0M 1C0",  # Kuujjuaq
    "J0M 1E0",  # Chisasibi (road)
    "P0V 1V0",  # Sandy Lake
    "P0V 2M0",  # Red Lake (road)
    "R0B 0E0",  # Churchill
    "R0B 0L0",  # Gillam (road)
    "K1P 1J1",  # Ottawa
]


@st.composite
def remote_directories(draw):
    origin = draw(st.sampled_from([*NO_ROAD_ORIGINS, "P0V 2M0", "J0M 1E0", "M5V 3L9"]))
    point = geo.geocode(origin)
    clinics = []
    for _ in range(draw(st.integers(min_value=0, max_value=20))):
        where = draw(st.integers(0, 2))
        if where == 0:
            # At a community (a few km from its code's position), with its postal code.
            code = draw(st.sampled_from(COMMUNITY_CODES))
            at = geo.geocode(code)
            lat = at.latitude + draw(st.floats(min_value=-0.03, max_value=0.03))
            lon = at.longitude + draw(st.floats(min_value=-0.05, max_value=0.05))
        elif where == 1:
            code = draw(st.sampled_from([*COMMUNITY_CODES, "M5V 3L9"]))
            km = draw(st.floats(min_value=0, max_value=6)) ** 3
            bearing = draw(st.floats(min_value=0, max_value=2 * math.pi))
            lat = point.latitude + km * math.cos(bearing) / 111.2
            lon = point.longitude + km * math.sin(bearing) / (
                111.2 * math.cos(math.radians(point.latitude))
            )
        else:
            code = "M5V 3L9"
            lat = draw(st.floats(min_value=42.0, max_value=70.0))
            lon = draw(st.floats(min_value=-135.0, max_value=-53.0))
        clinics.append(
            {
                "lat": lat,
                "lon": lon,
                "postal_code": code,
                "service": draw(st.sampled_from(["XRAY", "XRAY", "XRAY", "MRI"])),
                "offering_active": draw(st.booleans()) or draw(st.booleans()),
                "location_active": draw(st.integers(0, 9)) > 0,
            }
        )
    limit = draw(st.integers(min_value=1, max_value=8))
    max_minutes = draw(st.integers(min_value=5, max_value=24 * 60))
    return origin, clinics, limit, max_minutes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=remote_directories())
@pytest.mark.django_db
def test_matching_equals_a_brute_force_scan_with_places_without_road(case):
    origin_code, clinics, limit, max_minutes = case
    with transaction.atomic():
        for c in clinics:
            offering = clinic(
                (c["lat"], c["lon"]),
                service=c["service"],
                postal_code=c["postal_code"],
                is_active=c["location_active"],
            )
            if not c["offering_active"]:
                Offering.objects.filter(pk=offering.pk).update(is_active=False)
        assert_matching_equals_brute_force(origin_code, limit=limit, max_minutes=max_minutes)
        transaction.set_rollback(True)
