"""Import the National Affiliate Partner Spreadsheet into the directory (idempotent upsert).

One row per location and service. The rules, in the order they apply:

- Rows are read by spreadsheet.read_sheet (header found by synonyms, title rows skipped).
  Columns the user gives (`columns=`, field -> header) win; then synonyms; then the mappings
  remembered from earlier imports (ColumnMapping); then what a header means (headers.py).
  The report lists every header not read by its synonym (`columns_read`). While a required
  column is unknown the file is refused (spreadsheet.ColumnsError, with the file's headers)
  and nothing is imported. Columns the user gave are remembered when the import is applied.
- Each row is checked on its own; every problem of a row is reported with the row number the
  spreadsheet shows, and the row is skipped. A row equal to an earlier one after cleaning
  (same partner, location, service, price... whatever the spelling) is skipped as a duplicate.
- Identity: a partner by name_key(name); a location by (partner, name_key(name), postal code);
  an offering by (location, service). Services match by catalogue code, English or French
  name; an unknown name becomes a new catalogue entry (category "other").
- Several rows describe one partner (and one location): for each field the last non-blank
  value in the file wins. A blank cell never erases what the directory holds (spreadsheets
  leave cells blank for "same as above" or "don't know"), so a value is cleared by hand only.
- A row with no service and no price describes a location alone (the export writes one such
  row for a location without offerings); a price without a service is an error.
- The import never changes is_active, is_affiliate or hand-placed coordinates (precision
  "manual"): those are staff decisions the spreadsheet does not carry.
- Only values that actually change are written, so "updated" counts real changes and a
  re-import of the same file reports zeros.

Speed: the catalogue and the existing partners, locations and offerings the file names are
loaded in a few queries up front; writes are bulk_create / bulk_update in batches, all in one
transaction. A dry run (or a strict run with rejected rows) does all of it and rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from medworks.core.actor import Actor
from medworks.core.audit import audit_record
from medworks.core.cards import card_number_errors

from . import geo
from .models import (
    AffiliatePartner,
    BillingArrangement,
    ColumnMapping,
    GeoPrecision,
    Location,
    Offering,
    PartnerKind,
    Service,
    ServiceCategory,
)
from .spreadsheet import (
    HEADERS,
    READ_GIVEN,
    ColumnRead,
    Sheet,
    SheetRow,
    cell_text,
    field_for_header,
    header_key,
    read_sheet,
)
from .text import clean_text, fold, name_key, parse_price, parse_province, parse_yes_no

BATCH_SIZE = 500
# Large IN (...) lists are split: SQLite caps the number of parameters of one statement.
IN_CHUNK = 900
PROGRESS_EVERY = 500


@dataclass
class RowError:
    row: int
    errors: list[str]


@dataclass
class ImportReport:
    rows_read: int = 0
    partners_created: int = 0
    partners_updated: int = 0
    locations_created: int = 0
    locations_updated: int = 0
    offerings_created: int = 0
    offerings_updated: int = 0
    new_services: list[str] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    rejected: list[RowError] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False
    strict: bool = False
    # Headers not read by their synonym: [{header, field, how}], how is "given" (the user
    # said so), "remembered" (at an earlier import) or "meaning" (its words name the field).
    columns_read: list[ColumnRead] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The --json object (and what the web page renders)."""
        return asdict(self)


# --- reading cell values ---------------------------------------------------------------------

_KIND_WORDS = {
    PartnerKind.NETWORK: [
        "network", "reseau", "chain", "group", "groupe", "network partner",
        "billing agreement", "chaine",
    ],
    PartnerKind.INDIVIDUAL: [
        "individual", "individual clinic", "clinic", "clinique", "independent", "independant",
        "independante", "individuel", "individuelle", "single clinic", "clinique independante",
    ],
}  # fmt: skip
_KIND_LOOKUP = {word: kind.value for kind, words in _KIND_WORDS.items() for word in words}

