"""The import page: upload, dry run, strict, the report; the export download."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from medworks.network.models import Location

IMPORT = reverse("web:directory_import")

HEADER = (
    "Partner,Partner Type,Location,Address,City,Province,Postal Code,Phone,Email,"
    "Service,Price,Billing,Accepts Pre-payment,Languages,Notes\n"
)
GOOD = (
    "Harbour Health,Network,Harbour Downtown,123 Front St W,Toronto,ON,M5V 3L9,,,"
    "X-ray,$1250.00,Direct billing,Y,English,\n"
)
BAD = "Harbour Health,Network,Harbour East,1 Queen St E,Toronto,ON,12345,,,X-ray,95,,N,,\n"
DUPLICATE = GOOD


def _csv(*rows: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("partners.csv", (HEADER + "".join(rows)).encode(), "text/csv")


def test_a_dry_run_reports_what_would_change_and_saves_nothing(client, coordinator):
    client.force_login(coordinator)
    response = client.post(IMPORT, {"file": _csv(GOOD, BAD, DUPLICATE), "dry_run": "on"})
    page = response.content.decode()
    report = response.context["report"]
    assert report.dry_run and not report.applied
    assert "Dry run — nothing was saved" in page
    assert "Rows rejected" in page
    # The rejected row is named by its spreadsheet row number, with the reason.
    [rejected] = report.rejected
    assert f'<td class="num">{rejected.row}</td>' in page
    assert rejected.errors[0] in page or rejected.errors[0].replace("'", "&#x27;") in page
    assert f"Rows {report.duplicates[0]}" in page
    assert Location.objects.count() == 0


def test_an_import_saves_the_rows_and_shows_the_counts(client, coordinator):
    client.force_login(coordinator)
    response = client.post(IMPORT, {"file": _csv(GOOD)})
    report = response.context["report"]
    assert report.applied
    assert report.locations_created == 1
    assert "Imported" in response.content.decode()
    assert Location.objects.get().postal_code == "M5V 3L9"


def test_strict_mode_refuses_the_whole_file_when_a_row_is_bad(client, coordinator):
    client.force_login(coordinator)
    response = client.post(IMPORT, {"file": _csv(GOOD, BAD), "strict": "on"})
    assert not response.context["report"].applied
    assert "Strict mode: the file was refused" in response.content.decode()
    assert Location.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_with_a_clear_message(client, coordinator, settings):
    settings.MEDWORKS_IMPORT_MAX_BYTES = 100
    client.force_login(coordinator)
    response = client.post(IMPORT, {"file": _csv(GOOD, GOOD, GOOD)})
    page = response.content.decode()
    assert "the largest accepted is 100\xa0bytes" in page
    assert response.context["report"] is None


def test_a_file_too_large_to_keep_says_so_instead_of_field_required(client, coordinator, settings):
    """Past every page's limit the upload handler drops the file as it arrives (web/uploads.py)."""
    settings.MEDWORKS_IMPORT_MAX_BYTES = 1000
    settings.MEDWORKS_DOCUMENT_MAX_BYTES = 1000
    client.force_login(coordinator)
    huge = SimpleUploadedFile("partners.csv", b"Partner,Location\n" + b"x" * 200_000, "text/csv")
    response = client.post(IMPORT, {"file": huge})
    page = response.content.decode()
    assert "larger than 1000\xa0bytes" in page
    assert "This field is required" not in page
    assert response.context["report"] is None


def test_an_unreadable_file_is_refused_on_the_form(client, coordinator):
    client.force_login(coordinator)
    junk = SimpleUploadedFile("partners.xlsx", b"not a workbook", "application/octet-stream")
    response = client.post(IMPORT, {"file": junk})
    assert response.context["report"] is None
    assert response.context["form"].errors


def test_only_spreadsheets_are_accepted(client, coordinator):
    client.force_login(coordinator)
    response = client.post(IMPORT, {"file": SimpleUploadedFile("notes.pdf", b"%PDF")})
    assert "Upload an .xlsx or .csv file." in response.content.decode()


def test_the_export_downloads_the_directory_as_a_workbook(client, coordinator, directory):
    client.force_login(coordinator)
    response = client.get(reverse("web:directory_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="medworks-directory-')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Partner"
    assert rows[1][0] == "Lakeshore Imaging"
