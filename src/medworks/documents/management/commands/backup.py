"""`medworks backup -o FILE`: the database and the document store in one encrypted archive.

Encrypted with MEDWORKS_BACKUP_KEY (documents/backup.py says how, and what the archive holds).
FILE is written beside itself under a temporary name and renamed when complete, never
overwritten. Prints the archive's size, what it holds and the time taken. A refusal (no key,
a missing pg_dump, a folder that is not there or not writable, FILE already there) prints one
line on stderr and exits with status 2, leaving no file.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from medworks.documents.backup import BackupError, backup, backup_key_from_settings


class Command(BaseCommand):
    @property
    def help(self) -> str:  # translated when shown, in the active language
        return _("Back up the database and the document store into one encrypted file.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-o", "--output", required=True, help=_("the archive to write (never overwritten)")
        )

    def handle(self, *args, **options) -> None:
        try:
            report = backup(options["output"], key=backup_key_from_settings())
        except BackupError as exc:
            raise CommandError(exc.message, returncode=2) from None
        self.stdout.write(
            _(
                "Backed up %(tables)s tables (%(rows)s rows) and %(documents)s documents "
                "(%(document_size)s) to %(file)s: %(size)s, in %(seconds).1f s."
            )
            % {
                "tables": report.tables,
                "rows": report.rows,
                "documents": report.documents,
                "document_size": filesizeformat(report.document_bytes),
                "file": report.path,
                "size": filesizeformat(report.archive_bytes),
                "seconds": report.seconds,
            }
        )
