"""Card numbers in free text: one way of finding them, for every door (RULES.md, cards).

People type a card number in many shapes: "4111 1111 1111 1111", "4111-1111-1111-1111",
"4111.1111.1111.1111", one group a line, with tabs, non-breaking spaces, underscores, commas,
in full-width or Arabic-Indic digits. The text is normalised first (NFKC, every Unicode
decimal digit to ASCII, invisible format characters dropped), then cut into digit groups
chained by short separators (1 to 3 characters that are neither letters nor digits).
Any run of consecutive groups in a chain holding 13 to 19 digits that passes the Luhn check
is a card number, provided it is written the way people write card numbers:

- with single spaces or single dashes between its groups, however long the groups are
  (the guard's rule since the beginning); or
- with any other separators, when it is grouped like a card: every group but the last holds
  4 to 6 digits (4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3 ...). Phone numbers (416.555.0199), dates
  (2026/12/01) and times keep their short groups, so a line of them next to another is not
  read as one long number.

A chain longer than a card is tried group by group ("ref 1234 4111 1111 1111 1111" holds a
card), but one unbroken run of more than 19 digits (a tracking number) is not a card.

What this module returns never holds the whole number: spans into the caller's text and the
last four digits, so a match can be logged, shown or put in an error message.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate, pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .errors import DomainError

MIN_DIGITS = 13
MAX_DIGITS = 19
# Separators longer than this end a chain: "4111 1111" is one number, a paragraph apart is not.
MAX_SEPARATOR = 3
# The tight separators of the original rule, under which any grouping is a candidate.
_TIGHT = frozenset({" ", "-"})

_DIGITS = re.compile(r"[0-9]+")
# Digit groups with separators between them: 1 to MAX_SEPARATOR characters that are neither
# letters nor digits ([\W_] is whatever \w does not match, and the underscore).
_CHAIN = re.compile(rf"[0-9]+(?:[\W_]{{1,{MAX_SEPARATOR}}}[0-9]+)*")

# The code of every refusal of a card number: a form field's, a DomainError's, the API's.
CARD_NUMBER_CODE = "card_number"
CARD_NUMBER_MESSAGE = _(
    "Card numbers are never typed here: remove it. "
    "Card details are entered only on the secure card page."
)


@dataclass(frozen=True)
class CardMatch:
    """Where a card number sits in the text, and its last four digits (nothing more)."""

    start: int  # index of its first character in the text given
    end: int  # index just past its last character
    length: int  # how many digits it has
    last4: str

    @property
    def masked(self) -> str:
        return mask_digits(self.length, self.last4)

    def __str__(self) -> str:
        return self.masked


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn (mod 10) check."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _normalise_char(char: str) -> str:
    if char.isascii():
        return char
    if unicodedata.category(char) == "Cf":  # zero-width spaces, soft hyphens, joiners
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", char):
        digit = unicodedata.decimal(c, None)
        out.append(str(digit) if digit is not None else c)
    return "".join(out)


def _normalised(text: str) -> tuple[str, list[int] | None]:
    """The text as the finder reads it, and for each of its characters the index it came
    from in `text` (None when they are the same text).

    Normalised character by character, so that each one's place in the text is known; what
    NFKC would compose across characters (accents) does not change a digit.
    """
    if text.isascii():
        return text, None
    chars: list[str] = []
    origin: list[int] = []
    cache: dict[str, str] = {}
    for index, char in enumerate(text):
        norm = cache.get(char)
        if norm is None:
            norm = cache[char] = _normalise_char(char)
        chars.append(norm)
        origin.extend([index] * len(norm))
    return "".join(chars), origin


def normalise(text: str) -> str:
    """NFKC, Unicode decimal digits as ASCII, invisible format characters removed."""
    return _normalised(text)[0]


def _chains(norm: str):
    """Lists of (start, end) spans of digit groups that follow each other closely."""
    for chain in _CHAIN.finditer(norm):
        if chain.end() - chain.start() < MIN_DIGITS:  # too short to hold a card
            continue
        offset = chain.start()
        yield [(offset + g.start(), offset + g.end()) for g in _DIGITS.finditer(chain.group())]


# n doubled as Luhn does (digits of 2n added): 0 2 4 6 8 1 3 5 7 9.
_DOUBLED = tuple(n * 2 - 9 if n > 4 else n * 2 for n in range(10))


def _luhn_prefix_sums(digits: str) -> tuple[list[int], list[int]]:
    """Running Luhn sums, one with the odd positions doubled, one with the even ones, so the
    check of any slice costs two subtractions (a long chain is tried by many windows)."""
    odd_doubled, even_doubled = [0], [0]
    for position, char in enumerate(digits):
        n = ord(char) - 48
        plain, doubled = (n, _DOUBLED[n]) if position % 2 == 0 else (_DOUBLED[n], n)
        odd_doubled.append(odd_doubled[-1] + plain)
        even_doubled.append(even_doubled[-1] + doubled)
    return odd_doubled, even_doubled


def _reach(ok: list[bool]) -> list[int]:
    """For each group, the furthest group a window starting there reaches while `ok` holds
    for every group (or separator) it passes."""
    reach = list(range(len(ok) + 1))
    for i in range(len(ok) - 1, -1, -1):
        if ok[i]:
            reach[i] = reach[i + 1]
    return reach


def _find_in_chain(norm: str, chain: list[tuple[int, int]]):
    """(start, end, digits) of each card number in one chain of digit groups, left to right."""
    lengths = [end - start for start, end in chain]
    offsets = [0, *accumulate(lengths)]  # where each group starts among the chain's digits
    digits = "".join(norm[start:end] for start, end in chain)
    odd_doubled, even_doubled = _luhn_prefix_sums(digits)
    # A window is a candidate while its separators are all tight, or while every group of it
    # but the last holds 4 to 6 digits.
    reach_tight = _reach([norm[a[1] : b[0]] in _TIGHT for a, b in pairwise(chain)])
    reach_shaped = _reach([4 <= length <= 6 for length in lengths[:-1]])
    first = 0
    while first < len(chain):
        a = offsets[first]
        shortest = bisect_left(offsets, a + MIN_DIGITS) - 1  # last group of a 13-digit window
        longest = min(
            bisect_right(offsets, a + MAX_DIGITS) - 2, max(reach_tight[first], reach_shaped[first])
        )
        for last in range(longest, shortest - 1, -1):  # the longest one wins: none of it is left
            b = offsets[last + 1]
            # The rightmost digit is never doubled: take the sums whose parity says so.
            sums = odd_doubled if (b - 1) % 2 == 0 else even_doubled
            if (sums[b] - sums[a]) % 10 == 0:
                yield chain[first][0], chain[last][1], digits[a:b]
                first = last + 1
                break
        else:
            first += 1


def find_card_numbers(text: str) -> list[CardMatch]:
    """Every card number in the text, as spans into it with the last four digits."""
    if not text:
        return []
    norm, origin = _normalised(str(text))
    matches = []
    for chain in _chains(norm):
        for start, end, digits in _find_in_chain(norm, chain):
            if origin is not None:
                start, end = origin[start], origin[end - 1] + 1
            matches.append(CardMatch(start=start, end=end, length=len(digits), last4=digits[-4:]))
    return matches


def contains_card_number(text: str) -> bool:
    """Whether the text holds a Luhn-valid 13-19 digit number, however it is written."""
    return bool(find_card_numbers(text))


def mask_digits(length: int, last4: str) -> str:
    return "*" * max(length - len(last4), 0) + last4


def mask(number: str) -> str:
    """A card number with all but its last four digits hidden: "************1111"."""
    digits = "".join(_DIGITS.findall(normalise(str(number))))
    return mask_digits(len(digits), digits[-4:])


def redact(text: str) -> str:
    """The text with every card number in it replaced by its masked form."""
    matches = find_card_numbers(text)
    if not matches:
        return text
    parts, position = [], 0
    for match in matches:
        parts += [text[position : match.start], match.masked]
        position = match.end
    parts.append(text[position:])
    return "".join(parts)


def redact_in_place(text: str) -> tuple[str, list[CardMatch]]:
    """The text with every digit of each card number but its last four replaced by "*", and
    the matches. Unlike redact(), every character stays where it was (separators too), so a
    text decoded from bytes one byte a character (latin-1) or two (UTF-16) encodes back to
    bytes of the same length: a binary file's structure is kept."""
    matches = find_card_numbers(text)
    if not matches:
        return text, []
    chars = list(text)
    for match in matches:
        positions = [
            i for i in range(match.start, match.end) if _normalise_char(chars[i]).isdigit()
        ]
        for i in positions[: max(len(positions) - len(match.last4), 0)]:
            chars[i] = "*"
    return "".join(chars), matches


