"""`medworks export-partners OUT.xlsx`: the directory in the import spreadsheet's layout."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from medworks.network.exporting import directory_export_xlsx


class Command(BaseCommand):
    help = "Export the partner directory to an .xlsx file that import-partners reads back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="the .xlsx file to write")

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        if out.suffix.lower() != ".xlsx":
            raise CommandError(
                _("%(file)s: the export is an .xlsx workbook; name it *.xlsx") % {"file": out},
                returncode=2,
            )
        if not out.parent.is_dir():
            raise CommandError(
                _("%(folder)s: no such folder") % {"folder": out.parent}, returncode=2
            )
        # Written beside the target then renamed: a failed export never leaves half a file.
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".xlsx.part")
        try:
            with os.fdopen(fd, "wb") as fh:
                directory_export_xlsx(out=fh)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.stdout.write(_("Exported the directory to %(file)s.") % {"file": out})
