"""CPA Standard 005 EFT files: paying providers by direct deposit (Payments Canada AFT).

Pure Python, no models and no database: `cpa005_file` writes a file of credits, `cpa005_parse`
reads one back and checks every rule on the way; both refuse with `Cpa005Error`, whose message
names the record (and segment) and the field for a person to fix.

Rules (RULES.md, Payments): 1,464-character records; header A, credit records C (a 24-character
logical record prefix + up to six 240-character segments), trailer Z; record counts sequential
from 1; a file creation number 1-9999 that is never reused (the caller guarantees uniqueness,
this module checks range and format); amounts in cents and positive; institution 3 digits,
transit 5, account 1-12 digits; the trailer's totals and counts equal the sum of the segments;
dates 0YYDDD; transaction code 460 (accounts payable) for provider payments.

Layout (positions 1-based, inclusive). Standard 005 itself is copyrighted and was not readable
in full here; the layout follows the element names and positions the public bank and vendor
write-ups of it agree on: RBC's "CPA-005 Credit File Format Specifications" (as summarised by
Treasury Software's "CPA 005 1464-Byte Description of EFT Record Formats"), the BMO and
Scotiabank notes from the same vendor, Infor SyteLine's "CPA EFT Output Format", Odoo's
`l10n_ca_payment_cpa005` (which quotes the Standard's element numbers) and a reader written from
the Standard's PDF (standard_005.pdf). Where they differ, the choice is noted.

A - header, one, first::

    1      1  X   "A"
    2-10   9  9   logical record count, "000000001"
    11-20  10 X   originator ID (left-justified, blank-filled)
    21-24  4  9   file creation number
    25-30  6  9   creation date, 0YYDDD
    31-35  5  9   destination data centre
    36-55  20 X   reserved customer-direct clearer communication area: blank
    56-58  3  X   currency code: blank by default; RBC, BMO and Scotiabank read "CAD"/"USD" here
                  (blank = the currency of the service), `currency="CAD"` writes it
    59-1464       filler: blank

C - credit, one per six credits::

    1      1  X   "C"
    2-10   9  9   logical record count
    11-20  10 X   originator ID      } origination control data, the same on every record
    21-24  4  9   file creation no.  }
    25-1464       six segments of 240, the first at 25, then 265, 505, 745, 985, 1225

  a segment (offsets 1-based within the segment)::

    1-3    3  9   transaction type (460, accounts payable)
    4-13   10 9   amount in cents
    14-19  6  9   date funds to be available, 0YYDDD
    20-28  9  9   institutional identification no.: "0" + institution (3) + transit (5)
    29-40  12 X   payee account no., left-justified, blank-filled
    41-62  22 9   item trace no.: zeros (the direct clearer assigns it)
    63-65  3  9   stored transaction type: zeros
    66-80  15 X   originator's short name
    81-110 30 X   payee name
    111-140 30 X  originator's long name
    141-150 10 X  originating direct clearer's user's ID (blank unless the bank asks for it;
                  Odoo and some guides put the originator ID or client number here)
    151-169 19 X  originator's cross reference no.
    170-178 9  9  institutional ID number for returns: "0" + institution + transit
    179-190 12 X  account no. for returns
    191-205 15 X  originator's sundry information: blank
    206-227 22 X  filler: blank
    228-229 2  X  originator-direct clearer settlement code: blank
    230-240 11 9  invalid data element I.D.: zeros

  Unused segments of the last C record are blank-filled. That is what the implementations read
  here do (Odoo pads with 1,200 blanks, node-eft-generator pads with blanks, and the sample file
  in the public write-ups ends its record in blanks); the Standard's own wording on this could
  not be read here, so `cpa005_parse` also accepts an unused segment of all zeros.

Z - trailer, one, last::

    1      1  X   "Z"
    2-10   9  9   logical record count
    11-24  14     origination control data (originator ID + file creation number)
    25-38  14 9   total value of debit transactions (D and J): zero
    39-46  8  9   total number of debit transactions: zero
    47-60  14 9   total value of credit transactions (C and I), cents
    61-68  8  9   total number of credit transactions (segments, not records)
    69-82  14 9   total value of error corrections "E": zero
    83-90  8  9   total number of error corrections "E": zero
    91-104 14 9   total value of error corrections "F": zero
    105-112 8 9   total number of error corrections "F": zero
    113-1464      filler: blank

Records are joined with CR LF and the file ends with CR LF.

Text fields (names, cross reference) are made upper-case ASCII: NFKD, combining marks dropped
("Clinique Médicale Côté" -> "CLINIQUE MEDICALE COTE"), a few letters NFKD leaves alone spelled
out (Æ AE, Œ OE, Ø O, ß SS, Ł L, Đ D, Þ TH), typographic quotes and dashes made plain; then
only A-Z, 0-9, space and - . , / & ' are kept (tabs and other white space become spaces), runs
of spaces collapsed, and the result cut to the field's width. That set is the letters and
digits every bank guide allows plus the punctuation that occurs in clinic and provider names;
all of it is among the characters that keep their meaning in every EBCDIC and ASCII code page,
so a bank's conversion cannot turn it into something else. (RBC's own STD152 format is
stricter, A-Z and 0-9 only; a bank that rejects the punctuation needs `ALLOWED_TEXT` narrowed.)
Names are truncated; the cross reference, an identifier used to reconcile returns, is refused
if it does not fit in 19 characters.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ALLOWED_TEXT",
    "RECORD_LENGTH",
    "Cpa005Error",
    "Credit",
    "Originator",
    "ParsedCredit",
    "ParsedFile",
    "cpa005_file",
    "cpa005_parse",
    "julian",
    "text_field",
]

RECORD_LENGTH = 1464
PREFIX_LENGTH = 24
SEGMENT_LENGTH = 240
SEGMENTS_PER_RECORD = 6
NEWLINE = "\r\n"

ALLOWED_TEXT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.,/&'")

MAX_AMOUNT = Decimal("99999999.99")  # 9(10) cents
MAX_CREDITS = 99_999_999  # total number of credit transactions, 9(8)
MAX_TOTAL_CENTS = 10**14 - 1  # total value of credit transactions, 9(14)
MAX_RECORD_COUNT = 999_999_999  # logical record count, 9(9)
CENT = Decimal("0.01")

_DIGITS = {n: re.compile(rf"[0-9]{{{n}}}") for n in (3, 4, 5, 6, 8, 9, 10, 11, 14, 22)}
_ACCOUNT = re.compile(r"[0-9]{1,12}")
_ORIGINATOR_ID = re.compile(r"[A-Z0-9]{1,10}")
_TRANSACTION_CODE = re.compile(r"[0-9]{3}")

# Letters NFKD does not decompose, and punctuation with a plain equivalent in the allowed set.
_SPELL_OUT = str.maketrans(
    {
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ø": "O",
        "ø": "O",
        "ß": "SS",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Þ": "TH",
        "þ": "TH",
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)


class Cpa005Error(ValueError):
    """A refusal for a person: which record (and segment or credit) and which field, and why."""

    def __init__(
        self,
        message: str,
        *,
        record: int | None = None,
        segment: int | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if record is not None:
            where.append(f"record {record}")
        if segment is not None:
            where.append(f"segment {segment}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.record = record
        self.segment = segment
        self.field = field


@dataclass(frozen=True)
class Originator:
    """MedWorks as the bank knows it; the return institution/transit/account is where a payment
    the payee's bank refuses comes back to."""

    originator_id: str
    short_name: str
    long_name: str
    destination_data_centre: str
    return_institution: str
    return_transit: str
    return_account: str
    direct_clearer_user_id: str = ""


