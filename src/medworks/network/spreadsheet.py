"""Reading the National Affiliate Partner Spreadsheet (XLSX or CSV) into rows of raw cells.

This module knows files, not the directory: it finds the header row (title rows above it are
common), maps each header to a column of the layout by its synonyms (English and French; case,
spacing, accents and punctuation ignored), and hands back every data row with the row number
the spreadsheet shows (1-based, title rows and header included), so a person can find it.
What the cells mean is importing.py's business.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _

from medworks.core.errors import DomainError

from .text import clean_text, fold

# The layout, in the order the export writes it: (field, header the export writes).
COLUMNS: list[tuple[str, str]] = [
    ("partner", "Partner"),
    ("partner_type", "Partner Type"),
    ("location", "Location"),
    ("address", "Address"),
    ("city", "City"),
    ("province", "Province"),
    ("postal_code", "Postal Code"),
    ("phone", "Phone"),
    ("email", "Email"),
    ("service", "Service"),
    ("price", "Price"),
    ("billing", "Billing"),
    ("accepts_prepayment", "Accepts Pre-payment"),
    ("languages", "Languages"),
    ("notes", "Notes"),
]
HEADERS: dict[str, str] = dict(COLUMNS)

# Headers people actually write, English and French. Compared after header_key(), so
# "Code postal", "CODE-POSTAL" and "code_postal" are one entry.
SYNONYMS: dict[str, list[str]] = {
    "partner": [
        "partner", "partner name", "affiliate", "affiliate partner", "affiliate name",
        "network", "network name", "provider", "provider name", "company", "organisation",
        "organization", "partenaire", "nom du partenaire", "partenaire affilie", "fournisseur",
        "entreprise", "nom du reseau",
    ],
    "partner_type": [
        "partner type", "type", "partner kind", "kind", "network or individual",
        "network individual", "type de partenaire", "type partenaire", "genre",
    ],
    "location": [
        "location", "location name", "clinic", "clinic name", "site", "site name", "branch",
        "facility", "facility name", "clinique", "nom de la clinique", "emplacement", "lieu",
        "etablissement", "succursale", "site de la clinique",
    ],
    "address": [
        "address", "street", "street address", "address line 1", "address 1", "civic address",
        "adresse", "rue", "adresse civique", "adresse municipale",
    ],
    "city": ["city", "town", "municipality", "city town", "ville", "municipalite", "localite"],
    "province": [
        "province", "prov", "province territory", "prov terr", "territory", "state",
        "province ou territoire", "province territoire",
    ],
    "postal_code": [
        "postal code", "postal", "postcode", "post code", "zip", "zip code", "postal zip",
        "code postal", "cp",
    ],
    "phone": [
        "phone", "phone number", "telephone", "telephone number", "tel", "tel no", "phone no",
        "numero de telephone", "no de telephone", "contact phone",
    ],
    "email": [
        "email", "e mail", "email address", "e mail address", "mail", "courriel",
        "adresse courriel", "adresse electronique", "contact email",
    ],
    "service": [
        "service", "service name", "service code", "services", "test", "exam", "examen",
        "prestation", "type de service", "procedure", "nom du service",
    ],
    "price": [
        "price", "cost", "fee", "clinic price", "clinic cost", "clinic fee", "rate", "amount",
        "price cad", "cost cad", "fee cad", "prix", "tarif", "cout", "frais", "montant",
        "prix cad", "prix clinique",
    ],
    "billing": [
        "billing", "billing arrangement", "billing arrangements", "billing method",
        "payment method", "payment methods", "payment", "facturation", "mode de paiement",
        "modes de paiement", "mode de facturation", "paiement",
    ],
    "accepts_prepayment": [
        "accepts pre payment", "accepts prepayment", "pre payment", "prepayment", "prepaid",
        "pre payment accepted", "prepayment accepted", "accepte le prepaiement",
        "accepte prepaiement", "prepaiement", "prepaiement accepte", "paiement anticipe",
        "accepte paiement anticipe",
    ],
    "languages": [
        "languages", "language", "languages spoken", "langues", "langue", "langues parlees",
    ],
    "notes": [
        "notes", "note", "comments", "comment", "remarks", "remarques", "commentaires",
        "commentaire",
    ],
}  # fmt: skip

# Without these a row cannot name a location and its service; the file is refused.
REQUIRED_FIELDS = ("partner", "location", "postal_code", "service")
# A row is taken for the header when it names at least this many columns of the layout.
MIN_HEADER_MATCHES = 3
HEADER_SCAN_ROWS = 20

_CSV_DELIMITERS = (",", ";", "\t")
_CSV_ENCODINGS = ("utf-8-sig", "cp1252")


def header_key(text: object) -> str:
    """'Code postal', 'CODE_POSTAL', 'Code-Postal:' -> 'codepostal' (what headers compare on)."""
    return fold(clean_text(text)).replace(" ", "")


_HEADER_LOOKUP: dict[str, str] = {}
for _field, _names in SYNONYMS.items():
    for _name in [*_names, HEADERS[_field]]:
        _HEADER_LOOKUP[header_key(_name)] = _field


def field_for_header(text: object) -> str | None:
    return _HEADER_LOOKUP.get(header_key(text))


def cell_text(value: object) -> str:
    """A cell as the text a person sees: whole floats lose '.0', None is '', spaces collapsed.

    openpyxl gives numeric cells as int or float (a phone number typed as 4165550101 comes back
    as an int, 95 as 95 or 95.0), dates as datetime.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date | Decimal | int):
        return str(value)
    return clean_text(value)


