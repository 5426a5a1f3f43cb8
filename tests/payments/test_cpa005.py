"""CPA Standard 005 EFT files: written, read back, and refused when a rule is broken."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from medworks.payments.cpa005 import (
    RECORD_LENGTH,
    Cpa005Error,
    Credit,
    Originator,
    cpa005_file,
    cpa005_parse,
    julian,
    text_field,
)

D = Decimal
CREATED = dt.date(2026, 12, 1)
FUNDS = dt.date(2026, 12, 3)

MEDWORKS = Originator(
    originator_id="0123456789",
    short_name="MedWorks",
    long_name="MedWorks Booking Desk Inc.",
    destination_data_centre="00310",
    return_institution="003",
    return_transit="00012",
    return_account="1234567",
)


def credit(n: int = 1, **changes) -> Credit:
    fields = {
        "amount": D("100.00") + n,
        "payee_name": f"Clinic {n}",
        "institution": "004",
        "transit": f"{n % 100000:05d}",
        "account": f"{1000 + n}",
        "cross_reference": f"PR-2026-{n:05d}",
        "funds_available": FUNDS,
    }
    return Credit(**(fields | changes))


def write(credits, **changes) -> str:
    arguments = {
        "originator": MEDWORKS,
        "file_creation_number": 42,
        "created_on": CREATED,
        "credits": credits,
    } | changes
    return cpa005_file(**arguments)


def records_of(text: str) -> list[str]:
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def join(records: list[str]) -> str:
    return "\r\n".join(records) + "\r\n"


# --- dates --------------------------------------------------------------------------------------


def test_julian_dates_are_zero_year_and_day_of_year():
    assert julian(dt.date(2026, 1, 1)) == "026001"
    assert julian(dt.date(2026, 12, 31)) == "026365"
    assert julian(dt.date(2000, 1, 1)) == "000001"
    assert julian(dt.date(2099, 12, 31)) == "099365"


def test_julian_31_december_of_a_leap_year_is_day_366():
    assert julian(dt.date(2024, 12, 31)) == "024366"
    assert julian(dt.date(2028, 2, 29)) == "028060"
    assert julian(dt.date(2000, 12, 31)) == "000366"  # 2000 is a leap year (divisible by 400)


def test_julian_refuses_dates_outside_2000_to_2099_and_non_dates():
    with pytest.raises(Cpa005Error, match="2000-2099"):
        julian(dt.date(1999, 12, 31))
    with pytest.raises(Cpa005Error, match="2000-2099"):
        julian(dt.date(2100, 1, 1))
    with pytest.raises(Cpa005Error, match=r"datetime\.date"):
        julian(dt.datetime(2026, 1, 1, 12, 0))
    with pytest.raises(Cpa005Error, match=r"datetime\.date"):
        julian("2026-01-01")


def test_a_leap_day_366_round_trips_through_the_file():
    text = write([credit(funds_available=dt.date(2024, 12, 31))], created_on=dt.date(2024, 12, 31))
    assert records_of(text)[0][24:30] == "024366"
    assert records_of(text)[1][24 + 13 : 24 + 19] == "024366"
    parsed = cpa005_parse(text)
    assert parsed.created_on == dt.date(2024, 12, 31)
    assert parsed.credits[0].funds_available == dt.date(2024, 12, 31)


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "c_records", "last_record_segments"),
    [(1, 1, 1), (6, 1, 6), (7, 2, 1), (13, 3, 1)],
)
def test_round_trip_splits_segments_six_to_a_record(count, c_records, last_record_segments):
    credits = [credit(n) for n in range(1, count + 1)]
    text = write(credits)
    records = records_of(text)

    assert len(records) == 1 + c_records + 1
    assert all(len(r) == RECORD_LENGTH for r in records)
    assert [r[0] for r in records] == ["A"] + ["C"] * c_records + ["Z"]
    assert [int(r[1:10]) for r in records] == list(range(1, len(records) + 1))
    assert {r[10:24] for r in records} == {"0123456789" + "0042"}

    last = records[-2]
    used = [last[24 + i * 240 : 24 + (i + 1) * 240] for i in range(6)]
    assert [bool(s.strip()) for s in used] == [True] * last_record_segments + [False] * (
        6 - last_record_segments
    )

    parsed = cpa005_parse(text, transaction_code="460")
    assert parsed.originator_id == "0123456789"
    assert parsed.file_creation_number == 42
    assert parsed.created_on == CREATED
    assert parsed.destination_data_centre == "00310"
    assert parsed.record_count == len(records)
    assert len(parsed.credits) == count
    assert [(c.record_number, c.segment_number) for c in parsed.credits] == [
        (2 + i // 6, i % 6 + 1) for i in range(count)
    ]
    total = sum(c.amount for c in credits)
    assert parsed.total_credit_value == total == sum(c.amount for c in parsed.credits)
    assert parsed.total_credit_count == count
    assert parsed.total_debit_value == 0
    assert parsed.total_debit_count == 0
    z = records[-1]
    assert int(z[46:60]) == int(total * 100)
    assert int(z[60:68]) == count
    assert z[24:46] == "0" * 22
    assert z[68:112] == "0" * 44

    for sent, got in zip(credits, parsed.credits, strict=True):
        assert got.amount == sent.amount
        assert got.payee_name == sent.payee_name.upper()
        assert (got.institution, got.transit, got.account) == (
            sent.institution,
            sent.transit,
            sent.account,
        )
        assert got.cross_reference == sent.cross_reference
        assert got.funds_available == sent.funds_available
        assert got.transaction_type == "460"


def test_every_field_of_a_segment_is_where_the_layout_says():
    originator = dataclasses.replace(MEDWORKS, direct_clearer_user_id="DC123")
    c = credit(
        amount=D("1234.56"),
        payee_name="Clinique Médicale Côté",
        institution="815",
        transit="30000",
        account="987654321098",
        cross_reference="PR-2026-00001",
    )
    records = records_of(write([c], originator=originator, currency="CAD"))
    a, segment = records[0], records[1][24:264]

    assert a[:35] == "A000000001" + "0123456789" + "0042" + "026335" + "00310"
    assert a[35:55] == " " * 20
    assert a[55:58] == "CAD"
    assert a[58:] == " " * (1464 - 58)

    assert segment[0:3] == "460"
    assert segment[3:13] == "0000123456"
    assert segment[13:19] == "026337"
    assert segment[19:28] == "081530000"
    assert segment[28:40] == "987654321098"
    assert segment[40:62] == "0" * 22
    assert segment[62:65] == "000"
    assert segment[65:80] == "MEDWORKS".ljust(15)
    assert segment[80:110] == "CLINIQUE MEDICALE COTE".ljust(30)
    assert segment[110:140] == "MEDWORKS BOOKING DESK INC.".ljust(30)
    assert segment[140:150] == "DC123".ljust(10)
    assert segment[150:169] == "PR-2026-00001".ljust(19)
    assert segment[169:178] == "000300012"
    assert segment[178:190] == "1234567".ljust(12)
    assert segment[190:229] == " " * 39  # sundry 15, filler 22, settlement code 2
    assert segment[229:240] == "0" * 11
    assert records[1][264:] == " " * 1200  # segments 2-6 unused: blank

    parsed = cpa005_parse(join(records))
    assert parsed.currency == "CAD"
    got = parsed.credits[0]
    assert got.direct_clearer_user_id == "DC123"
    assert (got.return_institution, got.return_transit, got.return_account) == (
        "003",
        "00012",
        "1234567",
    )
    assert got.originator_short_name == "MEDWORKS"
    assert got.originator_long_name == "MEDWORKS BOOKING DESK INC."
    assert got.item_trace_number == "0" * 22
    assert got.invalid_data_element_id == "0" * 11


def test_the_header_currency_is_blank_by_default():
    records = records_of(write([credit()]))
    assert records[0][55:58] == "   "
    assert cpa005_parse(join(records)).currency == ""


def test_a_short_account_is_left_justified_and_blank_filled():
    records = records_of(write([credit(account="1")]))
    assert records[1][24 + 28 : 24 + 40] == "1" + " " * 11
    assert cpa005_parse(join(records)).credits[0].account == "1"


def test_the_largest_amount_fits_ten_digits_of_cents():
    text = write([credit(amount=D("99999999.99")), credit(2, amount=D("0.01"))])
    assert records_of(text)[1][27:37] == "9999999999"
    assert cpa005_parse(text).total_credit_value == D("100000000.00")


def test_another_transaction_code_can_be_written_and_is_checked_on_the_way_back():
    text = write([credit()], transaction_code="450")
    assert cpa005_parse(text).credits[0].transaction_type == "450"
    with pytest.raises(Cpa005Error, match=r"record 2, segment 1, field 'transaction type'.*460"):
        cpa005_parse(text, transaction_code="460")


# --- text fields --------------------------------------------------------------------------------


def test_accents_are_stripped_and_text_is_upper_case_ascii():
    assert text_field("Clinique Médicale Côté", 30) == "CLINIQUE MEDICALE COTE"
    assert text_field("Hôpital Sainte-Thérèse", 30) == "HOPITAL SAINTE-THERESE"
    assert text_field("Clinique de l\u2019Île", 30) == "CLINIQUE DE L'ILE"
    assert text_field("Ærø Œuvre Straße Łódź", 40) == "AERO OEUVRE STRASSE LODZ"
    assert text_field("Smith & Sons, Ltd. 1/2", 30) == "SMITH & SONS, LTD. 1/2"


def test_characters_outside_the_allowed_set_are_removed_and_spaces_collapsed():
    assert text_field("Dr. #1 (Clinic) @ Main! ✓ 50%", 40) == "DR. 1 CLINIC MAIN 50"
    assert text_field("  Two   spaces\tand tab  ", 30) == "TWO SPACES AND TAB"


def test_text_is_truncated_to_the_field_width():
    long_name = "Centre de Réadaptation Physique de la Vallée-du-Richelieu"
    text = write([credit(payee_name=long_name)])
    payee = records_of(text)[1][24 + 80 : 24 + 110]
    assert payee == "CENTRE DE READAPTATION PHYSIQU"
    assert len(payee) == 30
    assert cpa005_parse(text).credits[0].payee_name == "CENTRE DE READAPTATION PHYSIQU"

    short = dataclasses.replace(MEDWORKS, short_name="MedWorks Booking Desk")
    assert records_of(write([credit()], originator=short))[1][24 + 65 : 24 + 80] == (
        "MEDWORKS BOOKIN"
    )


# --- validation when writing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "match"),
    [
        (100.0, "must be a Decimal"),
        (100, "must be a Decimal"),
        ("100.00", "must be a Decimal"),
        (D("0"), "more than zero"),
        (D("-5.00"), "more than zero"),
        (D("10.005"), "whole cents"),
        (D("100000000.00"), "at most 99,999,999.99"),
        (D("NaN"), "must be a number"),
        (D("Infinity"), "must be a number"),
    ],
)
def test_a_bad_amount_is_refused_naming_the_record_segment_and_field(amount, match):
    credits = [credit(n) for n in range(1, 8)]
    credits[6] = credit(7, amount=amount)  # the 7th credit: record 3, segment 1
    with pytest.raises(Cpa005Error, match=rf"record 3, segment 1, field 'amount': .*{match}"):
        write(credits)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("institution", "04", "3 digits"),
        ("institution", "0004", "3 digits"),
        ("institution", "0A4", "3 digits"),
        ("institution", 4, "3 digits"),
        ("transit", "1234", "5 digits"),
        ("transit", "123456", "5 digits"),
        ("transit", "12-34", "5 digits"),
        ("transit", "\uff11\uff12\uff13\uff14\uff15", "5 digits"),  # full-width, not ASCII
        ("account", "", "1-12 digits"),
        ("account", "1234567890123", "1-12 digits"),
        ("account", "1234-567", "1-12 digits"),
        ("account", "12 34", "1-12 digits"),
    ],
)
def test_a_bad_bank_number_is_refused(field, value, match):
    credits = [credit(1), credit(2, **{field: value})]
    expected = rf"record 2, segment 2, field '{field}': must be {match}"
    with pytest.raises(Cpa005Error, match=expected):
        write(credits)


def test_no_credits_is_refused():
    with pytest.raises(Cpa005Error, match="no credits"):
        write([])


class _Many:
    """A sequence that only says how long it is: the count is checked before any credit."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        raise AssertionError("the count must be refused before a credit is read")