@dataclass(frozen=True)
class Credit:
    """One payment to a provider's account."""

    amount: Decimal
    payee_name: str
    institution: str
    transit: str
    account: str
    cross_reference: str
    funds_available: dt.date


@dataclass(frozen=True)
class ParsedCredit:
    """One segment of a C record, every field (text fields without their trailing blanks)."""

    record_number: int
    segment_number: int
    transaction_type: str
    amount: Decimal
    funds_available: dt.date
    institution: str
    transit: str
    account: str
    item_trace_number: str
    stored_transaction_type: str
    originator_short_name: str
    payee_name: str
    originator_long_name: str
    direct_clearer_user_id: str
    cross_reference: str
    return_institution: str
    return_transit: str
    return_account: str
    sundry_information: str
    settlement_code: str
    invalid_data_element_id: str


@dataclass(frozen=True)
class ParsedFile:
    originator_id: str
    file_creation_number: int
    created_on: dt.date
    destination_data_centre: str
    currency: str  # "" when the header leaves it blank
    credits: list[ParsedCredit]
    record_count: int  # the trailer's logical record count = records in the file
    total_debit_value: Decimal
    total_debit_count: int
    total_credit_value: Decimal
    total_credit_count: int


def _dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# --- dates ------------------------------------------------------------------------------------


