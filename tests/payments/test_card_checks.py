"""What the card vault's form accepts (payments/cards.py): a card number of a known shape,
an expiry still to come, a security code of the brand's length and a name with no number in
it. A refusal never repeats the number typed."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polib
import pytest
from django.utils import translation

from medworks.core.cards import luhn_valid
from medworks.payments import cards
from medworks.payments.cards import (
    AMEX,
    CardError,
    CardNumber,
    card_number_check,
    expiry_check,
    name_on_card_check,
    security_code_check,
)

TODAY = date(2026, 12, 1)
FRAGMENT = Path(__file__).resolve().parents[2] / "locale" / "fragments" / "card_vault.po"


def wide(text: str) -> str:
    """The text in full-width characters (digits, letters, dashes), as some keyboards type."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def with_check_digit(prefix: str, length: int) -> str:
    """A Luhn-valid number of `length` digits starting with `prefix`."""
    body = prefix + "0" * (length - len(prefix) - 1)
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def refused(check, *args, **kwargs) -> CardError:
    with pytest.raises(CardError) as caught:
        check(*args, **kwargs)
    return caught.value


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# --- card numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "Visa"),
        ("4222222222222", "Visa"),  # 13 digits
        (with_check_digit("4", 19), "Visa"),
        ("5555555555554444", "Mastercard"),
        ("5105105105105100", "Mastercard"),
        ("2223003122003222", "Mastercard"),  # the 2-series
        (with_check_digit("2720", 16), "Mastercard"),
        ("378282246310005", "American Express"),
        ("371449635398431", "American Express"),
        (with_check_digit("34", 15), "American Express"),
        ("6011111111111117", "Discover"),
        (with_check_digit("644", 16), "Discover"),
        (with_check_digit("649", 19), "Discover"),
        (with_check_digit("65", 16), "Discover"),
        ("3530111333300000", "JCB"),
        (with_check_digit("3589", 19), "JCB"),
        ("36227206271667", "Diners Club"),  # 14 digits
        (with_check_digit("300", 14), "Diners Club"),
        (with_check_digit("305", 16), "Diners Club"),
        (with_check_digit("38", 14), "Diners Club"),
        (with_check_digit("39", 19), "Diners Club"),
        ("6200000000000005", "UnionPay"),
        (with_check_digit("62", 19), "UnionPay"),
        (with_check_digit("9", 13), "Card"),  # a brand not listed: any length it may have
        (with_check_digit("1", 19), "Card"),
        (with_check_digit("2220", 16), "Card"),  # just below the Mastercard 2-series
        (with_check_digit("2721", 16), "Card"),  # just above it
        (with_check_digit("3527", 16), "Card"),  # just below JCB
        (with_check_digit("306", 16), "Card"),
        (with_check_digit("6010", 16), "Card"),
        (with_check_digit("643", 16), "Card"),
    ],
)
def test_each_brand_is_known_by_its_leading_digits(number, brand):
    card = card_number_check(number)
    assert card == CardNumber(digits=number, brand=brand, last4=number[-4:], first6=number[:6])


def test_a_card_shows_its_brand_and_last_four_only():
    card = card_number_check("4111 1111 1111 1111")
    assert card.masked == "Visa •••• 1111"
    assert str(card) == "Visa •••• 1111"
    assert "411111" not in repr(card) and "4111111111111111" not in repr(card)
    assert card_number_check("378282246310005").masked == "American Express •••• 0005"
    assert card_number_check(with_check_digit("9", 16)).masked.startswith("Card •••• ")


def test_a_checked_card_cannot_be_changed():
    card = card_number_check("4111111111111111")
    with pytest.raises(AttributeError):
        card.digits = "4222222222222"


@pytest.mark.parametrize(
    "typed",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111 - 1111 - 1111 - 1111",
        "  4111111111111111  ",
        "4111  1111\t1111 1111",
        "4111\u00a01111\u00a01111\u00a01111",  # non-breaking spaces
        "4111\u20131111\u20131111\u20131111",  # en dashes pasted from a word processor
        wide("4111 1111 1111 1111"),  # full-width digits
        wide("4111-1111-1111-1111"),  # full-width dashes too
        "\u0664\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661\u0661",
        "4111\u200b1111 1111 1111",  # a zero-width space dropped, as the free-text guard does
    ],
)
def test_the_number_may_be_typed_in_many_shapes(typed):
    assert card_number_check(typed).digits == "4111111111111111"


def test_amex_grouped_as_printed():
    assert card_number_check("3782 822463 10005").brand == AMEX


@pytest.mark.parametrize(
    "typed",
    [
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111_1111_1111_1111",
        "4111--1111-1111-1111",
        "-4111111111111111",
        "4111111111111111-",
        "4111 1111 1111 111O",  # a letter O
        "card 4111111111111111",
        "+4111111111111111",
    ],
)
def test_anything_but_digits_spaces_and_dashes_is_refused(typed):
    error = refused(card_number_check, typed)
    assert error.code == "not_digits"
    assert "1111" not in error.message and "4111" not in error.message
    assert error.status == 422


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_nothing_typed(typed):
    assert refused(card_number_check, typed).code == "required"


