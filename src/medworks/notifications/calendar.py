"""ICS calendar files for appointments (RFC 5545), written by hand: one event, a few fields.

The file travels to the clinic, the insurer and sometimes the patient, and calendar apps sync
it to phones and other people's servers, so it says where and when and which order, never
who the patient is or why they are seen.

Times are in UTC ("Z"), which every client converts to its own zone: no VTIMEZONE needed.
The UID is stable per appointment, so a client that receives the file twice (clinic copy and
reminder, or a resend after a retry) updates one event instead of showing two.

The text a person reads (the services in SUMMARY, the DESCRIPTION) is in the language asked
for, by default the active one: each recipient's copy is written in their email's language.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .formatting import address_line

PRODID = "-//MedWorks//Booking Desk//EN"
UID_DOMAIN = "medworks"


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    if len(line.encode()) <= 75:
        return line
    parts, current, size = [], [], 0
    limit = 75  # the first line; continuation lines spend one octet on the leading space
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, 74
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def ics_for_appointment(*, appointment, case, language: str | None = None) -> str:
    """One VEVENT for a booked appointment, as text with CRLF line endings.

    `language` ("en" or "fr") is the language of its text; by default the active one.
    """
    language = (language or translation.get_language() or "en")[:2]
    location = appointment.location
    ends_at = appointment.starts_at + dt.timedelta(minutes=appointment.duration_minutes)
    with translation.override(language):
        french = language == "fr"
        services = ", ".join(
            (s.name_fr or s.name_en) if french else s.name_en for s in case.services.all()
        )
        description = [_("MedWorks order %(order_id)s.") % {"order_id": case.order_id}]
        if appointment.practitioner:
            description.append(
                _("Practitioner: %(practitioner)s.") % {"practitioner": appointment.practitioner}
            )
        if location.phone:
            description.append(_("Clinic phone: %(phone)s.") % {"phone": location.phone})
        description.append(_("To change or cancel, contact the MedWorks booking team."))
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{UID_DOMAIN}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SUMMARY:{escape_text(f'{services} ({case.order_id})')}",
        f"LOCATION:{escape_text(address_line(location))}",
        f"DESCRIPTION:{escape_text(chr(10).join(description))}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