@dataclass
class SheetRow:
    number: int  # as the spreadsheet shows it: 1-based, title rows and header counted
    cells: dict[str, object]  # field -> raw cell value (str from CSV; int/float/str from XLSX)

    def is_blank(self) -> bool:
        return all(cell_text(v) == "" for v in self.cells.values())


@dataclass
class Sheet:
    header_row: int
    columns: dict[str, int]  # field -> 0-based column index
    unknown_headers: list[str] = field(default_factory=list)  # ignored columns, for the screen
    rows: list[SheetRow] = field(default_factory=list)


def read_sheet(*, file: BinaryIO | str | Path, filename: str) -> Sheet:
    """Read an XLSX or CSV file. DomainError('import_unreadable') when it cannot be used."""
    data = _read_bytes(file=file, filename=filename)
    name = Path(filename or "").name or _("the file")
    if not data:
        raise DomainError("import_unreadable", _("%(name)s is empty.") % {"name": name})
    suffix = Path(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data=data, name=name)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise DomainError(
            "import_unreadable",
            _("%(name)s is an old Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV.")
            % {"name": name},
        )
    if suffix in {".xlsx", ".xlsm"}:
        raise DomainError(
            "import_unreadable", _("%(name)s is not a valid .xlsx workbook.") % {"name": name}
        )
    if suffix in {".csv", ".txt", ".tsv", ""} or _looks_like_text(data):
        return _read_csv(data=data, name=name)
    raise DomainError(
        "import_unreadable",
        _("%(name)s: unknown file format; use an .xlsx workbook or a CSV file.") % {"name": name},
    )


def _read_bytes(*, file: BinaryIO | str | Path, filename: str) -> bytes:
    if isinstance(file, str | Path):
        try:
            return Path(file).read_bytes()
        except FileNotFoundError:
            raise DomainError(
                "import_unreadable", _("%(file)s: no such file.") % {"file": file}
            ) from None
        except IsADirectoryError:
            raise DomainError(
                "import_unreadable", _("%(file)s is a folder, not a file.") % {"file": file}
            ) from None
        except OSError as exc:
            raise DomainError(
                "import_unreadable",
                _("%(file)s: %(error)s.") % {"file": file, "error": exc.strerror},
            ) from None
    data = file.read()
    if isinstance(data, str):  # a text-mode handle: accept it rather than fail on a detail
        data = data.encode("utf-8")
    return data


def _looks_like_text(data: bytes) -> bool:
    return b"\x00" not in data[:4096]