@pytest.mark.parametrize(
    "typed",
    [
        with_check_digit("4", 12),
        with_check_digit("4", 20),
        with_check_digit("9", 12),
        "4111 1111 1111 1111 1111",
        "1234",
        "4" * 65,
    ],
)
def test_fewer_than_13_or_more_than_19_digits_is_the_wrong_length(typed):
    error = refused(card_number_check, typed)
    assert error.code == "length"
    assert "13 to 19" in error.message


@pytest.mark.parametrize(
    ("number", "brand", "lengths"),
    [
        (with_check_digit("4", 14), "Visa", "13, 16 or 19"),
        (with_check_digit("4", 15), "Visa", "13, 16 or 19"),
        (with_check_digit("51", 15), "Mastercard", "16"),
        (with_check_digit("2221", 19), "Mastercard", "16"),
        (with_check_digit("37", 16), "American Express", "15"),
        (with_check_digit("6011", 15), "Discover", "16 to 19"),
        (with_check_digit("3528", 15), "JCB", "16 to 19"),
        (with_check_digit("36", 13), "Diners Club", "14 to 19"),
        (with_check_digit("62", 13), "UnionPay", "16 to 19"),
    ],
)
def test_a_length_the_brand_does_not_issue_is_refused(number, brand, lengths):
    error = refused(card_number_check, number)
    assert error.code == "brand_length"
    assert error.message == f"{brand} card numbers have {lengths} digits: check this one."
    assert number[-4:] not in error.message.replace(lengths, "")


@pytest.mark.parametrize(
    "number", ["4111111111111112", "5555555555554445", "378282246310006", "4111 1111 1111 1121"]
)
def test_a_number_failing_the_luhn_check_is_refused_without_being_repeated(number):
    error = refused(card_number_check, number)
    assert error.code == "luhn"
    assert not re.search(r"\d{4}", error.message)


def test_every_refusal_is_a_domain_error_with_a_message():
    from medworks.core.errors import DomainError

    error = refused(card_number_check, "4111111111111112")
    assert isinstance(error, DomainError)
    assert str(error) == error.message


# --- expiry ----------------------------------------------------------------------------------


def test_a_card_expiring_this_month_is_valid_through_its_last_day():
    assert expiry_check(12, 2026, today=date(2026, 12, 1)) == (12, 2026)
    assert expiry_check(12, 2026, today=date(2026, 12, 31)) == (12, 2026)
    assert expiry_check(2, 2028, today=date(2028, 2, 29)) == (2, 2028)


def test_last_month_is_expired():
    assert refused(expiry_check, 11, 2026, today=TODAY).code == "expired"
    assert refused(expiry_check, 12, 2026, today=date(2027, 1, 1)).code == "expired"
    assert refused(expiry_check, 12, 25, today=TODAY).code == "expired"


def test_two_digit_years_are_this_century():
    assert expiry_check(1, 27, today=TODAY) == (1, 2027)
    assert expiry_check("01", "27", today=TODAY) == (1, 2027)
    assert expiry_check("3", "2030", today=TODAY) == (3, 2030)
    assert expiry_check(" 07 ", " 29 ", today=TODAY) == (7, 2029)
    assert expiry_check(wide("07"), wide("2029"), today=TODAY) == (7, 2029)  # full-width digits


def test_twenty_years_ahead_at_most():
    assert expiry_check(12, 2046, today=TODAY) == (12, 2046)
    assert expiry_check(12, 46, today=TODAY) == (12, 2046)
    assert refused(expiry_check, 1, 2047, today=TODAY).code == "expiry_too_far"
    assert refused(expiry_check, 1, 99, today=TODAY).code == "expiry_too_far"  # 2099
    assert refused(expiry_check, 12, 9999, today=TODAY).code == "expiry_too_far"


@pytest.mark.parametrize("month", [0, 13, "13", "00", "", None, "ab", "1.5", -1, "012", True])
def test_a_month_from_1_to_12(month):
    error = refused(expiry_check, month, 2027, today=TODAY)
    assert error.code == "expiry_month"
    assert error.message == "Give the expiry month as a number from 1 to 12."


@pytest.mark.parametrize("year", ["7", "202", "20277", "", None, "twenty", -27, 202, "2O27"])
def test_a_year_of_2_or_4_digits(year):
    assert refused(expiry_check, 6, year, today=TODAY).code == "expiry_year"


# --- security codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("brand", ["Visa", "Mastercard", "Discover", "JCB", "Diners Club", "Card"])
def test_three_digits_on_the_back(brand):
    assert security_code_check("123", brand=brand) == "123"
    assert security_code_check(" 042 ", brand=brand) == "042"
    assert security_code_check(wide("123"), brand=brand) == "123"
    for bad in ("12", "1234", "12a", "", "1 2 3", None):
        error = refused(security_code_check, bad, brand=brand)
        assert error.code == "security_code"
        assert "3 digits" in error.message


