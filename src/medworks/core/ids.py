"""A record's id as people and systems send it: one reading for every door.

An id is a positive whole number the database can hold (a signed 64-bit integer), given as an
int or as ASCII digits. Never a boolean (JSON's `true` is the int 1 to Python, and would name
record 1), never other digits ("²".isdigit() is true, int("²") fails), never past 2**63 - 1
(the database raises on it: a 500, not a "no such record").
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """The id `value` names, or None when it is not an id at all (the caller says so)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 19:
            return None
        number = int(text)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def looks_like_id(value: object) -> bool:
    """Whether `value` is given as a number (an int, or digits) rather than as a name or code,
    be it an id or not (a boolean is neither)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().isdigit()
