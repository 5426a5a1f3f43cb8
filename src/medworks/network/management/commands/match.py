"""`medworks match --postal-code CODE --service NAME_OR_CODE [--max-minutes M] [--limit N] [--json]`

The clinics nearest a patient for one service, by estimated (approximate) drive time. A bad
postal code, service or number prints one line on stderr and exits with status 2.

A clinic the patient cannot reach by a year-round road (a fly-in community on either side,
network/road_access.py) has `road_access` false and `drive_minutes` and `distance_km` null in
the JSON, and "no road access: travel by air" in the table.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext, pgettext

from medworks.core.errors import DomainError
from medworks.network.matching import MatchResult, match_clinics


def _positive_int(raw: str | None, *, option: str) -> int | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.isdigit() or int(text) < 1:
        raise CommandError(
            gettext("%(option)s must be a whole number, 1 or more, not %(value)s")
            % {"option": option, "value": repr(raw)},
            returncode=2,
        )
    return int(text)


def _as_json(result: MatchResult) -> str:
    items = [
        {
            "partner": m.partner,
            "location": m.location,
            "address": m.address,
            "city": m.city,
            "province": m.province,
            "postal_code": m.postal_code,
            "straight_km": m.straight_km,
            "distance_km": m.distance_km,
            "drive_minutes": m.drive_minutes,
            "drive_time_is_estimate": True,
            "road_access": m.road_access,
            "ferry": m.ferry or None,
            "within_area": m.within_area,
            "price": None if m.price is None else f"{m.price:.2f}",
            "geo_precision": m.geo_precision,
            "offering_id": m.offering_id,
            "location_id": m.location_id,
            "partner_id": m.partner_id,
        }
        for m in result.matches
    ]
    return json.dumps(items, ensure_ascii=False, indent=2)


def _as_table(result: MatchResult) -> str:
    origin = result.origin
    lines = [
        gettext(
            "%(service)s (%(code)s) near %(postal_code)s (%(place)s, %(province)s); "
            "service area %(minutes)s min."
        )
        % {
            "service": result.service.name_en,
            "code": result.service.code,
            "postal_code": origin.postal_code,
            "place": origin.place,
            "province": origin.province,
            "minutes": result.max_minutes,
        },
        gettext("Drive times and road distances are approximate (offline estimate, no traffic)."),
    ]
    if origin.note:
        lines.append(gettext("Note: %(note)s") % {"note": origin.note})
    if result.origin_community is not None:
        lines.append(
            gettext(
                "%(place)s has no year-round road to the rest of the network: clinics outside "
                "it are listed by straight-line distance, travel by air."
            )
            % {"place": result.origin_community.name}
        )
    if not result.matches:
        lines.append(
            gettext("No active clinic offers this service: escalate the case to management.")
        )
        return "\n".join(lines)
    if not result.any_within:
        lines.append(
            gettext(
                "No clinic within about %(minutes)s min: escalate the case to management "
                "(SOP case 2). The nearest ones are listed below."
            )
            % {"minutes": result.max_minutes}
        )
    header = (
        "#",
        gettext("Partner"),
        gettext("Location"),
        gettext("City"),
        pgettext("match table column, province", "Prov"),
        pgettext("match table column, postal code", "Postal"),
        gettext("Road km"),
        "~Min",
        pgettext("match table column, service area", "Area"),
        gettext("Price"),
    )
    within, outside = gettext("within"), gettext("OUTSIDE")
    rows = [header]
    for i, m in enumerate(result.matches, 1):
        rows.append(
            (
                str(i),
                m.partner[:28],
                m.location[:28],
                m.city[:18],
                m.province,
                m.postal_code,
                "-" if m.distance_km is None else f"{m.distance_km:.1f}",
                gettext("no road access: travel by air")
                if not m.road_access
                else f"~{m.drive_minutes}",
                within if m.within_area else outside,
                "-" if m.price is None else f"{m.price:.2f}",
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    right = {0, 6, 7, 9}
    for r in rows:
        cells = [
            r[c].rjust(widths[c]) if c in right else r[c].ljust(widths[c]) for c in range(len(r))
        ]
        lines.append("  ".join(cells).rstrip())
    ferries = sorted({m.ferry for m in result.matches if m.ferry})
    for ferry in ferries:
        lines.append(gettext("Some drive times include a ferry: %(ferry)s.") % {"ferry": ferry})
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Clinics nearest a patient's postal code for a service, by approximate drive time."

    def add_arguments(self, parser):
        # Validated in handle(), not by argparse, so a mistake prints one line, not a usage dump.
        parser.add_argument("--postal-code", help="the patient's postal code (or an address)")
        parser.add_argument("--service", help="a catalogue code (XRAY) or name (X-ray)")
        parser.add_argument("--max-minutes", help="service area in minutes (default: settings)")
        parser.add_argument("--limit", help="how many clinics to list (default 10)")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **options):
        if not options.get("postal_code"):
            raise CommandError(
                gettext("--postal-code is required, e.g. --postal-code 'M5V 3L9'"), returncode=2
            )
        if not options.get("service"):
            raise CommandError(gettext("--service is required, e.g. --service XRAY"), returncode=2)
        max_minutes = _positive_int(options.get("max_minutes"), option="--max-minutes")
        limit = _positive_int(options.get("limit"), option="--limit")
        try:
            result = match_clinics(
                postal_code=options["postal_code"],
                service=options["service"],
                max_minutes=max_minutes,
                limit=10 if limit is None else limit,
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        self.stdout.write(_as_json(result) if options["json"] else _as_table(result))
