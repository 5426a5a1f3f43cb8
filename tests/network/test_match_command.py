"""`medworks match`: a table for people, JSON for scripts, one line and status 2 on bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests import factories

MEDWORKS = Path(sys.executable).parent / "medworks"
TORONTO = (43.6426, -79.3871)
OTTAWA = (45.4215, -75.6972)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("match", *args, stdout=out)
    return out.getvalue()


def clinic(lat_lon, *, price="120.00", **fields):
    location = factories.make_location(latitude=lat_lon[0], longitude=lat_lon[1], **fields)
    return factories.make_offering(location=location, service_code="XRAY", price=price)


@pytest.mark.django_db
def test_json_lists_the_clinics_sorted_by_drive_time_with_the_agreed_keys():
    clinic(OTTAWA, postal_code="K1P 1J1", province="ON")
    clinic(TORONTO, price=None)
    items = json.loads(run("--postal-code", "m5v3l9", "--service", "X-ray", "--json"))
    assert [item["drive_minutes"] for item in items] == sorted(i["drive_minutes"] for i in items)
    first = items[0]
    for key in (
        "partner",
        "location",
        "postal_code",
        "province",
        "distance_km",
        "drive_minutes",
        "within_area",
        "price",
    ):
        assert key in first
    assert first["price"] is None
    assert items[1]["price"] == "120.00"
    assert [item["within_area"] for item in items] == [True, False]


@pytest.mark.django_db
def test_the_table_says_times_are_approximate():
    clinic(TORONTO)
    out = run("--postal-code", "M5V 3L9", "--service", "XRAY")
    assert "approximate" in out
    assert "escalate" not in out


@pytest.mark.django_db
def test_the_table_says_to_escalate_when_nothing_is_within_the_area():
    clinic(OTTAWA)
    out = run("--postal-code", "M5V 3L9", "--service", "XRAY", "--max-minutes", "30")
    assert "escalate" in out
    assert "OUTSIDE" in out


@pytest.mark.parametrize(
    "args",
    [
        ("--postal-code", "ZZZ 999", "--service", "XRAY"),
        ("--postal-code", "Y9Z 9Z9", "--service", "XRAY"),
        ("--postal-code", "M5V 3L9", "--service", "Yoga"),
        ("--postal-code", "M5V 3L9", "--service", "XRAY", "--max-minutes", "soon"),
        ("--postal-code", "M5V 3L9", "--service", "XRAY", "--max-minutes", "0"),
        ("--postal-code", "M5V 3L9", "--service", "XRAY", "--limit", "-1"),
        ("--service", "XRAY"),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_a_command_error_with_status_2(args):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert "\n" not in str(caught.value)


def test_the_real_script_prints_one_line_on_stderr_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="medworks.settings")
    subprocess.run([str(MEDWORKS), "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)

    bad = subprocess.run(
        [str(MEDWORKS), "match", "--postal-code", "W1A 1A1", "--service", "XRAY"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "W or Z" in lines[0]
    assert "Traceback" not in bad.stderr

    good = subprocess.run(
        [str(MEDWORKS), "match", "--postal-code", "M5V 3L9", "--service", "XRAY", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout) == []


# --- places without a road ---------------------------------------------------------------------

IQALUIT = (63.7477, -68.5217)  # X0A 0H0
KUUJJUAQ = (58.0786, -68.4697)  # J0M 1C0


@pytest.mark.django_db
def test_json_says_no_road_access_and_no_drive_time_for_a_patient_in_iqaluit():
    clinic(OTTAWA, postal_code="K1P 1J1", province="ON")
    clinic(KUUJJUAQ, postal_code="J0M 1C0", province="QC")
    in_town = clinic((IQALUIT[0] + 0.01, IQALUIT[1]), postal_code="X0A 1H0", province="NU")
    items = json.loads(
        run("--postal-code", "X0A 0H0", "--service", "XRAY", "--max-minutes", "1440", "--json")
    )
    assert [item["road_access"] for item in items] == [True, False, False]
    assert items[0]["offering_id"] == in_town.id
    assert items[0]["drive_minutes"] is not None and items[0]["within_area"] is True
    for item in items[1:]:
        assert item["drive_minutes"] is None
        assert item["distance_km"] is None
        assert item["within_area"] is False
        assert item["straight_km"] > 0
    assert [item["postal_code"] for item in items[1:]] == ["J0M 1C0", "K1P 1J1"]


@pytest.mark.django_db
def test_json_says_road_access_true_and_names_a_ferry_for_road_trips():
    clinic((44.623, -63.5732), postal_code="B3H 1A1", province="NS")
    (item,) = json.loads(run("--postal-code", "A1C 5M2", "--service", "XRAY", "--json"))
    assert item["road_access"] is True
    assert item["drive_minutes"] > 360
    assert "Marine Atlantic" in item["ferry"]
    clinic(TORONTO)
    items = json.loads(run("--postal-code", "M5V 3L9", "--service", "XRAY", "--json"))
    assert items[0]["road_access"] is True and items[0]["ferry"] is None


@pytest.mark.django_db
def test_the_table_says_no_road_access_travel_by_air():
    clinic(OTTAWA, postal_code="K1P 1J1", province="ON")
    out = run("--postal-code", "X0A 0H0", "--service", "XRAY")
    assert "no road access: travel by air" in out
    assert "Iqaluit has no year-round road" in out
    assert "escalate" in out
    assert "OUTSIDE" in out
