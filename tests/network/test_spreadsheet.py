"""Reading spreadsheets: headers found by synonym below title rows, cells as people see them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from medworks.core.errors import DomainError
from medworks.network.spreadsheet import cell_text, field_for_header, read_sheet

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Partner", "partner"),
        ("Partenaire", "partner"),
        ("Partner Type", "partner_type"),
        ("Clinic Name", "location"),
        ("  CLINIC   name ", "location"),
        ("Adresse", "address"),
        ("Ville", "city"),
        ("Prov.", "province"),
        ("Postal", "postal_code"),
        ("Code postal", "postal_code"),
        ("code_postal", "postal_code"),
        ("Téléphone", "phone"),
        ("Courriel", "email"),
        ("E-mail", "email"),
        ("Service", "service"),
        ("Cost", "price"),
        ("Fee", "price"),
        ("Prix", "price"),
        ("Price ($)", "price"),
        ("Billing", "billing"),
        ("Accepts Pre-payment", "accepts_prepayment"),
        ("Accepts pre-payment?", "accepts_prepayment"),
        ("Langues", "languages"),
        ("Notes", "notes"),
        ("Account manager", None),
    ],
)
def test_headers_match_ignoring_case_spacing_accents_and_punctuation(header, field):
    assert field_for_header(header) == field


def test_cells_read_as_a_person_sees_them():
    assert cell_text(4165550101) == "4165550101"
    assert cell_text(4165550101.0) == "4165550101"
    assert cell_text(85.5) == "85.5"
    assert cell_text(None) == ""
    assert cell_text("  Harbour \u00a0  Clinic ") == "Harbour Clinic"


@pytest.mark.parametrize("name", ["messy_partners.xlsx", "messy_partners.csv"])
def test_the_header_row_is_found_below_title_rows_and_rows_keep_their_numbers(name):
    sheet = read_sheet(file=FIXTURES / name, filename=name)

    assert sheet.header_row == 4
    numbers = [row.number for row in sheet.rows]
    assert numbers[0] == 5
    assert 8 not in numbers  # the blank row is skipped but still counted
    assert numbers[-1] == 20
    assert sheet.rows[2].cells["partner"] == "Clinique Médicale St-Jean"  # accents survive
    assert set(sheet.columns) >= {"partner", "location", "postal_code", "service", "price"}


def test_numeric_xlsx_cells_come_back_as_numbers():
    sheet = read_sheet(file=FIXTURES / "messy_partners.xlsx", filename="messy_partners.xlsx")

    first = sheet.rows[0].cells
    assert first["phone"] == 4165550101
    assert cell_text(first["phone"]) == "4165550101"


def test_a_utf8_csv_with_a_bom_and_tabs_is_read():
    data = "\ufeffPartner\tLocation\tPostal Code\tService\nÉcole Santé\tSite 1\tH2X 1Y4\tGP\n"
    sheet = read_sheet(file=io.BytesIO(data.encode("utf-8")), filename="p.tsv")

    assert sheet.header_row == 1
    assert sheet.rows[0].number == 2
    assert sheet.rows[0].cells["partner"] == "École Santé"


def test_a_comma_csv_with_quoted_commas_is_read():
    data = (
        'Partner,Location,Postal Code,Service,Price\n"Harbour, Inc",Main,M5V 3L9,GP,"$1,250.00"\n'
    )
    sheet = read_sheet(file=io.BytesIO(data.encode()), filename="p.csv")

    assert sheet.rows[0].cells == {
        "partner": "Harbour, Inc",
        "location": "Main",
        "postal_code": "M5V 3L9",
        "service": "GP",
        "price": "$1,250.00",
    }


def test_the_first_sheet_with_a_header_is_used():
    workbook = Workbook()
    workbook.active.append(["Read me first: instructions"])
    data = workbook.create_sheet("Data")
    data.append(["Partner", "Clinic", "Postal", "Service"])
    data.append(["A", "B", "M5V 3L9", "GP"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)

    sheet = read_sheet(file=buffer, filename="two-sheets.xlsx")

    assert sheet.rows[0].cells["location"] == "B"


def _error(data: bytes, filename: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        read_sheet(file=io.BytesIO(data), filename=filename)
    return caught.value


def test_a_file_without_a_header_row_is_refused_with_the_expected_names():
    error = _error(b"just,some,numbers\n1,2,3\n", "numbers.csv")

    assert error.code == "import_no_header"
    assert "Postal Code" in error.message


def test_a_header_without_a_required_column_is_refused_naming_it():
    error = _error(b"Partner;Location;Service;Price\nA;B;GP;10\n", "p.csv")

    assert error.code == "import_missing_columns"
    assert "Postal Code" in error.message


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (b"", "empty.csv", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
        (b"not a zip at all", "fake.xlsx", "not a valid .xlsx"),
        (b"PK\x03\x04broken", "broken.xlsx", "not a readable .xlsx"),
        (b"\x00\x01\x02\x03", "photo.png", "unknown file format"),
    ],
)
def test_an_unreadable_file_is_refused_with_a_clear_message(data, filename, words):
    error = _error(data, filename)

    assert error.code == "import_unreadable"
    assert words in error.message


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(DomainError) as caught:
        read_sheet(file=tmp_path / "nope.xlsx", filename="nope.xlsx")

    assert caught.value.code == "import_unreadable"
    assert "no such file" in caught.value.message