def _find_header(rows: Iterable[list[object]]) -> tuple[int, dict[str, int], list[str]] | None:
    """The first of the first HEADER_SCAN_ROWS rows naming enough columns: (index, columns)."""
    for index, values in enumerate(rows):
        if index >= HEADER_SCAN_ROWS:
            break
        columns: dict[str, int] = {}
        unknown: list[str] = []
        for col, value in enumerate(values):
            text = cell_text(value)
            if not text:
                continue
            found = field_for_header(text)
            if found is None:
                unknown.append(text)
            elif found not in columns:  # a repeated header: the first one counts
                columns[found] = col
        if len(columns) >= MIN_HEADER_MATCHES:
            return index, columns, unknown
    return None


def _no_header_error(name: str) -> DomainError:
    expected = ", ".join(header for _field, header in COLUMNS)
    return DomainError(
        "import_no_header",
        _(
            "%(name)s: no header row found in the first %(count)s rows. "
            "Expected column names such as: %(columns)s."
        )
        % {"name": name, "count": HEADER_SCAN_ROWS, "columns": expected},
    )


def _build_sheet(
    *, name: str, header_index: int, columns: dict[str, int], unknown: list[str], rows
) -> Sheet:
    missing = [HEADERS[f] for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise DomainError(
            "import_missing_columns",
            _("%(name)s: the header row (row %(row)s) has no column for %(columns)s.")
            % {"name": name, "row": header_index + 1, "columns": ", ".join(missing)},
        )
    sheet = Sheet(header_row=header_index + 1, columns=columns, unknown_headers=unknown)
    for number, values in rows:
        cells = {f: (values[c] if c < len(values) else None) for f, c in columns.items()}
        row = SheetRow(number=number, cells=cells)
        if not row.is_blank():
            sheet.rows.append(row)
    return sheet


def _read_xlsx(*, data: bytes, name: str) -> Sheet:
    from openpyxl import load_workbook  # import here: CSV-only callers don't pay for it

    try:
        # read_only streams the sheet (fast, low memory); data_only gives formulas' values.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(
            "import_unreadable",
            _("%(name)s is not a readable .xlsx workbook (%(error)s).")
            % {"name": name, "error": exc},
        ) from None
    try:
        # The first worksheet that has a header row: a cover sheet may come first.
        for worksheet in workbook.worksheets:
            head = [
                list(r) for r in worksheet.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)
            ]
            found = _find_header(head)
            if found is None:
                continue
            header_index, columns, unknown = found
            # Read-only mode yields missing rows as empty ones, so enumerate() is the row number.
            rows = (
                (number, list(values))
                for number, values in enumerate(
                    worksheet.iter_rows(min_row=header_index + 2, values_only=True),
                    start=header_index + 2,
                )
            )
            return _build_sheet(
                name=name, header_index=header_index, columns=columns, unknown=unknown, rows=rows
            )
    finally:
        workbook.close()
    raise _no_header_error(name)


def _decode(data: bytes) -> str:
    for encoding in _CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    # cp1252 leaves five bytes undefined; latin-1 maps every byte, so the import can go on.
    return data.decode("latin-1")


def _read_csv(*, data: bytes, name: str) -> Sheet:
    text = _decode(data)
    head_lines = text.splitlines()[: HEADER_SCAN_ROWS + 5]
    # The delimiter is the one under which a header row appears, naming the most columns.
    best: tuple[int, str, tuple[int, dict[str, int], list[str]]] | None = None
    for delimiter in _CSV_DELIMITERS:
        head = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter))
        found = _find_header(head)
        if found is not None and (best is None or len(found[1]) > best[0]):
            best = (len(found[1]), delimiter, found)
    if best is None:
        raise _no_header_error(name)
    _count, delimiter, (header_index, columns, unknown) = best
    reader: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise DomainError(
            "import_unreadable",
            _("%(name)s is not a readable CSV file (%(error)s).") % {"name": name, "error": exc},
        ) from None
    # Each CSV record is one spreadsheet row (as Excel shows it when it opens the file).
    rows = (
        (number, values)
        for number, values in enumerate(records, start=1)
        if number > header_index + 1
    )
    return _build_sheet(
        name=name, header_index=header_index, columns=columns, unknown=unknown, rows=rows
    )
