"""`medworks import-partners FILE [--dry-run] [--strict] [--json] [--column FIELD=HEADER]...`.

Exit status: 0 when the import was applied (rejected rows are listed, the rest applied);
2 when nothing was applied because the file is unusable or because --strict met a rejected
row. A dry run that finds no problem exits 0.

`--column postal_code="Zip / Postal"` says which of the file's columns is a field (FIELD is the
field's name or its header in the layout: postal_code, "Postal Code"); repeatable. When a
required column is still unknown, the one line on stderr names the missing fields and the
file's headers, and nothing is imported. A bad --column is one line and status 2 too.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.network.importing import ImportReport, directory_import
from medworks.network.spreadsheet import COLUMNS, ColumnsError, field_named

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import the National Affiliate Partner Spreadsheet (XLSX or CSV) into the directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and count everything, change nothing"
        )
        parser.add_argument(
            "--strict", action="store_true", help="apply nothing if any row is rejected"
        )
        parser.add_argument(
            "--json", action="store_true", help="print the report as one JSON object"
        )
        parser.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help="the file's column HEADER is FIELD (e.g. postal_code='Zip / Postal'); repeatable",
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        as_json = options["json"]
        columns = _parse_columns(options["column"])
        # A bar only for a person watching a terminal; logs and pipes stay clean.
        show_bar = not as_json and _is_tty(self.stderr)
        try:
            report = directory_import(
                file=path,
                filename=path.name,
                strict=options["strict"],
                dry_run=options["dry_run"],
                progress=self._draw_bar if show_bar else None,
                actor=Actor.system("medworks import-partners"),
                columns=columns,
            )
        except ColumnsError as exc:
            message = exc.message
            if exc.missing:
                message += " " + _(
                    "Say which column is which with --column FIELD=HEADER (missing: %(fields)s)."
                ) % {"fields": ", ".join(exc.missing)}
            raise CommandError(message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        finally:
            if show_bar:
                self._raw_stderr().write("\n")  # end the bar's line

        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(_summary(report, filename=path.name))
        if report.strict and report.rejected:
            count = len(report.rejected)
            raise CommandError(
                ngettext(
                    "%(count)s row(s) rejected with --strict: nothing was applied.",
                    "%(count)s row(s) rejected with --strict: nothing was applied.",
                    count,
                )
                % {"count": count},
                returncode=2,
            )

    def _draw_bar(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        stream = self._raw_stderr()  # not self.stderr: Django would paint the bar as an error
        rows = _("%(done)s/%(total)s rows") % {"done": done, "total": total}
        stream.write(f"\r[{bar}] {rows}")
        stream.flush()

    def _raw_stderr(self):
        return getattr(self.stderr, "_out", self.stderr)


def _parse_columns(values: list[str]) -> dict[str, str]:
    """['postal_code=Zip / Postal'] -> {'postal_code': 'Zip / Postal'}; CommandError (2) if bad."""
    columns: dict[str, str] = {}
    for value in values:
        name, sep, header = value.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise CommandError(
                _("--column %(value)s: write FIELD=HEADER, e.g. --column postal_code=Zip")
                % {"value": repr(value)},
                returncode=2,
            )
        field = field_named(name)
        if field is None:
            raise CommandError(
                _("--column %(value)s: %(field)s is not a field; the fields are: %(fields)s.")
                % {
                    "value": repr(value),
                    "field": repr(name.strip()),
                    "fields": ", ".join(f for f, _header in COLUMNS),
                },
                returncode=2,
            )
        if field in columns:
            raise CommandError(
                _("--column %(value)s: %(field)s is given twice.")
                % {"value": repr(value), "field": field},
                returncode=2,
            )
        columns[field] = header.strip()
    return columns


def _is_tty(stream) -> bool:
    raw = getattr(stream, "_out", stream)  # Django's OutputWrapper keeps the real stream here
    try:
        return raw.isatty()
    except (AttributeError, ValueError):
        return False


def _summary(report: ImportReport, *, filename: str) -> str:
    given = {"file": filename}
    if report.applied:
        head = _("Imported %(file)s.") % given
    elif report.dry_run:
        head = _("Dry run of %(file)s: nothing was changed.") % given
    else:
        head = _("%(file)s: nothing was applied (--strict and some rows were rejected).") % given
    lines = [
        head,
        "  " + _("rows read:  %(count)s") % {"count": report.rows_read},
        "  "
        + _("partners:   %(new)s new, %(changed)s changed")
        % {"new": report.partners_created, "changed": report.partners_updated},
        "  "
        + _("locations:  %(new)s new, %(changed)s changed")
        % {"new": report.locations_created, "changed": report.locations_updated},
        "  "
        + _("offerings:  %(new)s new, %(changed)s changed")
        % {"new": report.offerings_created, "changed": report.offerings_updated},
    ]
    lines += ["  " + read.describe() for read in report.columns_read]
    if report.new_services:
        lines.append(
            "  "
            + _("new services in the catalogue: %(services)s")
            % {"services": ", ".join(report.new_services)}
        )
    if report.duplicates:
        rows = ", ".join(str(n) for n in report.duplicates)
        lines.append("  " + _("duplicate rows skipped: %(rows)s") % {"rows": rows})
    if report.rejected:
        lines.append(
            "  "
            + _("rejected rows (%(count)s), fix and import again:")
            % {"count": len(report.rejected)}
        )
        for rejected in report.rejected:
            lines.append(
                "    "
                + _("row %(row)s: %(errors)s")
                % {"row": rejected.row, "errors": "; ".join(rejected.errors)}
            )
    return "\n".join(lines)