def julian(d: dt.date) -> str:
    """`d` as 0YYDDD: "0", the year's last two digits, the day of the year (001-366)."""
    if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
        raise Cpa005Error(f"a date is needed (datetime.date), got {d!r}")
    if not 2000 <= d.year <= 2099:
        raise Cpa005Error(f"{d.isoformat()} cannot be written as 0YYDDD: only 2000-2099")
    return f"0{d.year % 100:02d}{d.timetuple().tm_yday:03d}"


def _from_julian(value: str, *, record: int, segment: int | None, field: str) -> dt.date:
    if not _DIGITS[6].fullmatch(value) or value[0] != "0":
        raise Cpa005Error(
            f"must be a date 0YYDDD, got '{value}'", record=record, segment=segment, field=field
        )
    year, day = 2000 + int(value[1:3]), int(value[3:])
    days_in_year = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    if not 1 <= day <= days_in_year:
        raise Cpa005Error(
            f"day {day:03d} does not exist in {year} (001-{days_in_year}), got '{value}'",
            record=record,
            segment=segment,
            field=field,
        )
    return dt.date(year, 1, 1) + dt.timedelta(days=day - 1)


# --- writing ----------------------------------------------------------------------------------


def text_field(value: str, width: int) -> str:
    """`value` as the standard's text: upper-case ASCII, accents dropped, only `ALLOWED_TEXT`,
    cut to `width` (not padded)."""
    decomposed = unicodedata.normalize("NFKD", value.translate(_SPELL_OUT))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    kept = "".join(" " if c.isspace() else c for c in plain if c in ALLOWED_TEXT or c.isspace())
    return " ".join(kept.split())[:width].rstrip()


def _required_text(value: object, width: int, **where) -> str:
    if not isinstance(value, str):
        raise Cpa005Error(f"must be text, got {value!r}", **where)
    text = text_field(value, width)
    if not any(c.isalnum() for c in text):
        raise Cpa005Error(
            f"'{value}' has no letters or digits left after making it upper-case ASCII", **where
        )
    return text


def _optional_text(value: object, width: int, **where) -> str:
    if not isinstance(value, str):
        raise Cpa005Error(f"must be text, got {value!r}", **where)
    return text_field(value, width)


def _digits(value: object, pattern: re.Pattern[str], what: str, **where) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Cpa005Error(f"must be {what}, got {value!r}", **where)
    return value


def _cents(amount: object, **where) -> int:
    if not isinstance(amount, Decimal):
        raise Cpa005Error(
            f"must be a Decimal in dollars (e.g. Decimal('125.50')), got {amount!r}", **where
        )
    if not amount.is_finite():
        raise Cpa005Error(f"must be a number, got {amount}", **where)
    if amount <= 0:
        raise Cpa005Error(f"must be more than zero, got {amount}", **where)
    if amount != amount.quantize(CENT):
        raise Cpa005Error(f"must be whole cents, got {amount}", **where)
    if amount > MAX_AMOUNT:
        raise Cpa005Error(
            f"must be at most {MAX_AMOUNT:,} (10 digits of cents), got {amount}", **where
        )
    return int(amount.quantize(CENT) * 100)


