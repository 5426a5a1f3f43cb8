"""Reading a JSON body: Ninja's parser, with text that can be stored.

JSON can carry what no text column holds: a lone surrogate ("\\ud800", half of a UTF-16 pair),
which Python keeps in a str and the database driver then cannot encode (a 500 on save, or on
rendering the answer). Django reads form and multipart bodies the same way, replacing what is
not text with U+FFFD; this parser does that for JSON, so every door hands the services text.
NaN and Infinity, which Python's json reads and JSON does not have, are refused (422).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext
from ninja.parser import Parser
from pydantic_core import PydanticCustomError

# Lone surrogates, and NUL, which PostgreSQL text cannot hold either.
_LONE_SURROGATE = re.compile("[\ud800-\udfff\x00]")


def text_only(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate in its strings and keys replaced."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [text_only(item) for item in value]
    if isinstance(value, dict):
        return {text_only(key): text_only(item) for key, item in value.items()}
    return value


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")  # NaN, Infinity: Python's, not JSON's


class TextJsonParser(Parser):
    def parse_body(self, request):
        return text_only(json.loads(request.body, parse_constant=_not_json))


def no_booleans(value: Any) -> Any:
    """A field validator (mode="before") for ids and codes: JSON's true and false are 1 and 0
    to Python, and would name record 1; they are refused, on the field (422)."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, bool) for item in items):
        raise PydanticCustomError(
            "boolean_not_id", gettext("Give an id or a code, not true or false.")
        )
    return value
