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