def test_too_many_credits_for_the_trailer_count_is_refused():
    with pytest.raises(Cpa005Error, match="8-digit count"):
        write(_Many(100_000_000))


def test_a_total_too_large_for_the_trailer_is_refused():
    biggest = credit(amount=D("99999999.99"))
    with pytest.raises(Cpa005Error, match=r"field 'total value of credits'.*14 digits"):
        write([biggest] * 10_001)


@pytest.mark.parametrize("number", [0, 10_000, -1, "0042", 42.0, True, None])
def test_a_file_creation_number_outside_1_to_9999_is_refused(number):
    with pytest.raises(Cpa005Error, match="record 1, field 'file creation number'"):
        write([credit()], file_creation_number=number)


@pytest.mark.parametrize("number", [1, 9999])
def test_file_creation_numbers_1_and_9999_are_written_as_four_digits(number):
    text = write([credit()], file_creation_number=number)
    assert {r[20:24] for r in records_of(text)} == {f"{number:04d}"}
    assert cpa005_parse(text).file_creation_number == number


def test_a_creation_date_before_2000_is_refused():
    with pytest.raises(Cpa005Error, match=r"record 1, field 'creation date'.*2000-2099"):
        write([credit()], created_on=dt.date(1999, 12, 31))


def test_a_funds_available_date_before_2000_is_refused():
    with pytest.raises(
        Cpa005Error, match=r"record 2, segment 1, field 'date funds available'.*2000-2099"
    ):
        write([credit(funds_available=dt.date(1999, 1, 1))])


