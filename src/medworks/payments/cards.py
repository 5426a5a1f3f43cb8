"""What the card vault's form takes: a card number, its expiry, its security code and the name
on it, each checked before anything is sealed (RULES.md, cards). Pure functions, no storage.

Text is read the way core/cards.py reads it (NFKC, every Unicode decimal digit as ASCII,
invisible format characters dropped), with its Luhn check, so a number the free-text guard
finds is a number this form accepts, and the other way round.

A refusal is a CardError with a stable code and a message for a person, which never repeats
the number typed. A CardNumber never shows more than its brand and last four digits, in its
str() and its repr() alike (a traceback or a log line holds no card number).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from medworks.core.cards import MAX_DIGITS, MIN_DIGITS, contains_card_number, luhn_valid, normalise
from medworks.core.errors import DomainError

VISA = "Visa"
MASTERCARD = "Mastercard"
AMEX = "American Express"
DISCOVER = "Discover"
JCB = "JCB"
DINERS = "Diners Club"
UNIONPAY = "UnionPay"
OTHER = "Card"  # a card of no brand listed here: any length from 13 to 19

# (brand, IIN prefixes as (first, last) inclusive ranges of equal width, lengths it issues).
_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    (VISA, (("4", "4"),), frozenset({13, 16, 19})),
    (MASTERCARD, (("51", "55"), ("2221", "2720")), frozenset({16})),
    (AMEX, (("34", "34"), ("37", "37")), frozenset({15})),
    (DISCOVER, (("6011", "6011"), ("644", "649"), ("65", "65")), frozenset(range(16, 20))),
    (JCB, (("3528", "3589"),), frozenset(range(16, 20))),
    (DINERS, (("300", "305"), ("36", "36"), ("38", "39")), frozenset(range(14, 20))),
    (UNIONPAY, (("62", "62"),), frozenset(range(16, 20))),
)

# How many digits each brand's numbers have, as the refusal says it.
_LENGTHS_TEXT = {
    VISA: _("13, 16 or 19"),
    MASTERCARD: "16",
    AMEX: "15",
    DISCOVER: _("16 to 19"),
    JCB: _("16 to 19"),
    DINERS: _("14 to 19"),
    UNIONPAY: _("16 to 19"),
}

# Dashes people paste from a word processor, read as "-".
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
# Digit groups with spaces or one dash (spaces around it allowed) between them.
_GROUPED = re.compile(r"[0-9]+(?:(?: *- *| +)[0-9]+)*")
_MAX_TYPED = 64  # longer than any card number however it is spaced

_NAME_PUNCTUATION = frozenset(" '-.")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
NAME_MIN, NAME_MAX = 2, 26

MSG_NUMBER_REQUIRED = _("Type the card number.")
MSG_NUMBER_NOT_DIGITS = _(
    "Type the card number in digits only; spaces or dashes between the groups are fine."
)
MSG_NUMBER_LENGTH = _("A card number has 13 to 19 digits: check that none is missing or extra.")
MSG_NUMBER_LUHN = _("This card number is not valid: check the digits.")
MSG_EXPIRY_MONTH = _("Give the expiry month as a number from 1 to 12.")
MSG_EXPIRY_YEAR = _("Give the expiry year in 2 or 4 digits (27 or 2027).")
MSG_EXPIRED = _("This card has expired.")
MSG_EXPIRY_TOO_FAR = _("The expiry date is more than 20 years ahead: check the year.")
MSG_CODE = _("The security code is the 3 digits printed on the back of the card.")
MSG_CODE_AMEX = _(
    "The security code of an American Express card is the 4 digits printed on its front."
)
MSG_NAME_CARD_NUMBER = _("A card number goes in its own field, never in the name.")
MSG_NAME_DIGITS = _("A name on a card holds no digits.")
MSG_NAME_CHARACTERS = _(
    "Write the name with letters, spaces, apostrophes, hyphens and periods only."
)
MSG_NAME_LENGTH = _("Give the name as printed on the card: 2 to 26 characters.")


class CardError(DomainError):
    """A card detail refused: a stable `code` and a message for the person who typed it."""

    status = 422  # input the person can correct


@dataclass(frozen=True, repr=False)
class CardNumber:
    """A checked card number. Only `masked` (brand and last four) is ever shown."""

    digits: str
    brand: str
    last4: str
    first6: str

    @property
    def brand_label(self) -> str:
        return pgettext("card brand", "Card") if self.brand == OTHER else self.brand

    @property
    def masked(self) -> str:
        return f"{self.brand_label} •••• {self.last4}"

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"<CardNumber {self.brand} •••• {self.last4}>"


def _refuse(code: str, message) -> CardError:
    return CardError(code, str(message))


def brand_of(digits: str) -> tuple[str, frozenset[int]]:
    """The brand of a number by its IIN (leading digits), and the lengths that brand issues."""
    for brand, ranges, lengths in _BRANDS:
        for first, last in ranges:
            if first <= digits[: len(first)] <= last:
                return brand, lengths
    return OTHER, frozenset(range(MIN_DIGITS, MAX_DIGITS + 1))


def _typed(raw) -> str:
    """What was typed, normalised as the free-text guard does, whitespace as plain spaces."""
    text = normalise("" if raw is None else str(raw))
    return " ".join(_DASHES.sub("-", text).split())


def card_number_check(raw: str) -> CardNumber:
    """The card number typed, checked: digits (grouped with spaces or dashes), 13 to 19 of
    them, a length its brand issues, and the Luhn check."""
    text = _typed(raw)
    if not text:
        raise _refuse("required", MSG_NUMBER_REQUIRED)
    if len(text) > _MAX_TYPED:
        raise _refuse("length", MSG_NUMBER_LENGTH)
    if not _GROUPED.fullmatch(text):
        raise _refuse("not_digits", MSG_NUMBER_NOT_DIGITS)
    digits = re.sub(r"[^0-9]", "", text)
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise _refuse("length", MSG_NUMBER_LENGTH)
    brand, lengths = brand_of(digits)
    if len(digits) not in lengths:  # before Luhn: a digit left out is told as such
        raise CardError(
            "brand_length",
            gettext("%(brand)s card numbers have %(lengths)s digits: check this one.")
            % {"brand": brand, "lengths": _LENGTHS_TEXT[brand]},
        )
    if not luhn_valid(digits):
        raise _refuse("luhn", MSG_NUMBER_LUHN)
    return CardNumber(digits=digits, brand=brand, last4=digits[-4:], first6=digits[:6])


def _number_typed(value) -> str | None:
    """A whole number as ASCII digits ("07" stays "07"), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if value >= 0 else None
    text = normalise("" if value is None else str(value)).strip()
    return text if text.isascii() and text.isdigit() else None


