"""Card numbers in free text (RULES.md, cards): found however they are typed, and never given
back whole; ordinary numbers (phones, dates, Order Ids, postal codes) are left alone."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from medworks.core.cards import (
    contains_card_number,
    find_card_numbers,
    luhn_valid,
    mask,
    normalise,
    redact,
    reject_card_number,
)

VISA = "4111111111111111"
NBSP = "\u00a0"


def in_script(zero: int):
    """Writes ASCII digits in the script whose zero is at this code point."""
    table = str.maketrans("0123456789", "".join(chr(zero + i) for i in range(10)))
    return lambda text: text.translate(table)


full_width = in_script(0xFF10)
arabic_indic = in_script(0x660)
devanagari = in_script(0x966)


def grouped(number: str, separator: str, sizes=(4, 4, 4, 4)) -> str:
    groups, position = [], 0
    for size in sizes:
        groups.append(number[position : position + size])
        position += size
    return separator.join(groups)


# The 21 forms people type card numbers in (issue 14): each is found, with its last four digits.
CARD_FORMS = {
    "unbroken": (VISA, "1111"),
    "spaces": (grouped(VISA, " "), "1111"),
    "single dashes": (grouped(VISA, "-"), "1111"),
    "double spaces": (grouped(VISA, "  "), "1111"),
    "dots": (grouped(VISA, "."), "1111"),
    "slashes": (grouped(VISA, "/"), "1111"),
    "tabs": (grouped(VISA, "\t"), "1111"),
    "newlines": (grouped(VISA, "\n"), "1111"),
    "windows newlines": (grouped(VISA, "\r\n"), "1111"),
    "non-breaking spaces": (grouped(VISA, NBSP), "1111"),
    "underscores": (grouped(VISA, "_"), "1111"),
    "commas": (grouped(VISA, ","), "1111"),
    "full-width digits": (full_width(grouped(VISA, " ")), "1111"),
    "arabic-indic digits": (arabic_indic(grouped(VISA, " ")), "1111"),
    "mixed digits and separators": (
        f"{full_width('4111')}-1111 {arabic_indic('1111')}.1111",
        "1111",
    ),
    "13 digits (visa)": ("4222 2222 2222 2", "2222"),
    "15 digits (amex, 4-6-5)": ("3782 822463 10005", "0005"),
    "15 digits (amex, dots)": ("3714.496353.98431", "8431"),
    "16 digits (mastercard)": ("5555 5555 5555 4444", "4444"),
    "16 digits (mastercard 2-series, slashes)": ("2223/0031/2200/3222", "3222"),
    "19 digits": ("6304 0000 0000 0000 018", "0018"),
}


@pytest.mark.parametrize(("text", "last4"), CARD_FORMS.values(), ids=CARD_FORMS.keys())
def test_a_card_number_is_found_however_it_is_typed(text, last4):
    sentence = f"Please charge card {text} for the deposit."
    [match] = find_card_numbers(sentence)
    assert match.last4 == last4
    assert sentence[match.start : match.end] == text
    assert contains_card_number(sentence)


def test_there_are_twenty_one_forms():
    assert len(CARD_FORMS) == 21


@pytest.mark.parametrize(
    "text",
    [
        "ref 1234 4111 1111 1111 1111",  # next to other digits
        "ref 1234 4111.1111.1111.1111",
        "4111111111111111 12/28",  # followed by the expiry date
        "Card:4111\u200b1111\u200b1111\u200b1111",  # zero-width spaces between the groups
        "visa\n4111\n1111\n1111\n1111\nexp 12/28",
        "diners 3056 930902 5904",
    ],
)
def test_a_card_number_among_other_characters_is_still_found(text):
    assert contains_card_number(text)


NOT_CARDS = {
    "luhn-invalid, spaces": "card 4111 1111 1111 1112",
    "luhn-invalid, dots": "card 4111.1111.1111.1112",
    "luhn-invalid, full-width": full_width("card 4111 1111 1111 1112"),
    "phone numbers": "Phone 416-555-0199, 1-800-555-0100",
    "phone numbers, dotted": "Call 416.555.0199 or 647.555.0123 or +1 (905) 555-0142",
    "phone numbers, one a line": "416-555-0199\n647-555-0123\n905-555-0142\n1-800-555-0100",
    "dates": "Preferred: 2026-12-14, 2026-12-15, 2026-12-16 / 2026/12/17",
    "dates and times, one a line": "2026-12-14 10:30\n2026-12-15 14:00\n2026-12-16 09:15",
    "an appointment line": "Tue 1 Dec 2026, 10:30 (EST)",
    "an ics timestamp": "DTSTART:20261201T153000Z",
    "order ids": "Order MW-2026-000123, MW-2026-000124 and MW-2026-000125",
    "claim references": "Order MW-2026-000123, reference CLM-778812",
    "postal codes": "M5V 3L9, H2X 1Y4, V6B 1A1, K1A 0B1",
    "12 digits, luhn-valid": "4111 1111 1117",
    "12 digits, unbroken": "account 411111111117",
    "a tracking number": "tracking 12345678901234567890123",
    "money": "Clinic price $1,250.00, tax 162.50, total 1,412.50",
}


@pytest.mark.parametrize("text", NOT_CARDS.values(), ids=NOT_CARDS.keys())
def test_ordinary_numbers_are_not_mistaken_for_cards(text):
    assert find_card_numbers(text) == []


def test_a_whole_booking_email_full_of_numbers_holds_no_card():
    body = (
        "Order MW-2026-000123 (your reference CLM-2026-55120)\n"
        "Patient: Jean Tremblay, born 1980-04-12\n"
        "Phone 416-555-0199\n"
        "300 Front Street West, Toronto ON M5V 3L9\n"
        "Dates: 2026-12-14 10:30, 2026-12-15 14:00\n"
        "Clinic: 500 King St W, 416-555-0100, fax 416-555-0101\n"
        "Price 1,250.00 CAD\n"
    )
    assert not contains_card_number(body)


def test_a_match_never_holds_the_whole_number():
    [match] = find_card_numbers(f"card {grouped(VISA, ' ')}")
    assert VISA not in repr(match)
    assert VISA not in str(match)
    assert match.masked == "************1111"
    assert (match.length, match.last4) == (16, "1111")


def test_several_card_numbers_are_each_found():
    text = "first 4111 1111 1111 1111, then 5555.5555.5555.4444 and 378282246310005"
    assert [m.last4 for m in find_card_numbers(text)] == ["1111", "4444", "0005"]


def test_mask_keeps_only_the_last_four_digits():
    assert mask("4111 1111 1111 1111") == "************1111"
    assert mask(full_width("3782 822463 10005")) == "***********0005"


def test_redact_masks_every_card_number_and_keeps_the_rest():
    text = "Pay with 4111-1111-1111-1111 (order MW-2026-000123)."
    assert redact(text) == "Pay with ************1111 (order MW-2026-000123)."
    assert redact("nothing here") == "nothing here"


def test_normalise_turns_unicode_digits_into_ascii():
    assert normalise(f"{arabic_indic('4111')} {full_width('4111')} {devanagari('4111')}") == (
        "4111 4111 4111"
    )


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


def test_the_validator_refuses_a_card_number_with_its_own_code_and_no_number():
    with pytest.raises(ValidationError) as refused:
        reject_card_number("Symptoms: none. Card 4111.1111.1111.1111")
    assert refused.value.code == "card_number"
    message = str(refused.value.messages[0])
    assert "Card numbers are never typed here" in message
    assert "1111.1111" not in message


@pytest.mark.parametrize("value", ["Pain in the left wrist.", "", None, ["XRAY", "2026-12-14"]])
def test_the_validator_lets_ordinary_text_through(value):
    reject_card_number(value)


def test_the_validator_looks_into_lists():
    with pytest.raises(ValidationError):
        reject_card_number(["XRAY", VISA])


# --- properties -------------------------------------------------------------------------------

SEPARATORS = [" ", "  ", "-", ".", "/", "\t", "\n", "\r\n", NBSP, "_", ",", " - ", "\u2009"]
# Zero, in scripts people may type digits in: ASCII, full-width, Arabic-Indic, Persian,
# Devanagari, Bengali, Thai.
DIGIT_ZEROS = [0x30, 0xFF10, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50]


def with_check_digit(payload: str) -> str:
    return next(payload + d for d in "0123456789" if luhn_valid(payload + d))


card_numbers = st.text("0123456789", min_size=15, max_size=15).map(with_check_digit)


@given(
    number=card_numbers,
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=3, max_size=3),
    zero=st.sampled_from(DIGIT_ZEROS),
)
def test_any_luhn_valid_16_digit_number_joined_by_any_separators_is_found(number, separators, zero):
    typed = "".join(chr(zero + int(d)) for d in number)
    groups = [typed[i : i + 4] for i in range(0, 16, 4)]
    text = groups[0] + "".join(
        sep + group for sep, group in zip(separators, groups[1:], strict=True)
    )
    sentence = f"card: {text} thanks"
    matches = find_card_numbers(sentence)
    assert [m.last4 for m in matches] == [number[-4:]]
    assert sentence[matches[0].start : matches[0].end] == text


@given(
    number=card_numbers,
    separators=st.lists(st.sampled_from(SEPARATORS), min_size=3, max_size=3),
    bump=st.integers(1, 9),
)
def test_the_same_number_with_a_wrong_check_digit_is_not_found(number, separators, bump):
    wrong = number[:-1] + str((int(number[-1]) + bump) % 10)
    groups = [wrong[i : i + 4] for i in range(0, 16, 4)]
    text = groups[0] + "".join(
        sep + group for sep, group in zip(separators, groups[1:], strict=True)
    )
    assert not contains_card_number(f"card: {text} thanks")
