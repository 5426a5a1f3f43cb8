"""Columns the user says: given mappings win, bad ones are refused, nothing is imported while a
needed column is unknown, and what the user said is remembered for the next import."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from medworks.core.actor import Actor
from medworks.core.models import AuditEvent
from medworks.network.importing import directory_import
from medworks.network.models import AffiliatePartner, ColumnMapping, Location, Offering
from medworks.network.spreadsheet import ColumnsError
from tests.factories import act

pytestmark = pytest.mark.django_db

MEDWORKS = Path(sys.executable).parent / "medworks"
SYSTEM = Actor.system("tests")

# "Offered" and "Where" mean nothing the importer knows: the service and the postal code are
# unknown until someone says which columns they are.
HEADERS = ["Provider Nm", "Clinic Nm", "Where", "Offered", "Cost ($)", "Fax"]
ROWS = [
    ["Harbour Health", "Harbour Downtown", "M5V 3L9", "XRAY", "95", "416-555-0199"],
    ["Harbour Health", "Harbour East", "M4M 1H6", "MRI", "", ""],
]
NEEDED = {"postal_code": "Where", "service": "Offered"}


def write_csv(path: Path, headers: list[str] = HEADERS, rows: list[list[str]] = ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([headers, *rows])
    return path


def run_import(path: Path, **kwargs):
    kwargs.setdefault("actor", SYSTEM)
    return directory_import(file=path, filename=path.name, **kwargs)


def refusal(path: Path, **kwargs) -> ColumnsError:
    with pytest.raises(ColumnsError) as caught:
        run_import(path, **kwargs)
    return caught.value


def test_while_a_needed_column_is_unknown_nothing_is_imported_and_the_headers_come_back(
    tmp_path,
):
    error = refusal(write_csv(tmp_path / "p.csv"))

    assert error.code == "import_missing_columns"
    assert error.missing == ["postal_code", "service"]
    assert error.headers == HEADERS
    assert error.found == {"partner": "Provider Nm", "location": "Clinic Nm", "price": "Cost ($)"}
    assert "Postal Code, Service" in error.message
    assert "'Where'" in error.message and "'Offered'" in error.message
    assert AffiliatePartner.objects.count() == 0 and Location.objects.count() == 0


def test_columns_given_by_the_user_are_read_and_the_report_says_so(tmp_path):
    report = run_import(write_csv(tmp_path / "p.csv"), columns=NEEDED)

    assert report.applied
    assert sorted(Location.objects.values_list("postal_code", flat=True)) == [
        "M4M 1H6",
        "M5V 3L9",
    ]
    assert Offering.objects.count() == 2
    read = [(r.header, r.field, r.how) for r in report.columns_read]
    assert ("Where", "postal_code", "given") in read
    assert ("Offered", "service", "given") in read
    assert ("Clinic Nm", "location", "meaning") in read
    described = [r.describe() for r in report.columns_read]
    assert "Column 'Where' read as Postal code (as you said)" in described


def test_a_given_column_wins_over_a_synonym_and_a_guess(tmp_path):
    # "Clinic Name" is location's synonym, "Provider Nm" the partner by meaning: the user says
    # the partner is "Clinic Name" and the location "Provider Nm".
    path = write_csv(
        tmp_path / "p.csv",
        ["Clinic Name", "Provider Nm", "Postal Code", "Service"],
        [["Harbour Health", "Harbour Downtown", "M5V 3L9", "XRAY"]],
    )

    run_import(path, columns={"partner": "Clinic Name", "location": "Provider Nm"})

    location = Location.objects.get()
    assert (location.partner.name, location.name) == ("Harbour Health", "Harbour Downtown")


def test_given_headers_match_ignoring_case_and_blank_ones_are_not_given(tmp_path):
    columns = {"postal_code": "  where ", "service": "OFFERED", "notes": ""}
    report = run_import(write_csv(tmp_path / "p.csv"), columns=columns)

    assert report.applied and Offering.objects.count() == 2


@pytest.mark.parametrize(
    ("columns", "field", "words"),
    [
        ({"postcode": "Where", "service": "Offered"}, "postcode", "is not a column"),
        ({"postal_code": "Where", "service": "where"}, "service", "already given for"),
        ({"postal_code": "Somewhere", "service": "Offered"}, "postal_code", "is not in the file"),
    ],
)
def test_a_bad_mapping_is_refused_on_its_field_and_nothing_is_imported(
    tmp_path, columns, field, words
):
    error = refusal(write_csv(tmp_path / "p.csv"), columns=columns)

    assert error.code == "import_columns_invalid"
    assert list(error.fields) == [field]
    assert words in error.fields[field][0]
    assert AffiliatePartner.objects.count() == 0
    assert ColumnMapping.objects.count() == 0


def test_a_header_not_in_the_file_is_refused_with_the_files_headers(tmp_path):
    error = refusal(write_csv(tmp_path / "p.csv"), columns={"postal_code": "Somewhere"})

    assert error.headers == HEADERS
    assert "'Where'" in error.fields["postal_code"][0]


def test_the_columns_given_are_remembered_and_read_at_the_next_import(tmp_path, coordinator):
    path = write_csv(tmp_path / "p.csv")
    run_import(path, columns=NEEDED, actor=act(coordinator))

    mapping = ColumnMapping.objects.get(header_key="where")
    assert (mapping.header, mapping.field_name, mapping.set_by) == (
        "Where",
        "postal_code",
        coordinator,
    )
    assert set(ColumnMapping.objects.values_list("field_name", flat=True)) == {
        "postal_code",
        "service",
    }
    event = AuditEvent.objects.get(action="directory.columns_remembered")
    assert event.actor == coordinator
    assert event.payload == {"columns": {"Where": "postal_code", "Offered": "service"}}

    again = run_import(path)  # no columns given this time

    assert again.applied
    assert again.offerings_created == 0 and again.offerings_updated == 0
    assert ("Where", "postal_code", "remembered") in [
        (r.header, r.field, r.how) for r in again.columns_read
    ]
    assert "Column 'Offered' read as Service (remembered)" in [
        r.describe() for r in again.columns_read
    ]


def test_giving_the_same_columns_again_writes_no_second_audit_event(tmp_path):
    path = write_csv(tmp_path / "p.csv")
    run_import(path, columns=NEEDED)
    run_import(path, columns=NEEDED)

    assert AuditEvent.objects.filter(action="directory.columns_remembered").count() == 1


def test_a_dry_run_remembers_nothing(tmp_path):
    report = run_import(write_csv(tmp_path / "p.csv"), columns=NEEDED, dry_run=True)

    assert report.dry_run and not report.applied
    assert ColumnMapping.objects.count() == 0
    assert refusal(write_csv(tmp_path / "p.csv")).missing == ["postal_code", "service"]


def test_a_strict_import_refused_for_a_bad_row_remembers_nothing(tmp_path):
    rows = [*ROWS, ["Harbour Health", "Harbour North", "12345", "XRAY", "", ""]]
    report = run_import(write_csv(tmp_path / "p.csv", rows=rows), columns=NEEDED, strict=True)

    assert not report.applied
    assert ColumnMapping.objects.count() == 0


def test_a_given_synonym_is_read_as_a_synonym_and_not_remembered(tmp_path):
    report = run_import(write_csv(tmp_path / "p.csv"), columns={**NEEDED, "partner": "Provider Nm"})
    # "Provider Nm" is not a synonym: remembered; now give a real synonym.
    path = write_csv(
        tmp_path / "q.csv",
        ["Partner", "Location", "Where", "Offered"],
        [["A", "B", "M5V 3L9", "XRAY"]],
    )
    second = run_import(path, columns={"partner": "Partner"})

    assert "partner" in {r.field for r in report.columns_read if r.how == "given"}
    assert "Partner" not in [r.header for r in second.columns_read]
    assert not ColumnMapping.objects.filter(header_key="partner").exists()


def test_remembered_mappings_come_after_synonyms_and_before_meaning(tmp_path):
    ColumnMapping.objects.create(
        header_key="clinicnm", header="Clinic Nm", field_name="partner", set_at=timezone.now()
    )
    ColumnMapping.objects.create(
        header_key="location", header="Location", field_name="notes", set_at=timezone.now()
    )
    path = write_csv(
        tmp_path / "p.csv",
        ["Clinic Nm", "Location", "Postal Code", "Service"],
        [["Harbour Health", "Harbour Downtown", "M5V 3L9", "XRAY"]],
    )

    report = run_import(path)

    # "Location" stays the location (its synonym); "Clinic Nm" is the partner as remembered,
    # not the location its words say.
    location = Location.objects.get()
    assert (location.partner.name, location.name) == ("Harbour Health", "Harbour Downtown")
    assert [(r.header, r.how) for r in report.columns_read] == [("Clinic Nm", "remembered")]


# --- the command line: the installed console script ----------------------------------------


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


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def test_the_script_names_the_missing_fields_and_the_files_headers_in_one_line(
    script_env, tmp_path
):
    line = one_line(run_script(script_env, str(write_csv(tmp_path / "p.csv"))))

    assert "no column for Postal Code, Service" in line
    assert "'Provider Nm', 'Clinic Nm', 'Where', 'Offered', 'Cost ($)', 'Fax'" in line
    assert "--column FIELD=HEADER (missing: postal_code, service)" in line


@pytest.mark.parametrize(
    ("argument", "words"),
    [
        ("postal_code", "write FIELD=HEADER"),
        ("=Where", "write FIELD=HEADER"),
        ("postal_code=", "write FIELD=HEADER"),
        ("postcode=Where", "'postcode' is not a field; the fields are: partner,"),
    ],
)
def test_the_script_refuses_a_bad_column_in_one_line_with_status_2(
    script_env, tmp_path, argument, words
):
    path = write_csv(tmp_path / "p.csv")

    line = one_line(run_script(script_env, str(path), "--column", argument))

    assert words in line


def test_the_script_refuses_a_header_that_is_not_in_the_file(script_env, tmp_path):
    path = write_csv(tmp_path / "p.csv")

    line = one_line(
        run_script(
            script_env, str(path), "--column", "postal_code=Nowhere", "--column", "service=Offered"
        )
    )

    assert "Postal code: column 'Nowhere' is not in the file" in line


def test_the_script_imports_with_columns_and_remembers_them(script_env, tmp_path):
    # Headers of its own: what this test makes the script's database remember stays out of
    # the other script tests' way.
    headers = ["Provider Nm", "Clinic Nm", "Spot", "Item"]
    path = write_csv(tmp_path / "p.csv", headers, [row[:4] for row in ROWS])

    first = run_script(
        script_env, str(path), "--column", "Postal Code=Spot", "--column", "service=Item"
    )
    second = run_script(script_env, str(path), "--json")

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Imported p.csv.")
    assert "Column 'Spot' read as Postal code (as you said)" in first.stdout
    assert "Column 'Clinic Nm' read as Location" in first.stdout
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert report["applied"] is True
    assert report["offerings_created"] == 0  # the same file, remembered columns: no change
    assert {"header": "Item", "field": "service", "how": "remembered"} in report["columns_read"]
