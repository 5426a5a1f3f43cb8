"""Export the directory to XLSX in the import's own layout, so the file re-imports unchanged.

One row per location and service; a location without offerings gets one row with the service
blank. Partners without any location have no row (the layout has no place for them).
Text cells are written as text: a name starting with "=" stays a name, never a formula.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from django.db.models import Prefetch

from .importing import BILLING_EXPORT_NAMES, KIND_EXPORT_NAMES
from .models import Location, Offering
from .spreadsheet import COLUMNS

# Characters XLSX cannot hold (openpyxl refuses them); they never mean anything in a directory.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
ITERATOR_CHUNK = 2000


def directory_export_xlsx(*, out: BinaryIO) -> None:
    """Write every location (and its offerings) as an .xlsx workbook to `out`."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)  # streams rows: memory stays flat for big directories
    sheet = workbook.create_sheet("Partners")
    sheet.append([header for _, header in COLUMNS])

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=_ILLEGAL.sub("", value) if value else None)
        if value:
            cell.data_type = "s"  # openpyxl would take "=..." for a formula
        return cell

    def price_cell(value) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "#,##0.00"
        return cell

    locations = (
        Location.objects.select_related("partner")
        .prefetch_related(
            Prefetch(
                "offerings",
                queryset=Offering.objects.select_related("service").order_by("service__name_en"),
            )
        )
        .order_by("partner__name", "name", "postal_code", "pk")
    )
    for location in locations.iterator(chunk_size=ITERATOR_CHUNK):
        partner = location.partner
        # Plain values here; fresh cells for every row (openpyxl reuses a written cell's state).
        head = [
            partner.name,
            KIND_EXPORT_NAMES.get(partner.kind, partner.kind),
            location.name,
            location.address,
            location.city,
            location.province,
            location.postal_code,
            location.phone,
            location.email,
        ]
        tail = [
            "; ".join(BILLING_EXPORT_NAMES.get(b, b) for b in partner.billing_arrangements),
            "Yes" if partner.accepts_prepayment else "No",
            location.languages,
            location.notes,
        ]
        offerings = [(o.service.name_en, o.clinic_price) for o in location.offerings.all()]
        for service_name, price in offerings or [("", None)]:
            sheet.append(
                [
                    *(text_cell(v) for v in head),
                    text_cell(service_name),
                    price_cell(price),
                    *(text_cell(v) for v in tail),
                ]
            )
    workbook.save(out)