_BILLING_WORDS = {
    BillingArrangement.DIRECT_BILLING: [
        "direct billing", "direct", "direct bill", "invoice", "invoicing", "billing",
        "facturation directe", "facturation", "facture", "pre authorised billing",
    ],
    BillingArrangement.CREDIT_CARD: [
        "credit card", "card", "cc", "visa", "mastercard", "mc", "amex", "corporate card",
        "carte de credit", "carte", "carte credit", "pre payment by credit card", "credit",
    ],
    BillingArrangement.EFT: [
        "eft", "wire", "wire transfer", "bank transfer", "virement", "virement bancaire",
        "tef", "electronic funds transfer", "transfert electronique de fonds",
        "pre payment by eft", "e transfer", "interac",
    ],
}  # fmt: skip
_BILLING_LOOKUP = {word: arr.value for arr, words in _BILLING_WORDS.items() for word in words}
_BILLING_ORDER = [choice.value for choice in BillingArrangement]
# The words the export writes, which re-import to the same values.
BILLING_EXPORT_NAMES = {
    BillingArrangement.DIRECT_BILLING.value: "Direct billing",
    BillingArrangement.CREDIT_CARD.value: "Credit card",
    BillingArrangement.EFT.value: "EFT",
}
KIND_EXPORT_NAMES = {
    PartnerKind.NETWORK.value: "Network",
    PartnerKind.INDIVIDUAL.value: "Individual",
}

_LIST_SPLIT = re.compile(r"[;,/|+&\n]+|\s+(?:and|et|or|ou)\s+", re.IGNORECASE)

_LANGUAGE_NAMES = {
    "English": ["en", "eng", "english", "anglais", "ang"],
    "French": ["fr", "fre", "fra", "french", "francais", "franc"],
    "Spanish": ["es", "spa", "spanish", "espagnol"],
    "Punjabi": ["pa", "punjabi", "pendjabi"],
    "Mandarin": ["mandarin", "zh"],
    "Cantonese": ["cantonese", "cantonais"],
    "Arabic": ["ar", "arabic", "arabe"],
    "Portuguese": ["pt", "portuguese", "portugais"],
    "Italian": ["it", "italian", "italien"],
}
_LANGUAGE_LOOKUP = {w: name for name, words in _LANGUAGE_NAMES.items() for w in words}

_LIMITS = {  # field: (the refusal, max length) — the model's max_length, said in words
    "partner": (gettext_lazy("partner name is longer than %(limit)s characters"), 200),
    "location": (gettext_lazy("location name is longer than %(limit)s characters"), 200),
    "address": (gettext_lazy("address is longer than %(limit)s characters"), 255),
    "city": (gettext_lazy("city is longer than %(limit)s characters"), 100),
    "phone": (gettext_lazy("phone is longer than %(limit)s characters"), 40),
    "email": (gettext_lazy("email is longer than %(limit)s characters"), 254),
    "languages": (gettext_lazy("languages is longer than %(limit)s characters"), 100),
    "service": (gettext_lazy("service name is longer than %(limit)s characters"), 200),
}


def parse_partner_kind(raw: object) -> str | None:
    """'Network', 'Réseau' -> network; 'Individual', 'Clinic', 'Indépendant' -> individual."""
    key = fold(cell_text(raw))
    if not key:
        return None
    kind = _KIND_LOOKUP.get(key)
    if kind is None:
        raise ValueError(
            _("partner type %(value)s is not known: write Network or Individual")
            % {"value": repr(cell_text(raw))}
        )
    return kind


def parse_billing(raw: object) -> list[str] | None:
    """'Direct billing; Credit card, EFT' -> ['direct_billing', 'credit_card', 'eft']."""
    text = cell_text(raw)
    if not text:
        return None
    found: set[str] = set()
    unknown: list[str] = []
    for part in _LIST_SPLIT.split(text):
        key = fold(part)
        if not key:
            continue
        value = _BILLING_LOOKUP.get(key)
        if value is None:
            unknown.append(part.strip())
        else:
            found.add(value)
    if unknown:
        raise ValueError(
            _("billing %(values)s not understood: use Direct billing, Credit card or EFT")
            % {"values": ", ".join(repr(u) for u in unknown)}
        )
    return [value for value in _BILLING_ORDER if value in found]


def parse_languages(raw: object) -> str:
    """'en/fr', 'Anglais et français' -> 'English, French'; other names kept as written."""
    names: list[str] = []
    for part in _LIST_SPLIT.split(cell_text(raw)):
        part = part.strip()
        if not part:
            continue
        name = _LANGUAGE_LOOKUP.get(fold(part), part[:1].upper() + part[1:])
        if name not in names:
            names.append(name)
    return ", ".join(names)


