"""Reading the National Affiliate Partner Spreadsheet (XLSX or CSV) into rows of raw cells.

This module knows files, not the directory: it finds the header row (title rows above it are
common), maps each header to a column of the layout, and hands back every data row with the row
number the spreadsheet shows (1-based, title rows and header included), so a person can find it.
What the cells mean is importing.py's business.

A header is read as a field by, in this order (the first that answers wins; a field already
taken is not given to a second header):
1. the columns the user gave (`columns=`: field -> the file's header text);
2. the synonyms (SYNONYMS; case, spacing, accents and punctuation ignored);
3. the mappings remembered from earlier imports (`remembered=`: header_key -> field, passed in
   by importing.py, which keeps them in the database);
4. what the header means (headers.header_meaning: words, vocabulary, scores, never a guess
   between two fields). Among headers meaning one field, the highest score wins, then the
   left-most.
Every header not read by its synonym is listed in `Sheet.read_as`, so the report can say so.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.core.errors import DomainError

from .headers import header_meaning
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
# The fields as the report names them to a person (in their language).
FIELD_LABELS = {
    "partner": gettext_lazy("Partner"),
    "partner_type": gettext_lazy("Partner type"),
    "location": gettext_lazy("Location"),
    "address": gettext_lazy("Address"),
    "city": gettext_lazy("City"),
    "province": gettext_lazy("Province"),
    "postal_code": gettext_lazy("Postal code"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "service": gettext_lazy("Service"),
    "price": gettext_lazy("Price"),
    "billing": gettext_lazy("Billing"),
    "accepts_prepayment": gettext_lazy("Accepts pre-payment"),
    "languages": gettext_lazy("Languages"),
    "notes": gettext_lazy("Notes"),
}

# How a header not found among the synonyms was read (Sheet.read_as, the import's report).
READ_GIVEN = "given"  # the user said which column it is
READ_REMEMBERED = "remembered"  # the user said so at an earlier import
READ_MEANING = "meaning"  # its words name the field (headers.py)

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
    """The field a header names among the synonyms (exact after header_key), else None."""
    return _HEADER_LOOKUP.get(header_key(text))


def field_named(text: object) -> str | None:
    """'postal_code', 'Postal Code', 'postal-code' -> 'postal_code': a field by its own name."""
    key = header_key(text)
    for name, header in COLUMNS:
        if key in (header_key(name), header_key(header)):
            return name
    return None


class ColumnsError(DomainError):
    """The columns cannot all be known: the file's headers come with it, to ask the user.

    `code` is "import_missing_columns" (a required field has no column), or
    "import_columns_invalid" (a column the user gave is refused; `fields` says which, keyed
    by field). `headers`: the header row's texts, left to right ([] when the file was not
    read); `missing`: required fields with no column; `found`: field -> header text read.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: list[str] | None = None,
        missing: list[str] | None = None,
        found: dict[str, str] | None = None,
        header_row: int | None = None,
    ) -> None:
        super().__init__(code, message, fields=fields)
        self.headers = list(headers or [])
        self.missing = list(missing or [])
        self.found = dict(found or {})
        self.header_row = header_row


def check_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    """The columns a user gave (field -> header), blanks dropped; ColumnsError when refused.

    Refused: a field the layout does not have, or one header given for two fields.
    """
    given: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    by_key: dict[str, str] = {}
    for name, header in (columns or {}).items():
        text = clean_text(header)
        if not text:
            continue
        if name not in HEADERS:
            errors.setdefault(name, []).append(
                _("%(field)s is not a column of the spreadsheet; the columns are: %(fields)s.")
                % {"field": repr(name), "fields": ", ".join(HEADERS)}
            )
            continue
        other = by_key.get(header_key(text))
        if other is not None:
            errors.setdefault(name, []).append(
                _("Column '%(header)s' is already given for %(field)s.")
                % {"header": text, "field": FIELD_LABELS[other]}
            )
            continue
        by_key[header_key(text)] = name
        given[name] = text
    if errors:
        raise ColumnsError(
            "import_columns_invalid",
            " ".join(message for messages in errors.values() for message in messages),
            fields=errors,
        )
    return given


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