def _checked_originator(o: Originator) -> dict[str, str]:
    if not isinstance(o, Originator):
        raise Cpa005Error(f"originator must be an Originator, got {o!r}", record=1)
    where = {"record": 1}
    return {
        "id": _digits(
            o.originator_id,
            _ORIGINATOR_ID,
            "1-10 upper-case letters or digits",
            field="originator ID",
            **where,
        ),
        "short_name": _required_text(o.short_name, 15, field="originator short name", **where),
        "long_name": _required_text(o.long_name, 30, field="originator long name", **where),
        "data_centre": _digits(
            o.destination_data_centre,
            _DIGITS[5],
            "5 digits",
            field="destination data centre",
            **where,
        ),
        "return_id": "0"
        + _digits(o.return_institution, _DIGITS[3], "3 digits", field="return institution", **where)
        + _digits(o.return_transit, _DIGITS[5], "5 digits", field="return transit", **where),
        "return_account": _digits(
            o.return_account, _ACCOUNT, "1-12 digits", field="return account", **where
        ),
        "user_id": _optional_text(
            o.direct_clearer_user_id, 10, field="direct clearer user ID", **where
        ),
    }


def _segment(credit: Credit, index: int, code: str, o: dict[str, str]) -> tuple[str, int]:
    record, segment = 2 + index // SEGMENTS_PER_RECORD, index % SEGMENTS_PER_RECORD + 1
    where = {"record": record, "segment": segment}
    if not isinstance(credit, Credit):
        raise Cpa005Error(f"credit {index + 1} must be a Credit, got {credit!r}", **where)
    cents = _cents(credit.amount, field="amount", **where)
    try:
        funds = julian(credit.funds_available)
    except Cpa005Error as error:
        raise Cpa005Error(str(error), field="date funds available", **where) from None
    institution = _digits(credit.institution, _DIGITS[3], "3 digits", field="institution", **where)
    transit = _digits(credit.transit, _DIGITS[5], "5 digits", field="transit", **where)
    account = _digits(credit.account, _ACCOUNT, "1-12 digits", field="account", **where)
    payee = _required_text(credit.payee_name, 30, field="payee name", **where)
    cross_reference = _optional_text(
        credit.cross_reference, 10**6, field="cross reference", **where
    )
    if len(cross_reference) > 19:
        raise Cpa005Error(
            f"'{credit.cross_reference}' is longer than 19 characters; an identifier is not cut",
            field="cross reference",
            **where,
        )
    text = (
        code
        + f"{cents:010d}"
        + funds
        + "0"
        + institution
        + transit
        + account.ljust(12)
        + "0" * 22
        + "000"
        + o["short_name"].ljust(15)
        + payee.ljust(30)
        + o["long_name"].ljust(30)
        + o["user_id"].ljust(10)
        + cross_reference.ljust(19)
        + o["return_id"]
        + o["return_account"].ljust(12)
        + " " * 15
        + " " * 22
        + " " * 2
        + "0" * 11
    )
    assert len(text) == SEGMENT_LENGTH
    return text, cents