def clean_notes(raw: object) -> str:
    """Notes keep their line breaks; each line is trimmed and blank lines dropped."""
    if raw is None:
        return ""
    lines = (clean_text(line) for line in str(raw).replace("\r\n", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


# --- the service catalogue -------------------------------------------------------------------


@dataclass
class _NewService:
    name: str
    key: str
    service: Service | None = None  # set once created


class _Catalogue:
    """Services by code, English and French name (accents and case ignored), plus new ones."""

    def __init__(self, services: Iterable[Service]) -> None:
        self.codes: set[str] = set()
        self.by_code: dict[str, Service] = {}
        self.by_key: dict[str, Service] = {}
        self.by_compact: dict[str, Service] = {}
        self.new: dict[str, _NewService] = {}
        for service in services:
            self.codes.add(service.code.upper())
            self.by_code[service.code.upper()] = service
        for service in self.by_code.values():
            for name in (service.name_en, service.name_fr):
                key = name_key(name)
                if key:
                    self.by_key.setdefault(key, service)
        for service in self.by_code.values():
            # "xray" for "X-ray": only a fallback, so it never shadows a real name.
            for text in (service.code, service.name_en, service.name_fr):
                compact = name_key(text).replace(" ", "")
                if compact:
                    self.by_compact.setdefault(compact, service)

    def resolve(self, text: str) -> Service | _NewService:
        found = self.by_code.get(text.upper())
        key = name_key(text)
        if found is None:
            found = self.by_key.get(key) or self.by_compact.get(key.replace(" ", ""))
        if found is not None:
            return found
        pending = self.new.get(key)
        if pending is None:
            pending = self.new[key] = _NewService(name=text, key=key)
        return pending

    def new_code(self, name: str) -> str:
        base = re.sub(r"[^A-Z0-9]+", "_", fold(name).upper()).strip("_")[:26] or "SERVICE"
        code, n = base, 1
        while code in self.codes:
            n += 1
            code = f"{base}_{n}"
        self.codes.add(code)
        return code


# --- one row ---------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    partner_name: str
    partner_key: str
    kind: str | None
    billing: list[str] | None
    prepay: bool | None
    location_name: str
    location_key: str
    address: str
    city: str
    province: str
    postal_code: str
    point: geo.GeoPoint
    phone: str
    email: str
    languages: str
    notes: str
    service: Service | _NewService | None
    price: Decimal | None

    def location_id(self) -> tuple[str, str, str]:
        return (self.partner_key, self.location_key, self.postal_code)

    def content_key(self) -> tuple:
        """What 'the same row' means for duplicates: the cleaned values, spelling ignored."""
        service = self.service
        service_id = (
            None
            if service is None
            else (service.code if isinstance(service, Service) else f"new:{service.key}")
        )
        return (
            self.partner_key,
            self.kind,
            tuple(self.billing) if self.billing is not None else None,
            self.prepay,
            self.location_key,
            fold(self.address),
            fold(self.city),
            self.province,
            self.postal_code,
            fold(self.phone),
            self.email.lower(),
            self.languages.lower(),
            fold(self.notes),
            service_id,
            self.price,
        )


class _Geocoder:
    """geo.geocode once per postal code in the file (errors cached too)."""

    def __init__(self) -> None:
        self._cache: dict[str, geo.GeoPoint | str] = {}

    def __call__(self, code: str) -> geo.GeoPoint:
        hit = self._cache.get(code)
        if hit is None:
            try:
                hit = geo.geocode(code)
            except ValueError as exc:
                hit = str(exc)
            self._cache[code] = hit
        if isinstance(hit, str):
            raise ValueError(hit)
        return hit


# The same few values fill most cells of a column (provinces, types, billing lists), so each
# distinct cell is read once. Pure functions of the raw value; typed keeps 1 and 1.0 apart.
_kind = lru_cache(maxsize=4096, typed=True)(parse_partner_kind)
_billing = lru_cache(maxsize=4096, typed=True)(
    lambda raw: None if (found := parse_billing(raw)) is None else tuple(found)
)
_yes_no = lru_cache(maxsize=4096, typed=True)(parse_yes_no)
_province = lru_cache(maxsize=4096, typed=True)(parse_province)
_languages = lru_cache(maxsize=4096, typed=True)(parse_languages)
_postal = lru_cache(maxsize=65536, typed=True)(
    lambda raw: geo.normalize_postal_code(cell_text(raw))
)


def _province_mismatch(postal_code: str, allowed: frozenset[str], province: str) -> str:
    """A row's province the postal code is not in (one message per number of provinces)."""
    if len(allowed) == 1:
        return _(
            "postal code %(code)s is in %(allowed)s, not %(province)s: fix the province or the "
            "postal code"
        ) % {"code": postal_code, "allowed": next(iter(allowed)), "province": province}
    first, second = sorted(allowed)[:2]
    return _(
        "postal code %(code)s is in %(first)s or %(second)s, not %(province)s: fix the "
        "province or the postal code"
    ) % {"code": postal_code, "first": first, "second": second, "province": province}


def _parse_row(row: SheetRow, *, catalogue: _Catalogue, geocode: _Geocoder) -> _Row | list[str]:
    cells = row.cells
    if held := card_number_errors(cells):  # refused first: no other message may quote it
        return [
            _("%(column)s holds a card number: remove it") % {"column": column} for column in held
        ]
    errors: list[str] = []

    def text(name: str) -> str:
        value = cell_text(cells.get(name))
        limit = _LIMITS.get(name)
        if limit is not None and len(value) > limit[1]:
            errors.append(str(limit[0]) % {"limit": limit[1]})
            return value[: limit[1]]
        return value

    def attempt(reader: Callable[[], Any], default: Any = None) -> Any:
        try:
            return reader()
        except ValueError as exc:
            errors.append(str(exc))
            return default

    partner_name = text("partner")
    if not name_key(partner_name):
        errors.append(_("partner is missing: write the partner's name"))
    location_name = text("location")
    if not name_key(location_name):
        errors.append(_("location is missing: write the clinic's name"))
    kind = attempt(lambda: parse_partner_kind(cells.get("partner_type")))
    billing = attempt(lambda: parse_billing(cells.get("billing")))
    prepay_raw = cells.get("accepts_prepayment")
    prepay = attempt(lambda: parse_yes_no(prepay_raw)) if cell_text(prepay_raw) else None
    if prepay is None and cell_text(prepay_raw):
        errors[-1] = _("accepts pre-payment: %(error)s (write Yes or No)") % {"error": errors[-1]}

    postal_code = attempt(lambda: _postal(cells.get("postal_code")))
    point = attempt(lambda: geocode(postal_code)) if postal_code else None
    province_raw = cell_text(cells.get("province"))
    province = attempt(lambda: _province(province_raw)) if province_raw else None
    if postal_code and province:
        allowed = geo.provinces_for_postal_code(postal_code)
        if province not in allowed:
            errors.append(_province_mismatch(postal_code, allowed, province))
    elif postal_code and not province_raw:
        # A blank province is taken from the postal code (the data knows NT from NU).
        province = point.province if point else None
        if province is None:
            allowed = geo.provinces_for_postal_code(postal_code)
            province = next(iter(allowed)) if len(allowed) == 1 else None
        if province is None:
            errors.append(_("province is missing"))

    email = text("email")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.append(_("email %(value)s is not a valid address") % {"value": repr(email)})

    service_text = text("service")
    price = attempt(lambda: parse_price(cells.get("price")))
    service: Service | _NewService | None = None
    if service_text:
        if not name_key(service_text):
            errors.append(
                _("service %(value)s has no letters or digits") % {"value": repr(service_text)}
            )
        else:
            service = catalogue.resolve(service_text)
    elif price is not None:
        errors.append(_("service is missing: a price was given but no service"))

    if errors:
        return errors
    assert point is not None and postal_code and province
    return _Row(
        number=row.number,
        partner_name=partner_name,
        partner_key=name_key(partner_name),
        kind=kind,
        billing=list(billing) if billing is not None else None,
        prepay=prepay,
        location_name=location_name,
        location_key=name_key(location_name),
        address=text("address"),
        city=text("city"),
        province=province,
        postal_code=postal_code,
        point=point,
        phone=text("phone"),
        email=email,
        languages=_languages(cells.get("languages"))[: _LIMITS["languages"][1]],
        notes=clean_notes(cells.get("notes")),
        service=service,
        price=price,
    )


# --- merging rows into partners, locations and offerings -------------------------------------


@dataclass
class _PartnerData:
    name: str
    kind: str | None = None
    billing: list[str] | None = None
    prepay: bool | None = None


@dataclass
class _LocationData:
    partner_key: str
    name: str
    province: str
    postal_code: str
    point: geo.GeoPoint
    address: str = ""
    city: str = ""
    phone: str = ""
    email: str = ""
    languages: str = ""
    notes: str = ""


_LOCATION_TEXT = ("address", "city", "phone", "email", "languages", "notes")


def _merge(rows: list[_Row]):
    """Last non-blank value wins, field by field (see the module docstring)."""
    partners: dict[str, _PartnerData] = {}
    locations: dict[tuple[str, str, str], _LocationData] = {}
    offerings: dict[tuple[tuple[str, str, str], int], tuple[Service | _NewService, Decimal | None]]
    offerings = {}
    for row in rows:
        partner = partners.get(row.partner_key)
        if partner is None:
            partner = partners[row.partner_key] = _PartnerData(name=row.partner_name)
        partner.name = row.partner_name
        if row.kind is not None:
            partner.kind = row.kind
        if row.billing is not None:
            partner.billing = row.billing
        if row.prepay is not None:
            partner.prepay = row.prepay

        loc_id = row.location_id()
        loc = locations.get(loc_id)
        if loc is None:
            loc = locations[loc_id] = _LocationData(
                partner_key=row.partner_key,
                name=row.location_name,
                province=row.province,
                postal_code=row.postal_code,
                point=row.point,
            )
        loc.name = row.location_name
        loc.province = row.province
        for name in _LOCATION_TEXT:
            value = getattr(row, name)
            if value:
                setattr(loc, name, value)

        if row.service is not None:
            off_id = (loc_id, id(row.service))
            previous = offerings.get(off_id)
            price = row.price if row.price is not None else (previous[1] if previous else None)
            offerings[off_id] = (row.service, price)
    return partners, locations, offerings


# --- the use case ----------------------------------------------------------------------------


def _chunks(items: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _postal_key(raw: str) -> str:
    try:
        return geo.normalize_postal_code(raw)
    except ValueError:
        return raw


def directory_import(
    *,
    file: BinaryIO | str | Path,
    filename: str,
    strict: bool = False,
    dry_run: bool = False,
    actor: Actor,
    progress: Callable[[int, int], None] | None = None,
    columns: Mapping[str, str] | None = None,
) -> ImportReport:
    """Import the spreadsheet; see the module docstring. DomainError if the file is unusable.

    `columns`: field -> the file's header text, said by the user (spreadsheet.ColumnsError
    when refused, or when a required column is still unknown: nothing is imported).
    """
    sheet = read_sheet(
        file=file, filename=filename, columns=columns, remembered=_remembered_columns()
    )
    report = ImportReport(
        rows_read=len(sheet.rows), dry_run=dry_run, strict=strict, columns_read=sheet.read_as
    )
    total = len(sheet.rows)

    with transaction.atomic():
        catalogue = _Catalogue(Service.objects.all())
        geocode = _Geocoder()
        rows: list[_Row] = []
        seen: set[tuple] = set()
        for index, sheet_row in enumerate(sheet.rows, start=1):
            parsed = _parse_row(sheet_row, catalogue=catalogue, geocode=geocode)
            if isinstance(parsed, list):
                report.rejected.append(RowError(row=sheet_row.number, errors=parsed))
            else:
                key = parsed.content_key()
                if key in seen:
                    report.duplicates.append(sheet_row.number)
                else:
                    seen.add(key)
                    rows.append(parsed)
            if progress is not None and index % PROGRESS_EVERY == 0:
                progress(index, total)

        _apply(rows=rows, catalogue=catalogue, report=report)

        report.applied = not dry_run and not (strict and report.rejected)
        if report.applied:
            counts = {k: v for k, v in report.as_dict().items() if isinstance(v, int | bool)}
            audit_record(
                actor=actor,
                action="directory.imported",
                summary=(
                    f"Imported {Path(filename).name}: {report.rows_read} rows, "
                    f"{len(report.rejected)} rejected"
                ),
                payload={
                    "filename": Path(filename).name,
                    **counts,
                    "new_services": len(report.new_services),
                    "duplicates": len(report.duplicates),
                    "rejected": len(report.rejected),
                },
            )
            _remember_columns(sheet=sheet, actor=actor)
        else:
            # Dry run, or strict with rejected rows: everything was done, now undone.
            transaction.set_rollback(True)
    if progress is not None:
        progress(total, total)
    return report


def _remembered_columns() -> dict[str, str]:
    """header_key -> field, as users said at earlier imports."""
    return {
        key: name
        for key, name in ColumnMapping.objects.values_list("header_key", "field_name")
        if name in HEADERS
    }


def _remember_columns(*, sheet: Sheet, actor: Actor) -> None:
    """Keep the columns the user gave for the next imports (one audit event if any changed).

    A header whose synonym already names a field is not kept: the synonyms are read first,
    so the mapping would never be used.
    """
    given = [
        read
        for read in sheet.read_as
        if read.how == READ_GIVEN and field_for_header(read.header) is None
    ]
    keys = {header_key(read.header)[:200]: read for read in given if header_key(read.header)}
    if not keys:
        return
    known = {m.header_key: m for m in ColumnMapping.objects.filter(header_key__in=list(keys))}
    changed: dict[str, str] = {}
    now = timezone.now()
    for key, read in keys.items():
        mapping = known.get(key)
        if mapping is not None and mapping.field_name == read.field:
            continue
        ColumnMapping.objects.update_or_create(
            header_key=key,
            defaults={
                "header": read.header[:200],
                "field_name": read.field,
                "set_by": actor.user,
                "set_by_detail": f"{actor.kind.value}: {actor.detail}"[:64],
                "set_at": now,
            },
        )
        changed[read.header] = read.field
    if changed:
        audit_record(
            actor=actor,
            action="directory.columns_remembered",
            summary="Remembered spreadsheet columns: "
            + ", ".join(f"{header} = {name}" for header, name in changed.items()),
            payload={"columns": changed},
        )


def _apply(*, rows: list[_Row], catalogue: _Catalogue, report: ImportReport) -> None:
    now = timezone.now()
    partners_data, locations_data, offerings_data = _merge(rows)

    # Services the catalogue did not know, in the order the file names them.
    used_new = []
    for row in rows:
        if isinstance(row.service, _NewService) and row.service.service is None:
            row.service.service = Service(
                code=catalogue.new_code(row.service.name),
                name_en=row.service.name,
                name_key=row.service.key,
                category=ServiceCategory.OTHER,
            )
            used_new.append(row.service.service)
    if used_new:
        Service.objects.bulk_create(used_new, batch_size=BATCH_SIZE)
        if any(s.pk is None for s in used_new):  # backends that return no ids
            ids = dict(
                Service.objects.filter(code__in=[s.code for s in used_new]).values_list(
                    "code", "pk"
                )
            )
            for s in used_new:
                s.pk = ids[s.code]
        report.new_services = [s.name_en for s in used_new]

    # Partners.
    existing_partners: dict[str, AffiliatePartner] = {}
    for chunk in _chunks(list(partners_data)):
        for partner in AffiliatePartner.objects.filter(name_key__in=chunk):
            existing_partners[partner.name_key] = partner
    to_create, to_update = [], []
    for key, data in partners_data.items():
        partner = existing_partners.get(key)
        if partner is None:
            partner = AffiliatePartner(
                name=data.name,
                name_key=key,
                kind=data.kind or PartnerKind.INDIVIDUAL,
                billing_arrangements=data.billing or [],
                accepts_prepayment=bool(data.prepay),
            )
            existing_partners[key] = partner
            to_create.append(partner)
            continue
        changes = {"name": data.name}
        if data.kind is not None:
            changes["kind"] = data.kind
        if data.billing is not None:
            changes["billing_arrangements"] = data.billing
        if data.prepay is not None:
            changes["accepts_prepayment"] = data.prepay
        if _set_changed(partner, changes, now):
            to_update.append(partner)
    _bulk_write(AffiliatePartner, to_create, to_update, key_fields=("name_key",))
    report.partners_created, report.partners_updated = len(to_create), len(to_update)

    # Locations, looked up under the partners that already existed.
    created_ids = {id(p) for p in to_create}
    partner_ids = [p.pk for p in existing_partners.values() if id(p) not in created_ids]
    existing_locations: dict[tuple[str, str, str], Location] = {}
    by_pk = {p.pk: p for p in existing_partners.values()}
    for chunk in _chunks(partner_ids):
        for loc in Location.objects.filter(partner_id__in=chunk):
            pkey = by_pk[loc.partner_id].name_key
            existing_locations[(pkey, loc.name_key, _postal_key(loc.postal_code))] = loc
    to_create, to_update = [], []
    locations: dict[tuple[str, str, str], Location] = {}
    for loc_id, data in locations_data.items():
        loc = existing_locations.get(loc_id)
        point = data.point
        values: dict[str, Any] = {
            "name": data.name,
            "province": data.province,
            **{name: getattr(data, name) for name in _LOCATION_TEXT if getattr(data, name)},
        }
        if loc is None or loc.geo_precision != GeoPrecision.MANUAL:
            values.update(
                latitude=point.latitude,
                longitude=point.longitude,
                geo_precision=str(point.precision),
                geo_cell=geo.grid_cell(point.latitude, point.longitude),
            )
        if loc is None:
            loc = Location(
                partner=existing_partners[data.partner_key],
                name_key=loc_id[1],
                postal_code=data.postal_code,
                **values,
            )
            to_create.append(loc)
        elif _set_changed(loc, values, now):
            to_update.append(loc)
        locations[loc_id] = loc
    _bulk_write(
        Location, to_create, to_update, key_fields=("partner_id", "name_key", "postal_code")
    )
    report.locations_created, report.locations_updated = len(to_create), len(to_update)

    # Offerings, looked up under the locations that already existed.
    created_ids = {id(loc) for loc in to_create}
    old_location_ids = [loc.pk for loc in locations.values() if id(loc) not in created_ids]
    existing_offerings: dict[tuple[int, int], Offering] = {}
    for chunk in _chunks(old_location_ids):
        for offering in Offering.objects.filter(location_id__in=chunk):
            existing_offerings[(offering.location_id, offering.service_id)] = offering
    to_create, to_update = [], []
    for (loc_id, _service_key), (service, price) in offerings_data.items():
        svc = service.service if isinstance(service, _NewService) else service
        assert svc is not None
        loc = locations[loc_id]
        offering = existing_offerings.get((loc.pk, svc.pk))
        if offering is None:
            to_create.append(Offering(location=loc, service=svc, clinic_price=price))
        elif price is not None and _set_changed(offering, {"clinic_price": price}, now):
            to_update.append(offering)
    _bulk_write(Offering, to_create, to_update, key_fields=())
    report.offerings_created, report.offerings_updated = len(to_create), len(to_update)


def _set_changed(obj, values: dict[str, Any], now) -> bool:
    """Set the values that differ; True if any did (bulk_update skips auto_now, so set it)."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.updated_at = now
        obj._import_changed = changed
    return bool(changed)


def _bulk_write(model, to_create: list, to_update: list, *, key_fields: tuple[str, ...]) -> None:
    """bulk_create then bulk_update; ids are read back where the backend returns none.

    PostgreSQL and SQLite >= 3.35 return ids from a bulk insert; older SQLite does not, and
    later steps need the ids, so they are looked up by the natural key (first field chunked).
    """
    if to_create:
        model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
        if key_fields and any(obj.pk is None for obj in to_create):
            first = key_fields[0]
            ids: dict[tuple, int] = {}
            for chunk in _chunks(sorted({getattr(o, first) for o in to_create})):
                rows = model.objects.filter(**{f"{first}__in": chunk}).values_list(
                    *key_fields, "pk"
                )
                ids.update({tuple(r[:-1]): r[-1] for r in rows})
            for obj in to_create:
                obj.pk = ids[tuple(getattr(obj, f) for f in key_fields)]
    if to_update:
        fields = sorted({name for obj in to_update for name in obj._import_changed})
        model.objects.bulk_update(to_update, [*fields, "updated_at"], batch_size=BATCH_SIZE)