@dataclass(frozen=True)
class ColumnRead:
    """A header not found among the synonyms, and how it was read."""

    header: str  # as the file writes it
    field: str
    how: str  # READ_GIVEN, READ_REMEMBERED or READ_MEANING

    def describe(self) -> str:
        """ "Column 'Zip / Postal' read as Postal code", for the report."""
        given = {"header": self.header, "field": FIELD_LABELS[self.field]}
        if self.how == READ_GIVEN:
            return _("Column '%(header)s' read as %(field)s (as you said)") % given
        if self.how == READ_REMEMBERED:
            return _("Column '%(header)s' read as %(field)s (remembered)") % given
        return _("Column '%(header)s' read as %(field)s") % given


@dataclass
class Sheet:
    header_row: int
    columns: dict[str, int]  # field -> 0-based column index
    unknown_headers: list[str] = field(default_factory=list)  # ignored columns, for the screen
    rows: list[SheetRow] = field(default_factory=list)
    read_as: list[ColumnRead] = field(default_factory=list)  # left to right
    headers: list[str] = field(default_factory=list)  # the header row's texts, left to right


def read_sheet(
    *,
    file: BinaryIO | str | Path,
    filename: str,
    columns: Mapping[str, str] | None = None,
    remembered: Mapping[str, str] | None = None,
) -> Sheet:
    """Read an XLSX or CSV file. DomainError('import_unreadable') when it cannot be used.

    `columns`: field -> header text, given by the user; `remembered`: header_key -> field.
    ColumnsError when a given column is refused or a required field has no column.
    """
    given = check_columns(columns)
    hints = _Hints(given=given, remembered=dict(remembered or {}))
    data = _read_bytes(file=file, filename=filename)
    name = Path(filename or "").name or _("the file")
    if not data:
        raise DomainError("import_unreadable", _("%(name)s is empty.") % {"name": name})
    suffix = Path(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04":
        return _read_xlsx(data=data, name=name, hints=hints)
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
        return _read_csv(data=data, name=name, hints=hints)
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


@dataclass
class _Hints:
    given: dict[str, str]  # field -> header text, from the user
    remembered: dict[str, str]  # header_key -> field, from earlier imports


@dataclass
class _Header:
    index: int  # 0-based row index
    columns: dict[str, int]  # field -> 0-based column index
    unknown: list[str]  # headers read as no field
    read_as: list[ColumnRead]
    headers: list[str]  # every non-blank header, left to right
    texts: dict[int, str]  # column -> its header
    given_names: tuple[str, ...]  # the fields the user gave
    given_missing: list[str]  # those whose header is not in this row

    @property
    def given_found(self) -> bool:
        """The user gave columns, and every one is in this row."""
        return bool(self.given_names) and not self.given_missing


def _read_header_row(values: list[object], hints: _Hints) -> _Header:
    """Read one row as a header (the order is the module docstring's)."""
    cells = [(col, cell_text(value)) for col, value in enumerate(values)]
    cells = [(col, text) for col, text in cells if text]
    columns: dict[str, int] = {}
    how: dict[int, tuple[str, str | None]] = {}  # column -> (field, how; None: a synonym)
    given_missing: list[str] = []
    for name, header in hints.given.items():
        wanted = header_key(header)
        col = next((c for c, text in cells if header_key(text) == wanted and c not in how), None)
        if col is None:
            given_missing.append(name)
        else:
            columns[name] = col
            # Given as its own synonym says ("Partner" for partner): read by its synonym.
            synonym = field_for_header(header) == name
            how[col] = (name, None if synonym else READ_GIVEN)
    for col, text in cells:
        found = field_for_header(text)
        if col not in how and found is not None and found not in columns:
            columns[found] = col  # a repeated header: the first one counts
            how[col] = (found, None)
    for col, text in cells:
        found = hints.remembered.get(header_key(text))
        if col not in how and found in HEADERS and found not in columns:
            columns[found] = col
            how[col] = (found, READ_REMEMBERED)
    guesses: dict[str, tuple[int, int]] = {}  # field -> (score, column): the best, left-most
    for col, text in cells:
        if col in how:
            continue
        meaning = header_meaning(text)
        if meaning.field is None or meaning.field in columns:
            continue
        score = meaning.scores[meaning.field]
        if meaning.field not in guesses or score > guesses[meaning.field][0]:
            guesses[meaning.field] = (score, col)
    for name, (_score, col) in guesses.items():
        columns[name] = col
        how[col] = (name, READ_MEANING)
    texts = dict(cells)
    read_as = [
        ColumnRead(header=texts[col], field=name, how=kind)
        for col, (name, kind) in sorted(how.items())
        if kind is not None
    ]
    return _Header(
        index=0,
        columns=columns,
        unknown=[text for col, text in cells if col not in how],
        read_as=read_as,
        headers=[text for _col, text in cells],
        texts=texts,
        given_missing=given_missing,
        given_names=tuple(hints.given),
    )


def _find_header(rows: Iterable[list[object]], hints: _Hints) -> _Header | None:
    """The first of the first HEADER_SCAN_ROWS rows naming enough columns, or holding every
    column the user gave (their words say which row is the header)."""
    for index, values in enumerate(rows):
        if index >= HEADER_SCAN_ROWS:
            break
        header = _read_header_row(list(values), hints)
        if len(header.columns) >= MIN_HEADER_MATCHES or header.given_found:
            header.index = index
            return header
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


def _build_sheet(*, name: str, header: _Header, hints: _Hints, rows) -> Sheet:
    found = {field: header.texts[col] for field, col in header.columns.items()}
    quoted = ", ".join(f"'{text}'" for text in header.headers)
    not_in_file = {
        field: [
            _("%(field)s: column '%(header)s' is not in the file; its columns are: %(headers)s.")
            % {"field": FIELD_LABELS[field], "header": text, "headers": quoted}
        ]
        for field, text in hints.given.items()
        if field in header.given_missing
    }
    if not_in_file:
        raise ColumnsError(
            "import_columns_invalid",
            " ".join(messages[0] for messages in not_in_file.values()),
            fields=not_in_file,
            headers=header.headers,
            found=found,
            header_row=header.index + 1,
        )
    missing = [f for f in REQUIRED_FIELDS if f not in header.columns]
    if missing:
        message = _("%(name)s: the header row (row %(row)s) has no column for %(columns)s.") % {
            "name": name,
            "row": header.index + 1,
            "columns": ", ".join(HEADERS[f] for f in missing),
        }
        raise ColumnsError(
            "import_missing_columns",
            message + " " + _("The file's columns: %(headers)s.") % {"headers": quoted},
            headers=header.headers,
            missing=missing,
            found=found,
            header_row=header.index + 1,
        )
    sheet = Sheet(
        header_row=header.index + 1,
        columns=header.columns,
        unknown_headers=header.unknown,
        read_as=header.read_as,
        headers=header.headers,
    )
    for number, values in rows:
        cells = {f: (values[c] if c < len(values) else None) for f, c in header.columns.items()}
        row = SheetRow(number=number, cells=cells)
        if not row.is_blank():
            sheet.rows.append(row)
    return sheet


def _read_xlsx(*, data: bytes, name: str, hints: _Hints) -> Sheet:
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
            header = _find_header(head, hints)
            if header is None:
                continue
            # Read-only mode yields missing rows as empty ones, so enumerate() is the row number.
            rows = (
                (number, list(values))
                for number, values in enumerate(
                    worksheet.iter_rows(min_row=header.index + 2, values_only=True),
                    start=header.index + 2,
                )
            )
            return _build_sheet(name=name, header=header, hints=hints, rows=rows)
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


def _read_csv(*, data: bytes, name: str, hints: _Hints) -> Sheet:
    text = _decode(data)
    head_lines = text.splitlines()[: HEADER_SCAN_ROWS + 5]
    # The delimiter is the one under which a header row appears, naming the most columns.
    best: tuple[int, str, _Header] | None = None
    for delimiter in _CSV_DELIMITERS:
        head = list(csv.reader(io.StringIO("\n".join(head_lines)), delimiter=delimiter))
        found = _find_header(head, hints)
        if found is not None and (best is None or len(found.columns) > best[0]):
            best = (len(found.columns), delimiter, found)
    if best is None:
        raise _no_header_error(name)
    _count, delimiter, header = best
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
        if number > header.index + 1
    )
    return _build_sheet(name=name, header=header, hints=hints, rows=rows)