def redact_bytes(raw: bytes) -> tuple[bytes, list[CardMatch]]:
    """Raw bytes (a stored email, a file) with every card number masked in place, read as
    8-bit text (ASCII digits whatever the encoding around them), as UTF-8 (full-width and
    other Unicode digits) and as UTF-16 at both alignments (Outlook's .msg). What it cannot
    read (a base64 or quoted-printable body) the caller decodes first."""
    found: list[CardMatch] = []
    text, matches = redact_in_place(raw.decode("latin-1"))
    found += matches
    raw = text.encode("latin-1")
    if not raw.isascii():
        text, matches = redact_in_place(raw.decode("utf-8", errors="surrogateescape"))
        found += matches
        raw = text.encode("utf-8", errors="surrogateescape")
    if b"\x00" in raw:
        for offset in (0, 1):
            body = raw[offset:]
            body = body[: len(body) - len(body) % 2]
            text, matches = redact_in_place(body.decode("utf-16-le", errors="surrogatepass"))
            if matches:
                found += matches
                raw = (
                    raw[:offset]
                    + text.encode("utf-16-le", errors="surrogatepass")
                    + raw[offset + len(body) :]
                )
    return raw, found


def reject_card_number(value) -> None:
    """Field validator: a card number is refused where it is typed, so it is never stored."""
    if value is None:
        return
    values = value if isinstance(value, list | tuple) else [value]
    if any(contains_card_number(str(item)) for item in values):
        raise ValidationError(CARD_NUMBER_MESSAGE, code=CARD_NUMBER_CODE)


