"""Headers the importer has not seen are read by what they mean, and the report says so."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import Workbook

from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.network.headers import header_meaning, header_words
from medworks.network.importing import directory_import
from medworks.network.models import Location, Offering
from medworks.network.spreadsheet import ColumnsError, field_for_header, read_sheet

SYSTEM = Actor.system("tests")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        # Postal code
        ("Zip / Postal", "postal_code"),
        ("PostalCd", "postal_code"),
        ("postal_cd", "postal_code"),
        ("Code postal de la clinique", "postal_code"),
        ("Zip Or Postal", "postal_code"),
        # Location name
        ("Clinic Nm", "location"),
        ("Facility Nm", "location"),
        ("ClinicName2", "location"),
        ("Nom clinique", "location"),
        ("Établissement (nom)", "location"),
        # Partner
        ("Provider Nm", "partner"),
        ("Nom du fournisseur", "partner"),
        ("Affiliate / Network", "partner"),
        # Phone: the clinic's phone is a phone, "#" and "No." are numbers that go with it
        ("Main phone #", "phone"),
        ("Clinic Phone", "phone"),
        ("Tél. clinique", "phone"),
        ("No. tél. clinique", "phone"),
        ("ClinicPhoneNo", "phone"),
        # Email, address
        ("E-Mail Addr.", "email"),
        ("Clinic Email", "email"),
        ("Courriel de la clinique", "email"),
        ("Mailing address", "address"),
        ("Street Address 2", "address"),
        # Price: a service's fee is a price
        ("Cost per exam ($)", "price"),
        ("Clinic Fee ($CAD)", "price"),
        ("Service Fee", "price"),
        ("Tarif clinique ($)", "price"),
        ("Frais de la clinique", "price"),
        # The rest of the layout
        ("Svc Cd", "service"),
        ("Exam Type", "service"),
        ("Prestation offerte", "service"),
        ("Type of partner", "partner_type"),
        ("Ville / Municipalité", "city"),
        ("Province/State", "province"),
        ("Billing Type", "billing"),
        ("Mode de règlement", "billing"),
        ("Accepts prepaid (Y/N)", "accepts_prepayment"),
        ("Paiement anticipé accepté?", "accepts_prepayment"),
        ("Langue(s) de service", "languages"),
        ("Spoken languages", "languages"),
        ("Comments / remarks", "notes"),
    ],
)
def test_a_header_that_clearly_names_a_field_is_read_as_it(header, field):
    assert field_for_header(header) is None  # not a synonym: read by meaning
    meaning = header_meaning(header)

    assert meaning.field == field, meaning
    assert meaning.reason == "matched"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Name", "ambiguous"),  # partner's, location's or service's
        ("Code", "ambiguous"),  # postal code or service code
        ("Clinic / Partner", "ambiguous"),
        ("Type de clinique", "ambiguous"),  # the partner's type, or the clinic?
        ("City/Province", "ambiguous"),
        ("Phone/Email", "ambiguous"),
        ("Number", "other_column"),
        ("Fax", "other_column"),
        ("Gestionnaire", "other_column"),
        ("Account manager", "other_column"),
        ("Clinic ID", "other_column"),
        ("Site web", "other_column"),
        ("Service area", "other_column"),
        ("Harbour Health", "no_known_word"),
        ("Modalité", "no_known_word"),
        ("Toronto Downtown Postal", "unclear"),  # one word of three known
    ],
)
def test_an_ambiguous_or_foreign_header_is_not_guessed(header, reason):
    meaning = header_meaning(header)

    assert meaning.field is None, meaning
    assert meaning.reason == reason


def test_the_words_are_split_normalised_and_filler_dropped():
    assert header_words("PostalCd") == ["postal", "cd"]
    assert header_words("Nom de la clinique") == ["nom", "clinique"]
    assert header_words("No. du téléphone #") == ["no", "telephone", "number"]
    assert header_words("e-mail_address") == ["email", "address"]
    assert header_words("Address1") == ["address"]
    assert header_words("ZIPCode") == ["zip"]


def test_a_meaning_is_explained_by_its_concepts_and_scores():
    meaning = header_meaning("Tél. clinique")

    assert meaning.concepts == ("phone", "site")
    assert meaning.scores == {"phone": 3, "location": 2}
    assert meaning.unknown == ()


# --- in a file ------------------------------------------------------------------------------

UNSEEN = [
    "Provider Nm",
    "Clinic Nm",
    "Street",
    "Town",
    "Prov",
    "Zip / Postal",
    "Main phone #",
    "Svc Cd",
    "Cost per exam ($)",
    "Fax",
]
ROW = [
    "Harbour Health",
    "Harbour Downtown",
    "123 Front St W",
    "Toronto",
    "ON",
    "M5V 3L9",
    "416-555-0101",
    "XRAY",
    "95",
    "416-555-0199",
]


def write_csv(path: Path, *rows: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, *rows: list[object]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


@pytest.mark.django_db
def test_a_file_of_unseen_headers_imports_and_the_report_says_how_each_was_read(tmp_path):
    path = write_xlsx(tmp_path / "partners.xlsx", ["Partners — March"], [], UNSEEN, ROW)

    report = directory_import(file=path, filename=path.name, actor=SYSTEM)

    assert report.applied
    location = Location.objects.get()
    assert (location.name, location.postal_code, location.phone) == (
        "Harbour Downtown",
        "M5V 3L9",
        "416-555-0101",  # the phone, not the fax
    )
    assert Offering.objects.get().clinic_price == 95
    read = {r.header: (r.field, r.how) for r in report.columns_read}
    assert read == {
        "Provider Nm": ("partner", "meaning"),
        "Clinic Nm": ("location", "meaning"),
        "Zip / Postal": ("postal_code", "meaning"),
        "Main phone #": ("phone", "meaning"),
        "Svc Cd": ("service", "meaning"),
        "Cost per exam ($)": ("price", "meaning"),
    }  # "Street", "Town" and "Prov" are synonyms: not listed; "Fax" is read as nothing
    assert report.as_dict()["columns_read"][2] == {
        "header": "Zip / Postal",
        "field": "postal_code",
        "how": "meaning",
    }
    messages = [r.describe() for r in report.columns_read]
    assert "Column 'Zip / Postal' read as Postal code" in messages


@pytest.mark.django_db
def test_the_report_says_it_in_french_too(tmp_path):
    path = write_csv(tmp_path / "p.csv", UNSEEN, ROW)
    report = directory_import(file=path, filename=path.name, actor=SYSTEM, dry_run=True)

    with translation.override("fr"):
        messages = [r.describe() for r in report.columns_read]

    assert "Colonne « Zip / Postal » lue comme Code postal" in messages


def test_synonyms_keep_their_answer_and_are_not_listed_as_guesses(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["Clinic Name", "Partner", "Code postal", "Service", "Clinic Phone"],
        ["Main", "A", "M5V 3L9", "XRAY", "416"],
    )

    sheet = read_sheet(file=path, filename=path.name)

    assert sheet.columns == {
        "location": 0,
        "partner": 1,
        "postal_code": 2,
        "service": 3,
        "phone": 4,
    }
    assert [(r.header, r.how) for r in sheet.read_as] == [("Clinic Phone", "meaning")]


def test_a_header_meaning_two_fields_stays_unread_and_the_file_is_refused(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["Name", "Clinic Nm", "Zip / Postal", "Service"],
        ["Harbour Health", "Main", "M5V 3L9", "XRAY"],
    )

    with pytest.raises(ColumnsError) as caught:
        read_sheet(file=path, filename=path.name)

    error = caught.value
    assert error.code == "import_missing_columns"
    assert error.missing == ["partner"]  # "Name" could be the partner's: not guessed
    assert error.headers == ["Name", "Clinic Nm", "Zip / Postal", "Service"]
    assert error.found == {
        "location": "Clinic Nm",
        "postal_code": "Zip / Postal",
        "service": "Service",
    }


def test_of_two_headers_meaning_one_field_the_stronger_then_the_first_is_read(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["Partner", "Site", "Zip", "Service", "Tel clinique", "Phone #", "Cell"],
        ["A", "B", "M5V 3L9", "XRAY", "1", "2", "3"],
    )

    sheet = read_sheet(file=path, filename=path.name)

    # "Phone #" scores 4 (phone + number) against 3 for the others.
    assert sheet.rows[0].cells["phone"] == "2"
    assert "Tel clinique" in sheet.unknown_headers and "Cell" in sheet.unknown_headers


def test_the_header_row_is_found_by_meaning_below_a_title(tmp_path):
    path = write_csv(
        tmp_path / "p.csv",
        ["Affiliate partner list, 2025"],
        ["Provider Nm", "Clinic Nm", "Zip / Postal", "Svc Cd"],
        ["A", "B", "M5V 3L9", "XRAY"],
    )

    sheet = read_sheet(file=path, filename=path.name)

    assert sheet.header_row == 2
    assert sheet.rows[0].cells == {
        "partner": "A",
        "location": "B",
        "postal_code": "M5V 3L9",
        "service": "XRAY",
    }


def test_a_file_with_no_recognisable_header_is_still_refused(tmp_path):
    path = write_csv(tmp_path / "p.csv", ["Alpha", "Beta", "Gamma"], ["1", "2", "3"])

    with pytest.raises(DomainError) as caught:
        read_sheet(file=path, filename=path.name)

    assert caught.value.code == "import_no_header"