def cpa005_file(
    *,
    originator: Originator,
    file_creation_number: int,
    created_on: dt.date,
    credits: Sequence[Credit],
    transaction_code: str = "460",
    currency: str | None = None,
) -> str:
    """The EFT file paying `credits`: records of 1,464 characters, each ended by CR LF.

    `file_creation_number` must never have been used before with this originator ID (the
    caller keeps the sequence); `currency` None leaves the header's currency blank, "CAD"
    writes it for banks that read it."""
    if isinstance(file_creation_number, bool) or not isinstance(file_creation_number, int):
        raise Cpa005Error(
            f"must be a whole number 1-9999, got {file_creation_number!r}",
            record=1,
            field="file creation number",
        )
    if not 1 <= file_creation_number <= 9999:
        raise Cpa005Error(
            f"must be 1-9999, got {file_creation_number}", record=1, field="file creation number"
        )
    try:
        created = julian(created_on)
    except Cpa005Error as error:
        raise Cpa005Error(str(error), record=1, field="creation date") from None
    if currency not in (None, "CAD"):
        raise Cpa005Error(
            f"must be None (blank) or 'CAD', got {currency!r}", record=1, field="currency"
        )
    if not isinstance(transaction_code, str) or not _TRANSACTION_CODE.fullmatch(transaction_code):
        raise Cpa005Error(f"must be 3 digits, got {transaction_code!r}", field="transaction type")
    o = _checked_originator(originator)
    if len(credits) == 0:
        raise Cpa005Error("there are no credits: a file must pay at least one")
    if len(credits) > MAX_CREDITS:
        raise Cpa005Error(
            f"{len(credits):,} credits do not fit the trailer's 8-digit count "
            f"(at most {MAX_CREDITS:,}); split them into several files",
            field="total number of credits",
        )

    control = o["id"].ljust(10) + f"{file_creation_number:04d}"
    records = [
        "A" + "000000001" + control + created + o["data_centre"] + " " * 20 + (currency or "   ")
    ]
    total = 0
    for start in range(0, len(credits), SEGMENTS_PER_RECORD):
        segments = []
        for index in range(start, min(start + SEGMENTS_PER_RECORD, len(credits))):
            text, cents = _segment(credits[index], index, transaction_code, o)
            segments.append(text)
            total += cents
        records.append("C" + f"{len(records) + 1:09d}" + control + "".join(segments))
    if total > MAX_TOTAL_CENTS:
        raise Cpa005Error(
            f"the credits add up to {_dollars(total):,}, more than the trailer's 14 digits "
            "of cents hold; split them into several files",
            record=len(records) + 1,
            field="total value of credits",
        )
    records.append(
        "Z"
        + f"{len(records) + 1:09d}"
        + control
        + "0" * 14
        + "0" * 8
        + f"{total:014d}"
        + f"{len(credits):08d}"
        + "0" * 44
    )
    records = [r.ljust(RECORD_LENGTH) for r in records]
    assert all(len(r) == RECORD_LENGTH for r in records)
    return NEWLINE.join(records) + NEWLINE


# --- parsing ----------------------------------------------------------------------------------


class _Reader:
    """Fields of one record, by 1-based position, each checked as it is read."""

    def __init__(self, text: str, record: int, segment: int | None = None, offset: int = 0):
        self.text, self.record, self.segment, self.offset = text, record, segment, offset

    def raw(self, start: int, end: int) -> str:
        return self.text[self.offset + start - 1 : self.offset + end]

    def fail(self, message: str, field: str) -> Cpa005Error:
        return Cpa005Error(message, record=self.record, segment=self.segment, field=field)

    def digits(self, start: int, end: int, field: str) -> str:
        value = self.raw(start, end)
        if not _DIGITS[end - start + 1].fullmatch(value):
            raise self.fail(f"must be {end - start + 1} digits, got '{value}'", field)
        return value

    def zeros(self, start: int, end: int, field: str) -> str:
        value = self.digits(start, end, field)
        if int(value):
            raise self.fail(f"must be zero, got '{value}'", field)
        return value

    def blank(self, start: int, end: int, field: str) -> None:
        value = self.raw(start, end)
        if value.strip():
            raise self.fail(f"must be blank, got '{value.strip()[:40]}'", field)

    def text_(self, start: int, end: int, field: str, *, required: bool = False) -> str:
        value = self.raw(start, end).rstrip()
        if value != value.lstrip():
            raise self.fail(f"must be left-justified, got '{value}'", field)
        bad = sorted({c for c in value if c not in ALLOWED_TEXT})
        if bad:
            raise self.fail(f"has characters outside A-Z 0-9 space - . , / & ': {bad}", field)
        if required and not value:
            raise self.fail("must not be blank", field)
        return value

    def account(self, start: int, end: int, field: str) -> str:
        value = self.raw(start, end)
        if not _ACCOUNT.fullmatch(value.rstrip()):
            raise self.fail(f"must be 1-12 digits, left-justified, got '{value}'", field)
        return value.rstrip()

    def institution(self, start: int, end: int, field: str) -> tuple[str, str]:
        value = self.digits(start, end, field)
        if value[0] != "0":
            raise self.fail(f"must be 0 + institution (3) + transit (5), got '{value}'", field)
        return value[1:4], value[4:]


