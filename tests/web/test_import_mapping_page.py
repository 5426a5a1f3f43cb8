"""The import page asks which column is which when it cannot tell, and imports once told."""

from __future__ import annotations

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from medworks.network.models import ColumnMapping, Location, Offering
from tests.test_translations import _english_words

IMPORT = reverse("web:directory_import")

HEADERS = ["Provider Nm", "Clinic Nm", "Where", "Offered", "Cost ($)"]
ROW = ["Harbour Health", "Harbour Downtown", "M5V 3L9", "XRAY", "95"]


def workbook_upload(headers: list[str] = HEADERS, row: list[str] = ROW) -> SimpleUploadedFile:
    workbook = Workbook()
    workbook.active.append(["National affiliate partners"])  # a title row above the header
    workbook.active.append(headers)
    workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("partners.xlsx", buffer.getvalue())


def mapping_data(**columns: str) -> dict[str, object]:
    """What the browser posts back: the hidden headers and every select shown."""
    shown = ["partner", "location", "postal_code", "service"]
    data: dict[str, object] = {"column-headers": HEADERS}
    data.update({f"column-{name}": columns.get(name, "") for name in shown})
    return data


def selects(page: str) -> dict[str, list[str]]:
    """name -> the options' values of each select in the page."""
    found = {}
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        found[name] = re.findall(r'<option value="([^"]*)"', body)
    return found


def test_a_file_whose_needed_columns_are_unknown_shows_its_headers_and_a_mapping_form(
    client, coordinator
):
    client.force_login(coordinator)

    response = client.post(IMPORT, {"file": workbook_upload()})

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "no column for Postal Code, Service" in page
    assert 'data-testid="column-mapping"' in page
    for header in HEADERS:
        assert f"<li>{header}</li>" in page
        assert f'<input type="hidden" name="column-headers" value="{header}">' in page
    options = selects(page)
    assert options["column-postal_code"] == ["", *HEADERS]
    assert options["column-service"] == ["", *HEADERS]
    assert "column-languages" in options  # an optional field the file does not have
    assert "column-price" not in options  # "Cost ($)" was read as the price
    # What the import did read is preselected.
    assert '<option value="Clinic Nm" selected>' in page
    assert Location.objects.count() == 0


def test_the_second_upload_with_the_mapping_imports_and_is_remembered(client, coordinator):
    client.force_login(coordinator)
    client.post(IMPORT, {"file": workbook_upload()})

    response = client.post(
        IMPORT,
        {
            "file": workbook_upload(),
            **mapping_data(
                partner="Provider Nm", location="Clinic Nm", postal_code="Where", service="Offered"
            ),
        },
    )

    report = response.context["report"]
    page = response.content.decode()
    assert report.applied
    assert Location.objects.get().postal_code == "M5V 3L9"
    assert Offering.objects.get().service.code == "XRAY"
    assert "Column &#x27;Where&#x27; read as Postal code (as you said)" in page
    assert ColumnMapping.objects.get(header_key="where").set_by == coordinator
    # The next upload, with no mapping, reads the columns as remembered.
    again = client.post(IMPORT, {"file": workbook_upload()})
    assert again.context["report"].applied
    assert "Column &#x27;Offered&#x27; read as Service (remembered)" in again.content.decode()
    assert 'data-testid="column-mapping"' not in again.content.decode()


def test_a_dry_run_with_the_mapping_keeps_the_mapping_for_the_real_import(client, coordinator):
    client.force_login(coordinator)

    response = client.post(
        IMPORT,
        {
            "file": workbook_upload(),
            "dry_run": "on",
            **mapping_data(postal_code="Where", service="Offered"),
        },
    )

    page = response.content.decode()
    assert response.context["report"].dry_run
    assert ColumnMapping.objects.count() == 0
    assert Location.objects.count() == 0
    assert '<option value="Where" selected>' in page
    assert '<option value="Offered" selected>' in page


def test_a_column_chosen_twice_is_refused_on_its_select_and_nothing_is_imported(
    client, coordinator
):
    client.force_login(coordinator)

    response = client.post(
        IMPORT,
        {"file": workbook_upload(), **mapping_data(postal_code="Where", service="Where")},
    )

    page = response.content.decode()
    assert response.context["report"] is None
    assert response.context["mapping"].errors["service"] == [
        "Column 'Where' is already given for Postal code."
    ]
    assert 'id="id_column-service_error"' in page
    assert Location.objects.count() == 0


def test_a_mapping_without_the_file_asks_for_the_file_and_keeps_the_choices(client, coordinator):
    client.force_login(coordinator)

    response = client.post(IMPORT, mapping_data(postal_code="Where", service="Offered"))

    page = response.content.decode()
    assert response.context["form"].errors["file"]
    assert '<option value="Where" selected>' in page
    assert Location.objects.count() == 0


def test_the_mapping_form_reads_in_french(client, coordinator):
    client.cookies["django_language"] = "fr"
    client.force_login(coordinator)

    response = client.post(IMPORT, {"file": workbook_upload()})

    page = response.content.decode()
    assert "Quelle colonne est laquelle ?" in page
    assert "— choisir une colonne —" in page
    assert _english_words(page, allowed={"clinic"}) == {}  # "Clinic Nm" is the file's header