def test_a_payee_name_with_nothing_usable_is_refused():
    with pytest.raises(Cpa005Error, match=r"field 'payee name'.*no letters or digits"):
        write([credit(payee_name="★★★")])


def test_a_cross_reference_longer_than_19_is_refused_not_cut():
    with pytest.raises(Cpa005Error, match=r"field 'cross reference'.*longer than 19"):
        write([credit(cross_reference="PR-2026-000000000001")])
    with pytest.raises(Cpa005Error, match=r"field 'cross reference'.*longer than 19"):
        write([credit(cross_reference="AAAAAAAAAAAAAAAAAAA BBB")])


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("originator_id", "", "originator ID"),
        ("originator_id", "01234567890", "originator ID"),
        ("originator_id", "abc", "originator ID"),
        ("destination_data_centre", "0031", "destination data centre"),
        ("return_institution", "3", "return institution"),
        ("return_transit", "12", "return transit"),
        ("return_account", "12345678901234", "return account"),
        ("short_name", "", "originator short name"),
        ("long_name", "***", "originator long name"),
    ],
)
def test_a_bad_originator_is_refused(field, value, match):
    originator = dataclasses.replace(MEDWORKS, **{field: value})
    with pytest.raises(Cpa005Error, match=rf"record 1, field '{match}'"):
        write([credit()], originator=originator)


