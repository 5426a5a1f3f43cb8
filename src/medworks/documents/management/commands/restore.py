"""`medworks restore FILE`: an archive of `medworks backup` back into an empty database.

Every part of FILE is decrypted and checked (MEDWORKS_BACKUP_KEY, each chunk's tag, each
member's sha256) before anything is touched; then the target must be empty: a database with
no table (a fresh `createdb`, or a SQLite file not there yet) and a document store with no
file. By default the configured database and document storage; `--database-url` and
`--documents-dir` restore elsewhere instead (a restore drill beside production).

Prints what was restored, when the backup was made and the time taken. A refusal (wrong key,
a damaged or truncated FILE, a target not empty, a missing pg_restore) prints one line on
stderr and exits with status 2.
"""

from __future__ import annotations

import dj_database_url
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from medworks.documents.backup import (
    BackupError,
    backup_key_from_settings,
    created_at_display,
    restore,
)
from medworks.documents.storage import EncryptedFileSystemStorage


class Command(BaseCommand):
    # The target may not be migrated (it must be empty): no check may open it first.
    requires_system_checks: list = []

    @property
    def help(self) -> str:  # translated when shown, in the active language
        return _("Restore a backup into an empty database and document store.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help=_("the file medworks backup wrote"))
        parser.add_argument(
            "--database-url",
            help=_("restore into this database instead of the configured one (it must be empty)"),
        )
        parser.add_argument(
            "--documents-dir",
            help=_("restore the documents into this folder instead of the configured storage"),
        )
        parser.add_argument(
            "--work-dir", help=_("where to unpack the archive first (default: the temp folder)")
        )

    def handle(self, *args, **options) -> None:
        database = None
        if options.get("database_url"):
            try:
                database = dj_database_url.parse(options["database_url"])
            except ValueError as exc:
                raise CommandError(
                    _("--database-url: %(why)s") % {"why": exc}, returncode=2
                ) from None
        storage = None
        if options.get("documents_dir"):
            storage = EncryptedFileSystemStorage(location=options["documents_dir"])
        try:
            report = restore(
                options["archive"],
                key=backup_key_from_settings(),
                database=database,
                storage=storage,
                work_dir=options.get("work_dir"),
            )
        except BackupError as exc:
            raise CommandError(exc.message, returncode=2) from None
        if database is None:
            connections["default"].close()  # one opened before the restore would miss it
        self.stdout.write(
            _(
                "Restored %(tables)s tables (%(rows)s rows) and %(documents)s documents "
                "(%(document_size)s) from %(file)s (%(size)s, made %(made)s), in "
                "%(seconds).1f s."
            )
            % {
                "tables": report.tables,
                "rows": report.rows,
                "documents": report.documents,
                "document_size": filesizeformat(report.document_bytes),
                "file": report.path,
                "size": filesizeformat(report.archive_bytes),
                "made": created_at_display(report),
                "seconds": report.seconds,
            }
        )
