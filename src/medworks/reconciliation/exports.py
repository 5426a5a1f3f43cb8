"""The SOP table (case 4 step 6) written out: its columns in the SOP's order and words, the
cells as the page shows them, and the CSV and XLSX exports the page and
`medworks export-reconciliation` stream.

Constant memory at any size: the rows come from `selectors.table_rows` (a server-side cursor,
2,000 at a time), each chunk is written and then forgotten; the CSV is yielded chunk by chunk
(a `StreamingHttpResponse` sends each at once), the XLSX goes through openpyxl's write-only
workbook (rows go to a temporary file as they come).

Every export names patients, so it is a read of every case in it (RULES.md): before a chunk of
rows is handed over, its cases are recorded (`booking_request.listed`, one INSERT per chunk),
and once the export ends one `reconciliation.exported` row says who exported what: the
filters, the format, the rows written and whether it ran to the end (a download the browser
dropped midway is recorded as incomplete).

Text from outside (patients' names, locations, services) is never read as a formula by a
spreadsheet: a text cell starting with = + - @, a tab or a carriage return is prefixed with a
single quote, in both formats.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import IO, Any, BinaryIO

from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from medworks.bookings.selectors import record_listed_ids
from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.money import to_money
from medworks.network.models import BillingArrangement

from .models import ReconciliationStatus
from .selectors import TableFilter, TableRow, table_count, table_rows

CHUNK_ROWS = 2000  # rows read, written and recorded at a time
BOM = "\ufeff"  # so Excel reads the CSV as UTF-8 (accents in names)
Progress = Callable[[int, int], None]

# The SOP's table, in its order and words, then the desk's own columns.
COLUMNS = (
    _("S.No"),
    _("Order Id"),
    _("Patient's Name"),
    _("Service Requested"),
    _("Order Date"),
    _("Appointment Date"),
    _("Appointment Location, Clinic"),
    _("Clinic Cost (for credit card payment)"),
    _("MedWorks Cost"),
    _("Total Cost to bill the insurer (Clinic Cost + MedWorks Cost)"),
    _("Tax"),
    _("Total with tax"),
    _("Payment method"),
    _("Reconciliation status"),
    _("Insurer"),
)
MONEY_FIELDS = ("clinic_cost", "medworks_cost", "total_to_bill", "tax", "total_with_tax")
_FIRST_MONEY_COLUMN = 7  # Clinic Cost, then MedWorks Cost, Total, Tax, Total with tax
# Characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XLSX cannot hold (openpyxl refuses them); they never mean anything here.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# XLSX column widths, in characters, one per column.
_WIDTHS = (7, 16, 26, 30, 12, 17, 44, 16, 14, 18, 11, 14, 28, 16, 28)


def headers() -> list[str]:
    """The columns' headings in the active language."""
    return [str(column) for column in COLUMNS]


def safe_text(value: str) -> str:
    """Text a spreadsheet shows as text: a leading formula character is quoted away."""
    if value and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def method_label(value: str) -> str:
    """A BillingArrangement value as people read it ("" when none is known yet)."""
    try:
        return str(BillingArrangement(value).label) if value else ""
    except ValueError:
        return value


def status_label(value: str) -> str:
    try:
        return str(ReconciliationStatus(value).label)
    except ValueError:
        return value


def local_minute(value: dt.datetime | None) -> dt.datetime | None:
    """An appointment in local time, to the minute, without its zone (what a cell holds)."""
    if value is None:
        return None
    return timezone.localtime(value).replace(second=0, microsecond=0, tzinfo=None)


def record_rows_listed(
    rows: list[TableRow], *, actor: Actor, origin: str = "", listed: str
) -> None:
    """The cases of these rows were shown or written: one access record each (the rows
    `record_listed` writes), built by the database in one statement."""
    if rows:
        record_listed_ids(
            actor=actor, case_ids=[row.case_id for row in rows], origin=origin, listed=listed
        )


def _chunks(where: TableFilter, size: int = CHUNK_ROWS) -> Iterator[list[TableRow]]:
    chunk: list[TableRow] = []
    for row in table_rows(where, chunk_size=size):
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Run:
    """One export as it goes: its rows recorded chunk by chunk, its totals, the final record."""

    def __init__(
        self,
        where: TableFilter,
        *,
        actor: Actor,
        origin: str,
        fmt: str,
        progress: Progress | None,
    ) -> None:
        if not isinstance(actor, Actor):
            raise TypeError("an export is written for an Actor")
        self.where = where
        self.actor = actor
        self.origin = origin
        self.fmt = fmt
        self.progress = progress
        self.total = table_count(where) if progress is not None else 0
        self.rows = 0
        self.complete = False
        self.sums = dict.fromkeys(MONEY_FIELDS, Decimal("0.00"))

    def chunks(self) -> Iterator[list[TableRow]]:
        """The rows, a chunk at a time, each recorded as read before it is handed over."""
        if self.progress is not None:
            self.progress(0, self.total)
        for chunk in _chunks(self.where):
            record_rows_listed(
                chunk,
                actor=self.actor,
                origin=self.origin,
                listed=f"reconciliation export {self.fmt}",
            )
            if self.fmt == "xlsx":  # its totals row; the CSV is data only
                for row in chunk:
                    for name in MONEY_FIELDS:
                        value = getattr(row, name)
                        if value is not None:
                            self.sums[name] += value
            self.rows += len(chunk)  # handed over from here on: counted if the export stops
            yield chunk
            if self.progress is not None:
                self.progress(self.rows, max(self.total, self.rows))

    def finish(self) -> None:
        """The export's own record: who, which filters, which format, how many rows."""
        audit_record(
            actor=self.actor,
            action="reconciliation.exported",
            summary=f"{self.fmt} export of {self.rows} rows"
            + ("" if self.complete else " (incomplete)"),
            payload={
                "filters": self.where.describe(),
                "format": self.fmt,
                "rows": self.rows,
                "complete": self.complete,
                "origin": self.origin[:100],
            },
        )


