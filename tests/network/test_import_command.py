"""`medworks import-partners` and `export-partners`: through call_command and the real script."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from medworks.network.models import AffiliatePartner, Offering

FIXTURES = Path(__file__).parent / "fixtures"
MESSY = FIXTURES / "messy_partners.xlsx"
MEDWORKS = Path(sys.executable).parent / "medworks"
REPORT_KEYS = [
    "rows_read",
    "partners_created",
    "partners_updated",
    "locations_created",
    "locations_updated",
    "offerings_created",
    "offerings_updated",
    "new_services",
    "duplicates",
    "rejected",
    "applied",
    "dry_run",
    "strict",
    "columns_read",
]


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_partners", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_json_prints_exactly_one_object_with_the_report():
    out, err = run_command(str(MESSY), "--json")

    report = json.loads(out)
    assert list(report) == REPORT_KEYS
    assert report["applied"] is True
    assert report["offerings_created"] == 9
    assert report["rejected"][0]["row"] == 13
    assert isinstance(report["rejected"][0]["errors"], list)
    assert err == ""  # no progress bar when nobody watches a terminal


@pytest.mark.django_db
def test_without_json_a_readable_summary_names_rejected_rows():
    out, _ = run_command(str(MESSY))

    assert out.startswith("Imported messy_partners.xlsx.")
    assert "row 14: partner is missing" in out
    assert "duplicate rows skipped: 11" in out


@pytest.mark.django_db
def test_dry_run_says_nothing_was_changed():
    out, _ = run_command(str(MESSY), "--dry-run")

    assert out.startswith("Dry run of messy_partners.xlsx: nothing was changed.")
    assert AffiliatePartner.objects.count() == 0


@pytest.mark.django_db
def test_strict_with_rejected_rows_fails_with_status_2_and_applies_nothing():
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_partners", str(MESSY), "--strict", "--json", stdout=out)

    assert caught.value.returncode == 2
    assert json.loads(out.getvalue())["applied"] is False
    assert Offering.objects.count() == 0


@pytest.mark.django_db
def test_a_missing_file_fails_with_status_2():
    with pytest.raises(CommandError) as caught:
        run_command("/nowhere/partners.xlsx")

    assert caught.value.returncode == 2
    assert "no such file" in str(caught.value)


@pytest.mark.django_db
def test_export_writes_a_workbook_that_imports_back_to_no_change(tmp_path):
    run_command(str(MESSY))
    target = tmp_path / "directory.xlsx"

    call_command("export_partners", str(target), stdout=io.StringIO())
    report = json.loads(run_command(str(target), "--json")[0])

    assert target.read_bytes()[:2] == b"PK"
    assert [report[k] for k in REPORT_KEYS[1:7]] == [0, 0, 0, 0, 0, 0]
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_export_refuses_a_name_that_is_not_xlsx(tmp_path):
    with pytest.raises(CommandError) as caught:
        call_command("export_partners", str(tmp_path / "out.csv"))

    assert caught.value.returncode == 2


# --- the installed console script, on a throwaway SQLite database ---------------------------


@pytest.fixture(scope="module")
def script_env(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("medworks-data")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(MEDWORKS_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="medworks.settings")
    subprocess.run([str(MEDWORKS), "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    return env


def run_script(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MEDWORKS), "import-partners", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_script_reports_a_missing_file_in_one_line_with_status_2(script_env, tmp_path):
    result = run_script(script_env, str(tmp_path / "missing.xlsx"))

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "missing.xlsx: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_script_refuses_strict_rejection_in_one_line_with_status_2(script_env):
    result = run_script(script_env, str(FIXTURES / "messy_partners.csv"), "--strict", "--json")

    assert result.returncode == 2
    assert json.loads(result.stdout)["applied"] is False
    assert result.stderr.strip().splitlines() == [
        "CommandError: 4 row(s) rejected with --strict: nothing was applied."
    ]


def test_the_script_imports_and_prints_json(script_env):
    result = run_script(script_env, str(FIXTURES / "messy_partners.csv"), "--json")

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["applied"] is True
    assert report["new_services"] == ["Hyperbaric oxygen therapy"]
    assert result.stderr == ""
