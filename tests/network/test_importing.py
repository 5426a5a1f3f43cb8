"""Importing the National Affiliate Partner Spreadsheet: what lands in the directory, what not."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from medworks.core.models import AuditEvent
from medworks.network.exporting import directory_export_xlsx
from medworks.network.geo import geocode
from medworks.network.importing import ImportReport, RowError, directory_import
from medworks.network.models import AffiliatePartner, Location, Offering, Service
from tests.factories import act

from .. import factories

FIXTURES = Path(__file__).parent / "fixtures"
MESSY = ["messy_partners.xlsx", "messy_partners.csv"]
HEADER = (
    "Partner;Partner Type;Location;Province;Postal Code;Service;Price;Billing;Accepts Pre-payment"
)

pytestmark = pytest.mark.django_db


def import_fixture(name: str, **options) -> ImportReport:
    return directory_import(file=FIXTURES / name, filename=name, actor=act(None), **options)


def import_csv(*lines: str, header: str = HEADER, **options) -> ImportReport:
    data = "\n".join([header, *lines]).encode("utf-8")
    return directory_import(
        file=io.BytesIO(data), filename="partners.csv", actor=act(None), **options
    )


def directory_snapshot() -> tuple:
    return (
        sorted(AffiliatePartner.objects.values_list("name", "kind", "accepts_prepayment")),
        sorted(Location.objects.values_list("name", "postal_code", "province", "latitude")),
        sorted(
            (str(o.location.postal_code), o.service.code, o.clinic_price)
            for o in Offering.objects.select_related("location", "service")
        ),
        Service.objects.count(),
    )


@pytest.mark.parametrize("name", MESSY)
def test_the_messy_spreadsheet_imports_its_good_rows_and_lists_the_bad_ones(name):
    report = import_fixture(name)

    assert report.applied is True
    assert report.rows_read == 15
    assert (report.partners_created, report.locations_created, report.offerings_created) == (
        5,
        6,
        9,
    )
    assert (report.partners_updated, report.locations_updated, report.offerings_updated) == (
        0,
        0,
        0,
    )
    assert report.new_services == ["Hyperbaric oxygen therapy"]
    assert report.duplicates == [11]
    assert [r.row for r in report.rejected] == [13, 14, 15, 16]


@pytest.mark.parametrize("name", MESSY)
def test_each_rejected_row_lists_every_problem_and_what_to_fix(name):
    errors = {r.row: r.errors for r in import_fixture(name, dry_run=True).rejected}

    assert len(errors[13]) == 3
    assert "postal code K1A 0B1 is in ON" in errors[13][0]
    assert "not NB: fix the province or the postal code" in errors[13][0]
    assert errors[13][1] == "email 'not-an-email' is not a valid address"
    assert errors[13][2] == "price 'abc' is not an amount such as 125.00"
    assert errors[14] == [
        "partner is missing: write the partner's name",
        "service is missing: a price was given but no service",
    ]
    assert "no Canadian code starts with W or Z" in errors[15][0]
    assert errors[15][1].startswith("unknown province 'Atlantis'")
    assert errors[16] == [
        "partner type 'Franchise' is not known: write Network or Individual",
        "billing 'bitcoin' not understood: use Direct billing, Credit card or EFT",
        "accepts pre-payment: 'maybe' is not yes or no (write Yes or No)",
    ]


def test_messy_cells_are_cleaned_into_the_directory():
    import_fixture("messy_partners.xlsx")

    harbour = AffiliatePartner.objects.get(name_key="harbour health network")
    assert harbour.name == "Harbour Health Network"  # stray spaces gone
    assert harbour.kind == "network"
    assert harbour.billing_arrangements == ["direct_billing", "credit_card", "eft"]
    assert harbour.accepts_prepayment is True
    downtown = harbour.locations.get(name="Harbour Clinic Downtown")
    assert downtown.postal_code == "M5V 3L9"
    assert downtown.province == "ON"
    assert downtown.phone == "4165550101"
    assert downtown.email == "info@harbour.example"
    assert downtown.languages == "English, French"
    assert downtown.notes == "Parking behind the building"
    assert downtown.geo_precision == "postal_code"
    assert downtown.latitude == pytest.approx(43.64, abs=0.05)
    assert downtown.geo_cell is not None
    prices = {o.service.code: o.clinic_price for o in downtown.offerings.select_related("service")}
    assert prices["XRAY"] == Decimal("1250.00")
    assert prices["MRI"] == Decimal("95.00")

    st_jean = AffiliatePartner.objects.get(name="Clinique Médicale St-Jean")
    assert st_jean.kind == "network"  # Réseau
    assert st_jean.billing_arrangements == ["direct_billing", "eft"]
    location = st_jean.locations.get()
    assert (location.city, location.province, location.postal_code) == (
        "Montréal",
        "QC",
        "H2X 1Y4",
    )
    assert location.languages == "French, English"
    codes = {o.service.code: o.clinic_price for o in location.offerings.select_related("service")}
    assert codes == {"XRAY": Decimal("1250.00"), "ULTRASOUND": Decimal("180.00")}

    prairie = AffiliatePartner.objects.get(name="Prairie Physio")
    assert prairie.kind == "individual"
    assert prairie.billing_arrangements == ["credit_card"]
    assert prairie.accepts_prepayment is False
    offerings = {
        o.service.code: o.clinic_price for o in Offering.objects.filter(location__partner=prairie)
    }
    assert offerings == {"PHYSIO": Decimal("85.50"), "MASSAGE": None}

    atlantic = AffiliatePartner.objects.get(name="Atlantic Care")
    assert (atlantic.kind, atlantic.billing_arrangements) == ("individual", ["eft"])
    assert atlantic.locations.get().province == "NS"

    northern = Location.objects.get(name="Northern Clinic Yellowknife")
    assert northern.province == "NT"
    assert northern.offerings.count() == 0
    assert northern.notes == "Fly-in only"


def test_a_postal_code_missing_from_the_data_is_placed_at_its_area_centre():
    import_fixture("messy_partners.xlsx")

    king_west = Location.objects.get(name="Harbour Clinic King West")

    assert king_west.postal_code == "M5V 9Z9"
    assert king_west.geo_precision == "fsa"
    assert king_west.latitude is not None


def test_an_unknown_service_becomes_one_new_catalogue_entry():
    import_fixture("messy_partners.xlsx")

    service = Service.objects.get(name_key="hyperbaric oxygen therapy")
    assert service.code == "HYPERBARIC_OXYGEN_THERAPY"
    assert service.category == "other"
    assert service.offerings.count() == 2


def test_generated_service_codes_are_unique_even_when_long_names_share_a_start():
    report = import_csv(
        "A;;Site;ON;M5V 3L9;Extended hyperbaric oxygen session A;10;;",
        "A;;Site;ON;M5V 3L9;Extended hyperbaric oxygen session B;10;;",
    )

    assert len(report.new_services) == 2
    codes = set(Service.objects.filter(category="other").values_list("code", flat=True))
    assert {"EXTENDED_HYPERBARIC_OXYGEN", "EXTENDED_HYPERBARIC_OXYGEN_2"} <= codes


def test_services_are_matched_by_code_english_or_french_name():
    report = import_csv(
        "A;;Site;ON;M5V 3L9;xray;10;;",
        "A;;Site;ON;M5V 3L9;Ultrasound;20;;",
        "A;;Site;ON;M5V 3L9;PHYSIOTHÉRAPIE;30;;",
        "A;;Site;ON;M5V 3L9;mri;40;;",
    )

    assert report.new_services == []
    codes = set(Offering.objects.values_list("service__code", flat=True))
    assert codes == {"XRAY", "ULTRASOUND", "PHYSIO", "MRI"}


@pytest.mark.parametrize("name", MESSY)
def test_importing_the_same_file_again_changes_nothing(name):
    import_fixture(name)
    before = directory_snapshot()

    again = import_fixture(name)

    assert again.as_dict() | {"rejected": []} == {
        "rows_read": 15,
        "partners_created": 0,
        "partners_updated": 0,
        "locations_created": 0,
        "locations_updated": 0,
        "offerings_created": 0,
        "offerings_updated": 0,
        "new_services": [],
        "duplicates": [11],
        "rejected": [],
        "applied": True,
        "dry_run": False,
        "strict": False,
        "columns_read": [],  # every header of the fixtures is a synonym, or read as none
    }
    assert directory_snapshot() == before


def test_the_csv_and_the_xlsx_say_the_same_thing():
    import_fixture("messy_partners.xlsx")

    report = import_fixture("messy_partners.csv")

    assert report.partners_updated + report.locations_updated + report.offerings_updated == 0
    assert report.partners_created + report.locations_created + report.offerings_created == 0


def test_updated_counts_only_what_actually_changed():
    import_csv("A;Network;Site;ON;M5V 3L9;GP;100;;", "A;Network;Site;ON;M5V 3L9;XRAY;50;;")

    report = import_csv("A;Network;Site;ON;M5V 3L9;GP;100;;", "A;Network;Site;ON;M5V 3L9;XRAY;55;;")

    assert report.offerings_updated == 1
    assert (report.partners_updated, report.locations_updated) == (0, 0)
    assert Offering.objects.get(service__code="XRAY").clinic_price == Decimal("55.00")


def test_for_partner_values_the_last_non_blank_row_wins():
    import_csv(
        "A;Network;Site 1;ON;M5V 3L9;GP;;Direct billing;Yes",
        "A;;Site 2;ON;M5V 3L9;GP;;;",
        "A;Individual;Site 3;ON;M5V 3L9;GP;;EFT;No",
        "A;;Site 4;ON;M5V 3L9;GP;;;",
    )

    partner = AffiliatePartner.objects.get()
    assert partner.kind == "individual"
    assert partner.billing_arrangements == ["eft"]
    assert partner.accepts_prepayment is False


def test_a_blank_cell_never_erases_a_stored_value():
    import_csv("A;Network;Site;ON;M5V 3L9;GP;100;Direct billing;Yes")

    report = import_csv("A;;Site;ON;M5V 3L9;GP;;;")

    assert report.partners_updated + report.offerings_updated == 0
    partner = AffiliatePartner.objects.get()
    assert (partner.kind, partner.billing_arrangements, partner.accepts_prepayment) == (
        "network",
        ["direct_billing"],
        True,
    )
    assert Offering.objects.get().clinic_price == Decimal("100.00")


def test_a_blank_province_is_taken_from_the_postal_code():
    import_csv("A;;Site;;x1a2p7;GP;;;")

    assert Location.objects.get().province == "NT"


def test_hand_placed_coordinates_are_kept():
    location = factories.make_location(
        partner=factories.make_partner(name="A"), name="Site", latitude=45.0, longitude=-75.0
    )
    Location.objects.filter(pk=location.pk).update(geo_precision="manual")

    report = import_csv("A;;Site;ON;M5V 3L9;GP;;;")

    location.refresh_from_db()
    assert report.locations_updated == 0
    assert (location.latitude, location.geo_precision) == (45.0, "manual")


def test_strict_applies_nothing_when_a_row_is_rejected():
    report = import_fixture("messy_partners.xlsx", strict=True)

    assert report.applied is False
    assert report.strict is True
    assert len(report.rejected) == 4
    assert report.partners_created == 5  # what would have happened
    assert AffiliatePartner.objects.count() == 0
    assert not Service.objects.filter(name_key="hyperbaric oxygen therapy").exists()
    assert not AuditEvent.objects.filter(action="directory.imported").exists()


def test_strict_applies_a_clean_file():
    report = import_csv("A;;Site;ON;M5V 3L9;GP;10;;", strict=True)

    assert report.applied is True
    assert Offering.objects.count() == 1


def test_a_dry_run_reports_everything_and_changes_nothing():
    before = directory_snapshot()

    report = import_fixture("messy_partners.xlsx", dry_run=True)

    assert report.applied is False
    assert report.dry_run is True
    assert report.offerings_created == 9
    assert directory_snapshot() == before
    assert not AuditEvent.objects.exists()


def test_an_import_writes_one_audit_event_with_counts_and_no_personal_data(booking_agent):
    directory_import(
        file=FIXTURES / "messy_partners.xlsx",
        filename="/home/agent/messy_partners.xlsx",
        actor=act(booking_agent),
    )

    event = AuditEvent.objects.get(action="directory.imported")
    assert event.actor == booking_agent
    assert event.payload["filename"] == "messy_partners.xlsx"
    assert event.payload["offerings_created"] == 9
    assert event.payload["rejected"] == 4
    assert "info@harbour.example" not in str(event.payload)


def test_progress_is_reported_up_to_the_total():
    calls: list[tuple[int, int]] = []

    import_fixture("messy_partners.xlsx", dry_run=True, progress=lambda d, t: calls.append((d, t)))

    assert calls[-1] == (15, 15)


def test_the_report_is_a_plain_dict_for_json():
    report = ImportReport(rows_read=1, rejected=[RowError(row=3, errors=["x"])])

    assert report.as_dict()["rejected"] == [{"row": 3, "errors": ["x"]}]


def export_bytes() -> bytes:
    buffer = io.BytesIO()
    directory_export_xlsx(out=buffer)
    return buffer.getvalue()


def test_the_export_reimports_to_zero_changes():
    import_fixture("messy_partners.xlsx")
    point = geocode("M5V 3L9")  # as the import would place it
    factories.make_location(
        partner=factories.make_partner(name="=HYPERLINK(1)"),
        name="Lone",
        latitude=point.latitude,
        longitude=point.longitude,
    )
    before = directory_snapshot()

    data = export_bytes()
    report = directory_import(file=io.BytesIO(data), filename="export.xlsx", actor=act(None))

    assert report.rejected == []
    assert report.duplicates == []
    assert report.rows_read == 11  # 9 offerings, and one row for each bare location
    created = report.partners_created + report.locations_created + report.offerings_created
    updated = report.partners_updated + report.locations_updated + report.offerings_updated
    assert (created, updated, report.new_services) == (0, 0, [])
    assert directory_snapshot() == before


def test_the_export_uses_the_import_layout_with_a_blank_service_for_a_bare_location():
    factories.make_location(partner=factories.make_partner(name="=HYPERLINK(1)"), name="Lone")

    sheet = load_workbook(io.BytesIO(export_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))

    assert rows[0][:3] == ("Partner", "Partner Type", "Location")
    assert rows[0][-1] == "Notes"
    assert rows[1][0] == "=HYPERLINK(1)"  # text, not a formula
    assert sheet.cell(row=2, column=1).data_type == "s"
    assert rows[1][9] is None  # Service