@pytest.mark.parametrize("code", ["46", "4600", "ABC", 460])
def test_a_bad_transaction_code_is_refused(code):
    with pytest.raises(Cpa005Error, match="field 'transaction type'"):
        write([credit()], transaction_code=code)


def test_a_currency_other_than_cad_is_refused():
    with pytest.raises(Cpa005Error, match="field 'currency'"):
        write([credit()], currency="USD")


# --- the parser refusing a tampered file --------------------------------------------------------


@pytest.fixture
def thirteen() -> list[str]:
    return records_of(write([credit(n) for n in range(1, 14)]))


def test_the_untampered_file_parses(thirteen):
    assert len(cpa005_parse(join(thirteen)).credits) == 13


def test_a_wrong_trailer_total_is_refused(thirteen):
    z = thirteen[-1]
    total = int(z[46:60])
    thirteen[-1] = z[:46] + f"{total + 1:014d}" + z[60:]
    with pytest.raises(Cpa005Error, match="record 5, field 'total value of credits'"):
        cpa005_parse(join(thirteen))


def test_a_wrong_trailer_count_is_refused(thirteen):
    z = thirteen[-1]
    thirteen[-1] = z[:60] + f"{12:08d}" + z[68:]
    with pytest.raises(Cpa005Error, match=r"record 5, field 'total number of credits'.*13"):
        cpa005_parse(join(thirteen))