# --- the one refusal every service gives -------------------------------------------------------


class CardNumberRefused(DomainError):
    """A card number typed where none belongs. Field errors name each field holding one; a
    form shows them on those fields, the API answers 422 (input the caller can correct)."""

    status = 422


def _holds_card_number(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, Promise):  # a lazily translated text
        value = str(value)
    if isinstance(value, str):
        return contains_card_number(value)
    if isinstance(value, int | Decimal):  # a number sent where text was expected
        return contains_card_number(str(value))
    if isinstance(value, float):  # a spreadsheet's numeric cell
        whole = value.is_integer() and contains_card_number(f"{value:.0f}")
        return whole or contains_card_number(repr(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return contains_card_number(bytes(value).decode("latin-1"))
    if isinstance(value, Mapping):
        return any(_holds_card_number(k) or _holds_card_number(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_card_number(item) for item in value)
    return False  # a model, a date, a file: not typed text


def card_number_errors(
    data: Mapping[str, Any], fields: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """{field: [the refusal]} for each field of `data` (or of `fields` only) holding a card
    number: text, numbers, and lists or mappings of them (the API sends lists)."""
    names = data.keys() if fields is None else [name for name in fields if name in data]
    return {
        str(name): [str(CARD_NUMBER_MESSAGE)] for name in names if _holds_card_number(data[name])
    }


def refuse_card_numbers(data: Mapping[str, Any], fields: Iterable[str] | None = None) -> None:
    """Raise CardNumberRefused (code "card_number") with an error on each field of `data`
    holding a card number. Every use case that takes what a person typed calls this before
    reading the values any further, so a card number is never stored, shown or emailed, and
    no other refusal quotes it."""
    errors = card_number_errors(data, fields)
    if errors:
        raise CardNumberRefused(CARD_NUMBER_CODE, str(CARD_NUMBER_MESSAGE), fields=errors)
