"""`medworks quote`: a table for people, JSON for scripts, one line and status 2 on bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from medworks.accounts.models import OrganisationKind
from medworks.billing.models import InsurerFixedPrice, InsurerPricing
from tests import factories

MEDWORKS = Path(sys.executable).parent / "medworks"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("quote", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_json_gives_every_amount_as_a_decimal_string():
    data = json.loads(
        run("--clinic-cost", "200.00", "--province", "ON", "--date", "2026-01-15", "--json")
    )
    assert data["clinic_cost"] == "200.00"
    assert data["medworks_fee"] == "100.00"
    assert data["subtotal"] == "300.00"
    assert data["taxes"] == [{"name": "HST", "rate": "0.13", "amount": "39.00"}]
    assert data["total"] == "339.00"
    assert data["tax_point"] == "2026-01-15"
    assert "HST 13%" in data["rule"]


@pytest.mark.django_db
def test_the_markup_option_and_the_nova_scotia_switch():
    before = json.loads(
        run("--clinic-cost", "100", "--province", "NS", "--date", "2025-03-31", "--json")
    )
    after = json.loads(
        run(
            "--clinic-cost",
            "100",
            "--province",
            "NS",
            "--date",
            "2025-04-01",
            "--markup",
            "20",
            "--json",
        )
    )
    assert (before["taxes"][0]["rate"], before["total"]) == ("0.15", "172.50")
    assert (after["medworks_fee"], after["taxes"][0]["rate"], after["total"]) == (
        "20.00",
        "0.14",
        "136.80",
    )


@pytest.mark.django_db
def test_the_table_shows_the_sops_lines_and_the_rule():
    out = run("--clinic-cost", "200", "--province", "QC", "--date", "2026-01-15")
    for text in ("Clinic cost", "MedWorks fee", "200.00", "100.00", "GST 5%", "QST 9.975%"):
        assert text in out
    assert "344.93" in out
    assert "Rule:" in out
    assert "today" not in out


@pytest.mark.django_db
def test_without_a_date_the_table_says_the_tax_point_is_today():
    assert "today" in run("--clinic-cost", "200", "--province", "ON")


@pytest.mark.django_db
def test_an_insurers_settings_apply_by_name_and_service():
    insurer = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")
    InsurerPricing.objects.create(insurer=insurer, markup_percent=Decimal("40"))
    InsurerFixedPrice.objects.create(
        insurer=insurer, service=factories.service("XRAY"), price=Decimal("250.00")
    )
    common = ("--clinic-cost", "200", "--province", "AB", "--date", "2026-01-15", "--json")
    plain = json.loads(run(*common, "--insurer", "maple assist"))
    fixed = json.loads(run(*common, "--insurer", "Maple Assist", "--service", "xray"))
    assert (plain["medworks_fee"], plain["total"]) == ("80.00", "294.00")
    assert (fixed["subtotal"], fixed["medworks_fee"], fixed["total"]) == (
        "250.00",
        "50.00",
        "262.50",
    )


BAD = [
    ("--clinic-cost", "1e3", "--province", "ON"),
    ("--clinic-cost", "abc", "--province", "ON"),
    ("--clinic-cost", "-5", "--province", "ON"),
    ("--clinic-cost", "200.005", "--province", "ON"),
    ("--clinic-cost", "1,000.00", "--province", "ON"),
    ("--clinic-cost", "NaN", "--province", "ON"),
    ("--clinic-cost", "200", "--province", "XX"),
    ("--clinic-cost", "200", "--province", "ON", "--date", "2025-02-30"),
    ("--clinic-cost", "200", "--province", "ON", "--date", "01/04/2025"),
    ("--clinic-cost", "200", "--province", "ON", "--date", "2009-01-01"),
    ("--clinic-cost", "200", "--province", "ON", "--markup", "1.5e1"),
    ("--clinic-cost", "200", "--province", "ON", "--insurer", "Nobody Assist"),
    ("--clinic-cost", "200", "--province", "ON", "--service", "XRAY"),
    ("--province", "ON"),
    ("--clinic-cost", "200"),
    ("--clinic-cost",),
    ("--clinic-cost", "200", "--province", "ON", "--bogus"),
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a) for a in BAD])
@pytest.mark.django_db
def test_bad_input_is_a_command_error_with_status_2_on_one_line(args):
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert "\n" not in str(caught.value)
    assert str(caught.value).strip()


def test_the_real_script_prints_one_line_on_stderr_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="medworks.settings")
    subprocess.run(
        [str(MEDWORKS), "migrate", "--noinput", "--skip-checks", "-v0"],
        env=env,
        check=True,
        timeout=120,
    )

    for args in (["--clinic-cost", "1e3", "--province", "ON"], ["--clinic-cost"]):
        bad = subprocess.run(
            [str(MEDWORKS), "quote", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2, bad.stderr
        assert bad.stdout == ""
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert "--clinic-cost" in bad.stderr
        assert "Traceback" not in bad.stderr

    good = subprocess.run(
        [str(MEDWORKS), "quote", "--clinic-cost", "200.00", "--province", "ON", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["total"] == "339.00"