def test_a_trailer_with_debits_is_refused(thirteen):
    z = thirteen[-1]
    thirteen[-1] = z[:24] + f"{100:014d}" + f"{1:08d}" + z[46:]
    with pytest.raises(Cpa005Error, match=r"record 5, field 'total value of debits'.*zero"):
        cpa005_parse(join(thirteen))


def test_a_record_of_1463_characters_is_refused(thirteen):
    thirteen[2] = thirteen[2][:-1]
    with pytest.raises(Cpa005Error, match="record 3: is 1,463 characters long"):
        cpa005_parse(join(thirteen))


def test_a_record_of_1465_characters_is_refused(thirteen):
    thirteen[0] += " "
    with pytest.raises(Cpa005Error, match="record 1: is 1,465 characters long"):
        cpa005_parse(join(thirteen))


def test_a_skipped_record_number_is_refused(thirteen):
    thirteen[2] = thirteen[2][0] + "000000004" + thirteen[2][10:]
    with pytest.raises(
        Cpa005Error, match="record 3, field 'logical record count': must be 000000003"
    ):
        cpa005_parse(join(thirteen))


def test_a_missing_record_is_refused(thirteen):
    del thirteen[2]  # records then run 1, 2, 4, 5
    with pytest.raises(Cpa005Error, match="record 3, field 'logical record count'"):
        cpa005_parse(join(thirteen))


def test_a_changed_file_creation_number_on_one_record_is_refused(thirteen):
    thirteen[3] = thirteen[3][:20] + "0043" + thirteen[3][24:]
    with pytest.raises(Cpa005Error, match=r"record 4, field 'file creation number'.*0042"):
        cpa005_parse(join(thirteen))


def test_a_changed_originator_id_on_one_record_is_refused(thirteen):
    thirteen[-1] = thirteen[-1][:10] + "9999999999" + thirteen[-1][20:]
    with pytest.raises(Cpa005Error, match="record 5, field 'originator ID'"):
        cpa005_parse(join(thirteen))


def test_a_non_digit_amount_is_refused(thirteen):
    start = 24 + 240 * 2 + 3  # record 3, segment 3, amount
    r = thirteen[2]
    thirteen[2] = r[:start] + "00001O0000" + r[start + 10 :]
    with pytest.raises(Cpa005Error, match="record 3, segment 3, field 'amount': must be 10 digits"):
        cpa005_parse(join(thirteen))


def test_a_zero_amount_is_refused(thirteen):
    r = thirteen[1]
    thirteen[1] = r[:27] + "0" * 10 + r[37:]
    with pytest.raises(Cpa005Error, match="record 2, segment 1, field 'amount': must be more"):
        cpa005_parse(join(thirteen))