def _parse_header(r: _Reader) -> tuple[str, int, dt.date, str, str]:
    if r.raw(1, 1) != "A":
        raise r.fail(f"the first record must be the header 'A', got '{r.raw(1, 1)}'", "record type")
    if r.raw(2, 10) != "000000001":
        raise r.fail(f"must be 000000001, got '{r.raw(2, 10)}'", "logical record count")
    originator_id = r.raw(11, 20).rstrip()
    if not _ORIGINATOR_ID.fullmatch(originator_id) or r.raw(11, 20) != originator_id.ljust(10):
        raise r.fail(
            f"must be 1-10 letters or digits, left-justified, got '{r.raw(11, 20)}'",
            "originator ID",
        )
    number = int(r.digits(21, 24, "file creation number"))
    if not number:
        raise r.fail("must be 0001-9999, got '0000'", "file creation number")
    created_on = _from_julian(r.raw(25, 30), record=1, segment=None, field="creation date")
    data_centre = r.digits(31, 35, "destination data centre")
    r.blank(36, 55, "reserved communication area")
    currency = r.raw(56, 58)
    if currency not in ("   ", "CAD"):
        raise r.fail(f"must be blank or 'CAD', got '{currency}'", "currency")
    r.blank(59, RECORD_LENGTH, "filler")
    return originator_id, number, created_on, data_centre, currency.strip()


def _parse_segment(r: _Reader, transaction_code: str | None) -> ParsedCredit:
    code = r.digits(1, 3, "transaction type")
    if code == "000" or (transaction_code is not None and code != transaction_code):
        expected = transaction_code or "a CPA transaction code"
        raise r.fail(f"must be {expected}, got '{code}'", "transaction type")
    cents = int(r.digits(4, 13, "amount"))
    if not cents:
        raise r.fail("must be more than zero, got '0000000000'", "amount")
    funds = _from_julian(
        r.raw(14, 19), record=r.record, segment=r.segment, field="date funds available"
    )
    institution, transit = r.institution(20, 28, "institutional identification number")
    account = r.account(29, 40, "payee account")
    trace = r.digits(41, 62, "item trace number")
    stored = r.digits(63, 65, "stored transaction type")
    short_name = r.text_(66, 80, "originator short name", required=True)
    payee = r.text_(81, 110, "payee name", required=True)
    long_name = r.text_(111, 140, "originator long name", required=True)
    user_id = r.text_(141, 150, "direct clearer user ID")
    cross_reference = r.text_(151, 169, "cross reference")
    return_institution, return_transit = r.institution(170, 178, "institution ID for returns")
    return_account = r.account(179, 190, "account for returns")
    sundry = r.text_(191, 205, "originator sundry information")
    r.blank(206, 227, "filler")
    settlement = r.raw(228, 229)
    if settlement.strip() and not settlement.isalnum():
        raise r.fail(f"must be blank or 2 letters/digits, got '{settlement}'", "settlement code")
    invalid = r.digits(230, 240, "invalid data element ID")
    return ParsedCredit(
        record_number=r.record,
        segment_number=r.segment or 1,
        transaction_type=code,
        amount=_dollars(cents),
        funds_available=funds,
        institution=institution,
        transit=transit,
        account=account,
        item_trace_number=trace,
        stored_transaction_type=stored,
        originator_short_name=short_name,
        payee_name=payee,
        originator_long_name=long_name,
        direct_clearer_user_id=user_id,
        cross_reference=cross_reference,
        return_institution=return_institution,
        return_transit=return_transit,
        return_account=return_account,
        sundry_information=sundry,
        settlement_code=settlement.strip(),
        invalid_data_element_id=invalid,
    )