def expiry_check(month, year, *, today: date) -> tuple[int, int]:
    """(month, four-digit year) of a card valid today: through the last day of its month,
    and no more than 20 years ahead. A two-digit year is 20YY."""
    month_text = _number_typed(month)
    if month_text is None or len(month_text) > 2 or not 1 <= int(month_text) <= 12:
        raise _refuse("expiry_month", MSG_EXPIRY_MONTH)
    year_text = _number_typed(year)
    if year_text is None:
        raise _refuse("expiry_year", MSG_EXPIRY_YEAR)
    if isinstance(year, int) and not isinstance(year, bool) and year < 100:
        year_text = f"{year:02d}"  # 7 given as a number is 07
    if len(year_text) == 2:
        full_year = 2000 + int(year_text)
    elif len(year_text) == 4:
        full_year = int(year_text)
    else:
        raise _refuse("expiry_year", MSG_EXPIRY_YEAR)
    expiry = (full_year, int(month_text))
    if expiry < (today.year, today.month):
        raise _refuse("expired", MSG_EXPIRED)
    if expiry > (today.year + 20, today.month):
        raise _refuse("expiry_too_far", MSG_EXPIRY_TOO_FAR)
    return int(month_text), full_year


def security_code_check(code: str, *, brand: str) -> str:
    """The security code: 3 digits, 4 on an American Express card."""
    text = normalise("" if code is None else str(code)).strip()
    wanted = 4 if brand == AMEX else 3
    if not (text.isascii() and text.isdigit() and len(text) == wanted):
        raise _refuse("security_code", MSG_CODE_AMEX if brand == AMEX else MSG_CODE)
    return text


def name_on_card_check(name) -> str:
    """The name as printed on the card, whitespace tidied: 2 to 26 letters, spaces and ' - .
    No digits at all, so no card number can hide in it (checked first, however it is typed)."""
    raw = "" if name is None else str(name)
    if contains_card_number(raw):
        raise _refuse("card_number", MSG_NAME_CARD_NUMBER)
    text = unicodedata.normalize("NFKC", normalise(raw)).translate(_APOSTROPHES)
    text = " ".join(text.split())
    if any(char.isdigit() for char in text):  # any script's digits, superscripts
        raise _refuse("name_digits", MSG_NAME_DIGITS)
    if text and (
        not any(char.isalpha() for char in text)
        or not all(char.isalpha() or char in _NAME_PUNCTUATION for char in text)
    ):
        raise _refuse("name_characters", MSG_NAME_CHARACTERS)
    if not NAME_MIN <= len(text) <= NAME_MAX:
        raise _refuse("name_length", MSG_NAME_LENGTH)
    return text