@pytest.mark.parametrize("date", ["026000", "026366", "126001", "02A001"])
def test_an_invalid_julian_date_is_refused(thirteen, date):
    r = thirteen[1]
    thirteen[1] = r[:37] + date + r[43:]
    with pytest.raises(Cpa005Error, match="record 2, segment 1, field 'date funds available'"):
        cpa005_parse(join(thirteen))


def test_an_invalid_creation_date_is_refused(thirteen):
    thirteen[0] = thirteen[0][:24] + "025366" + thirteen[0][30:]  # 2025 is not a leap year
    with pytest.raises(Cpa005Error, match=r"record 1, field 'creation date'.*001-365"):
        cpa005_parse(join(thirteen))


def test_records_out_of_order_are_refused(thirteen):
    with pytest.raises(Cpa005Error, match="record 1, field 'record type'"):
        cpa005_parse(join(thirteen[1:2] + thirteen[:1] + thirteen[2:]))
    with pytest.raises(Cpa005Error, match=r"field 'record type'.*last record"):
        cpa005_parse(join(thirteen[:2] + thirteen[-1:] + thirteen[2:-1]))


def test_a_debit_record_is_refused(thirteen):
    thirteen[1] = "D" + thirteen[1][1:]
    with pytest.raises(Cpa005Error, match=r"record 2, field 'record type'.*credit files only"):
        cpa005_parse(join(thirteen))


def test_a_file_without_trailer_is_refused(thirteen):
    with pytest.raises(Cpa005Error, match="trailer 'Z'"):
        cpa005_parse(join(thirteen[:-1]))


def test_a_file_without_credits_is_refused(thirteen):
    with pytest.raises(Cpa005Error, match="2 record"):
        cpa005_parse(join([thirteen[0], thirteen[-1]]))


def test_a_segment_after_an_empty_one_is_refused(thirteen):
    r = thirteen[-2]  # the last C record: one segment used, five blank
    first = r[24:264]
    thirteen[-2] = r[:24] + " " * 240 + first + r[504:]
    with pytest.raises(Cpa005Error, match="record 4, segment 1: a credit record needs"):
        cpa005_parse(join(thirteen))
    thirteen[-2] = r[:264] + " " * 240 + first + r[504 + 240 :]
    with pytest.raises(Cpa005Error, match="record 4, segment 3: is used but segment 2"):
        cpa005_parse(join(thirteen))


def test_a_zero_filled_unused_segment_is_accepted(thirteen):
    r = thirteen[-2]
    thirteen[-2] = r[:264] + "0" * 1200
    assert len(cpa005_parse(join(thirteen)).credits) == 13


def test_a_lower_case_payee_name_is_refused(thirteen):
    r = thirteen[1]
    thirteen[1] = r[: 24 + 80] + "clinic 1".ljust(30) + r[24 + 110 :]
    with pytest.raises(Cpa005Error, match="record 2, segment 1, field 'payee name'"):
        cpa005_parse(join(thirteen))


def test_a_right_justified_account_is_refused(thirteen):
    r = thirteen[1]
    thirteen[1] = r[: 24 + 28] + "1001".rjust(12) + r[24 + 40 :]
    with pytest.raises(Cpa005Error, match="record 2, segment 1, field 'payee account'"):
        cpa005_parse(join(thirteen))


def test_non_blank_filler_is_refused(thirteen):
    thirteen[-1] = thirteen[-1][:-1] + "X"
    with pytest.raises(Cpa005Error, match="record 5, field 'filler'"):
        cpa005_parse(join(thirteen))


def test_a_file_not_ending_with_crlf_is_refused(thirteen):
    with pytest.raises(Cpa005Error, match="CR LF"):
        cpa005_parse(join(thirteen)[:-2])
    with pytest.raises(Cpa005Error, match="CR LF"):
        cpa005_parse(join(thirteen).replace("\r\n", "\n"))