def cpa005_parse(text: str, *, transaction_code: str | None = None) -> ParsedFile:
    """Read an EFT file of credits back, checking every rule; the first violation is raised.

    `transaction_code`, when given, is the code every segment must carry (e.g. "460")."""
    if not isinstance(text, str):
        raise Cpa005Error(f"the file must be text, got {type(text).__name__}")
    if not any(c.isalnum() for c in text):
        raise Cpa005Error("the file is empty")
    if not text.endswith(NEWLINE):
        raise Cpa005Error("the file must end with CR LF after its last record")
    lines = text[: -len(NEWLINE)].split(NEWLINE)
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD_LENGTH:
            raise Cpa005Error(
                f"is {len(line):,} characters long, a record is {RECORD_LENGTH:,}", record=number
            )
        odd = sorted({c for c in line if not " " <= c <= "~"})
        if odd:
            raise Cpa005Error(
                f"has characters that are not printable ASCII: {odd!r}", record=number
            )
    if len(lines) < 3:
        raise Cpa005Error(
            f"the file has {len(lines)} record(s); it needs a header, a credit record and a trailer"
        )

    originator_id, number, created_on, data_centre, currency = _parse_header(_Reader(lines[0], 1))
    control = lines[0][10:24]
    credits: list[ParsedCredit] = []
    for position, line in enumerate(lines[1:], start=2):
        r = _Reader(line, position)
        kind = line[0]
        last = position == len(lines)
        if kind == "Z" and not last:
            raise r.fail("the trailer 'Z' must be the last record", "record type")
        if last and kind != "Z":
            raise r.fail(f"the last record must be the trailer 'Z', got '{kind}'", "record type")
        if kind not in ("C", "Z"):
            hint = " (this module reads credit files only)" if kind == "D" else ""
            raise r.fail(
                f"must be 'C' (credit) or 'Z' (trailer), got '{kind}'{hint}", "record type"
            )
        count = r.digits(2, 10, "logical record count")
        if int(count) != position:
            raise r.fail(
                f"must be {position:09d} (records are numbered in sequence from 1), got '{count}'",
                "logical record count",
            )
        if line[10:20] != control[:10]:
            raise r.fail(
                f"must be the header's '{control[:10].rstrip()}', got '{line[10:20].rstrip()}'",
                "originator ID",
            )
        if line[20:24] != control[10:]:
            raise r.fail(
                f"must be the header's {control[10:]}, got '{line[20:24]}'", "file creation number"
            )
        if kind == "Z":
            break
        unused_from = None
        for index in range(SEGMENTS_PER_RECORD):
            offset = PREFIX_LENGTH + index * SEGMENT_LENGTH
            body = line[offset : offset + SEGMENT_LENGTH]
            unused = not body.strip() or body == "0" * SEGMENT_LENGTH
            if unused:
                if index == 0:
                    raise Cpa005Error(
                        "a credit record needs at least one segment", record=position, segment=1
                    )
                unused_from = unused_from or index + 1
                continue
            if unused_from is not None:
                raise Cpa005Error(
                    f"is used but segment {unused_from} before it is empty: "
                    "segments fill from the first",
                    record=position,
                    segment=index + 1,
                )
            credits.append(
                _parse_segment(_Reader(line, position, index + 1, offset), transaction_code)
            )

    z = _Reader(lines[-1], len(lines))
    debit_value = int(z.digits(25, 38, "total value of debits"))
    debit_count = int(z.digits(39, 46, "total number of debits"))
    credit_value = int(z.digits(47, 60, "total value of credits"))
    credit_count = int(z.digits(61, 68, "total number of credits"))
    if debit_value or debit_count:
        raise z.fail(
            f"must be zero in a credit file, got {debit_count} debits of {_dollars(debit_value)}",
            "total value of debits" if debit_value else "total number of debits",
        )
    segments_total = sum(int(c.amount * 100) for c in credits)
    if credit_value != segments_total:
        raise z.fail(
            f"says {_dollars(credit_value)} but the credit segments add up to "
            f"{_dollars(segments_total)}",
            "total value of credits",
        )
    if credit_count != len(credits):
        raise z.fail(
            f"says {credit_count} but the file has {len(credits)} credit segments",
            "total number of credits",
        )
    z.zeros(69, 82, "total value of error corrections E")
    z.zeros(83, 90, "total number of error corrections E")
    z.zeros(91, 104, "total value of error corrections F")
    z.zeros(105, 112, "total number of error corrections F")
    z.blank(113, RECORD_LENGTH, "filler")
    return ParsedFile(
        originator_id=originator_id,
        file_creation_number=number,
        created_on=created_on,
        destination_data_centre=data_centre,
        currency=currency,
        credits=credits,
        record_count=len(lines),
        total_debit_value=_dollars(debit_value),
        total_debit_count=debit_count,
        total_credit_value=_dollars(credit_value),
        total_credit_count=credit_count,
    )