class _Labels:
    """The labels of payment methods and states in the active language, looked up once per
    export rather than once per row."""

    def __init__(self) -> None:
        self.methods = {value: str(label) for value, label in BillingArrangement.choices}
        self.statuses = {value: str(label) for value, label in ReconciliationStatus.choices}
        self.methods[""] = ""

    def method(self, value: str) -> str:
        return self.methods.get(value, value)

    def status(self, value: str) -> str:
        return self.statuses.get(value, value)


def _text_values(row: TableRow, labels: _Labels) -> list[Any]:
    """The row's cells as the page shows them (money as Decimal, dates as dates)."""
    return [
        row.number,
        safe_text(row.order_id),
        safe_text(row.patient_name),
        safe_text(row.services),
        row.order_date,
        local_minute(row.appointment_at),
        safe_text(row.location),
        *(getattr(row, name) for name in MONEY_FIELDS),
        safe_text(labels.method(row.payment_method)),
        safe_text(labels.status(row.status)),
        safe_text(row.insurer),
    ]


def _amount_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _csv_values(row: TableRow, labels: _Labels, zone) -> list[Any]:
    """The row's CSV cells: text, dates ISO, the appointment local to the minute, amounts
    123.45 (written straight, not through `_text_values`: this runs 100,000 times)."""
    appointment = row.appointment_at
    return [
        row.number,
        safe_text(row.order_id),
        safe_text(row.patient_name),
        safe_text(row.services),
        row.order_date.isoformat(),
        appointment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if appointment else "",
        safe_text(row.location),
        _amount_text(row.clinic_cost),
        _amount_text(row.medworks_cost),
        _amount_text(row.total_to_bill),
        _amount_text(row.tax),
        _amount_text(row.total_with_tax),
        safe_text(labels.method(row.payment_method)),
        safe_text(labels.status(row.status)),
        safe_text(row.insurer),
    ]


def _csv(run: _Run) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    labels = _Labels()
    zone = timezone.get_current_timezone()
    try:
        buffer.write(BOM)
        writer.writerow(headers())
        yield buffer.getvalue()
        for chunk in run.chunks():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_csv_values(row, labels, zone) for row in chunk)
            yield buffer.getvalue()
        run.complete = True
    finally:
        run.finish()


def csv_chunks(
    where: TableFilter, *, actor: Actor, origin: str = "", progress: Progress | None = None
) -> Iterator[str]:
    """The CSV of the filtered table, as text chunks (the headings, then one per 2,000 rows)
    for a `StreamingHttpResponse`; UTF-8 with a BOM, CRLF lines, amounts as 123.45."""
    return _csv(_Run(where, actor=actor, origin=origin, fmt="csv", progress=progress))


def export_csv(
    where: TableFilter,
    out: IO[str],
    *,
    actor: Actor,
    origin: str = "",
    progress: Progress | None = None,
) -> int:
    """Write the CSV of the filtered table to the text file `out` (open it with newline="");
    returns the rows written."""
    run = _Run(where, actor=actor, origin=origin, fmt="csv", progress=progress)
    for text in _csv(run):
        out.write(text)
    return run.rows


def export_xlsx(
    where: TableFilter,
    path_or_file: str | BinaryIO | Any,
    *,
    actor: Actor,
    origin: str = "",
    progress: Progress | None = None,
) -> int:
    """Write the XLSX of the filtered table (one sheet, the headings frozen, amounts as
    numbers to the cent, a totals row at the end) to a path or a binary file; returns the
    rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    run = _Run(where, actor=actor, origin=origin, fmt="xlsx", progress=progress)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(gettext("Reconciliation")[:31])
        for index, width in enumerate(_WIDTHS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        labels = _Labels()

        def cell(value: Any, *, font: Font | None = None) -> Any:
            # A fresh cell each time: openpyxl reuses a written cell's state.
            if isinstance(value, str):
                value = _ILLEGAL.sub("", value)
                written = WriteOnlyCell(sheet, value=value or None)
                if value:
                    written.data_type = "s"  # never a formula, whatever it starts with
            else:
                written = WriteOnlyCell(sheet, value=value)
                if isinstance(value, Decimal):
                    written.number_format = "0.00"
                elif isinstance(value, dt.datetime):
                    written.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, dt.date):
                    written.number_format = "yyyy-mm-dd"
            if font is not None:
                written.font = font
            return written

        sheet.append([cell(heading, font=bold) for heading in headers()])
        for chunk in run.chunks():
            for row in chunk:
                sheet.append([cell(value) for value in _text_values(row, labels)])
        totals: list[Any] = [None] * len(COLUMNS)
        totals[0] = gettext("Total")
        totals[1] = ngettext("%(count)s order", "%(count)s orders", run.rows) % {"count": run.rows}
        for offset, name in enumerate(MONEY_FIELDS):
            totals[_FIRST_MONEY_COLUMN + offset] = to_money(run.sums[name])
        sheet.append([cell(value, font=bold) for value in totals])
        workbook.save(path_or_file)
        run.complete = True
    finally:
        run.finish()
    return run.rows
