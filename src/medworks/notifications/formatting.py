"""How emails write times and places.

Times are in the clinic's own time zone, with the zone always written out.

A patient in Vancouver reading "10:30" must not have to guess whether that is Toronto time.
The zone comes from the clinic's province; a province that spans zones (Ontario's north-west,
Labrador, eastern BC, Nunavut) gets its most populous one, and the abbreviation printed next
to the time ("10:30 (EST)") makes any mismatch visible instead of silent.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import dateformat, timezone, translation

PROVINCE_ZONES = {
    "NL": "America/St_Johns",
    "NS": "America/Halifax",
    "PE": "America/Halifax",
    "NB": "America/Moncton",
    "QC": "America/Toronto",
    "ON": "America/Toronto",
    "MB": "America/Winnipeg",
    "SK": "America/Regina",
    "AB": "America/Edmonton",
    "BC": "America/Vancouver",
    "YT": "America/Whitehorse",
    "NT": "America/Yellowknife",
    "NU": "America/Iqaluit",
}

# "Tue 1 Dec 2026, 09:30 (EST)" / "mardi 1er décembre 2026, 9 h 30 (EST)": French writes the
# hour without a leading zero and the first day of a month as "1er".
_FORMATS = {"en": r"D j M Y, H:i (T)", "fr": r"l j F Y, G \h i (T)"}
_FIRST_OF_MONTH = {"fr": r"l j\e\r F Y, G \h i (T)"}


def zone_for(place=None) -> zoneinfo.ZoneInfo:
    """The zone of a location (anything with .province), a province code, or the site's."""
    province = getattr(place, "province", place)
    name = PROVINCE_ZONES.get(str(province or "").upper(), settings.TIME_ZONE)
    return zoneinfo.ZoneInfo(name)


def format_when(value: dt.datetime | None, place=None, language: str | None = None) -> str:
    """An aware datetime as people read it, in the place's zone and the active language."""
    if value is None:
        return ""
    language = (language or translation.get_language() or "en")[:2]
    local = timezone.localtime(value, zone_for(place))
    pattern = _FORMATS.get(language, _FORMATS["en"])
    if local.day == 1:
        pattern = _FIRST_OF_MONTH.get(language, pattern)
    with translation.override(language):
        return dateformat.format(local, pattern)


def address_line(location) -> str:
    """The parts of a location's address it has, e.g. "Name, street, City ON M5V 3L9"."""
    if location is None:
        return ""
    town = " ".join(p for p in (location.city, location.province, location.postal_code) if p)
    return ", ".join(p for p in (location.name, location.address, town) if p)