def test_four_digits_on_the_front_of_an_american_express_card():
    brand = card_number_check("378282246310005").brand
    assert security_code_check("1234", brand=brand) == "1234"
    for bad in ("123", "12345", "12 34"):
        error = refused(security_code_check, bad, brand=brand)
        assert error.code == "security_code"
        assert "4 digits" in error.message
        assert bad not in error.message


# --- the name on the card ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Jane Doe", "Jane Doe"),
        ("  Jane   Doe  ", "Jane Doe"),
        ("Zoë O'Brien-Lévesque", "Zoë O'Brien-Lévesque"),
        ("Zoë O\u2019Brien", "Zoë O'Brien"),  # a typographic apostrophe
        ("J. R. Smith", "J. R. Smith"),
        ("Al", "Al"),
        ("A" * 26, "A" * 26),
        (wide("Jane Doe"), "Jane Doe"),  # full-width letters
        ("Rene\u0301e Roy", "Renée Roy"),  # an accent typed as a combining mark
    ],
)
def test_a_name_as_printed_on_the_card(typed, kept):
    assert name_on_card_check(typed) == kept


@pytest.mark.parametrize(
    "typed",
    [
        "Jane 4111111111111111",
        "4111 1111 1111 1111",
        "Jane " + wide("4111 1111 1111 1111"),
        "4111-1111-1111-1111 Doe",
    ],
)
def test_a_card_number_in_the_name_is_refused_as_one(typed):
    error = refused(name_on_card_check, typed)
    assert error.code == "card_number"
    assert "1111" not in error.message


@pytest.mark.parametrize(
    "typed",
    [
        "Jane Doe 2",
        "Agent 007",
        "J4ne",
        "Jane " + wide("4"),
        "Jane \u0664",
        "Jane²",
        "Jane 4111 1111",
    ],
)
def test_a_name_holds_no_digits(typed):
    assert refused(name_on_card_check, typed).code == "name_digits"


@pytest.mark.parametrize(
    "typed", ["Jane_Doe", "Jane@Doe", "Jane, Doe", "Jane/Doe", "--", "..", "' -", "Jane (Doe)"]
)
def test_a_name_of_letters_spaces_and_apostrophes_hyphens_periods(typed):
    assert refused(name_on_card_check, typed).code == "name_characters"


@pytest.mark.parametrize("typed", ["", "   ", None, "J", " J ", "A" * 27, "Jane " + "D" * 22])
def test_a_name_of_2_to_26_characters(typed):
    assert refused(name_on_card_check, typed).code == "name_length"


# --- French ----------------------------------------------------------------------------------


def _messages() -> set[str]:
    lazy = {str(value) for name, value in vars(cards).items() if name.startswith("MSG_")}
    lazy |= {str(text) for text in cards._LENGTHS_TEXT.values()}
    return lazy | {"%(brand)s card numbers have %(lengths)s digits: check this one."}


def test_every_message_has_its_french_in_the_fragment():
    with translation.override("en"):
        wanted = _messages()
    fragment = polib.pofile(str(FRAGMENT))
    french = {entry.msgid: entry.msgstr for entry in fragment if not entry.msgctxt}
    missing = sorted(m for m in wanted if m not in french and not m.isdigit())
    assert missing == []
    assert all(french[m] for m in wanted if not m.isdigit())
    assert fragment.find("Card", msgctxt="card brand").msgstr == "Carte"
    assert fragment.percent_translated() == 100
    for entry in fragment:  # the same placeholders in both languages
        assert set(re.findall(r"%\(\w+\)s", entry.msgid)) == set(
            re.findall(r"%\(\w+\)s", entry.msgstr)
        )


@pytest.fixture
def french(settings, tmp_path):
    """The fragment compiled and put before the project's catalogue, in French."""
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    polib.pofile(str(FRAGMENT)).save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [str(tmp_path), *settings.LOCALE_PATHS]
    with translation.override("fr"):
        yield


def test_the_refusals_read_in_french(french):
    assert refused(card_number_check, "4111111111111112").message == (
        "Ce numéro de carte n\u2019est pas valide : vérifiez les chiffres."
    )
    assert refused(card_number_check, with_check_digit("4", 15)).message == (
        "Les numéros de carte Visa comptent 13, 16 ou 19 chiffres : vérifiez celui-ci."
    )
    assert refused(card_number_check, with_check_digit("62", 13)).message == (
        "Les numéros de carte UnionPay comptent de 16 à 19 chiffres : vérifiez celui-ci."
    )
    assert refused(expiry_check, 11, 2026, today=TODAY).message == "Cette carte est expirée."
    assert "4 chiffres" in refused(security_code_check, "123", brand=AMEX).message
    assert card_number_check(with_check_digit("9", 16)).masked.startswith("Carte •••• ")
    assert card_number_check("4111111111111111").masked == "Visa •••• 1111"
