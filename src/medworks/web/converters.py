"""URL converters: a record's id is a positive integer the database can hold.

Django's `int` converter takes any number of digits, and a 20-digit id then fails in the
database (SQLite: OverflowError; PostgreSQL: out of range) as a 500. `id` takes at most 18
digits, so a longer one is simply no route: 404, like any id that names nothing.
"""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
