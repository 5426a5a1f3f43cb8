"""`medworks export-reconciliation --from DATE --to DATE [--insurer NAME] [--status S]
--format csv|xlsx -o FILE [--as USERNAME]`

Writes the SOP's reconciliation table (case 4 step 6) for the orders dated from `--from` to
`--to` (order dates, both included), the same columns, order and figures as the staff page,
through `reconciliation.exports` (constant memory at any size). The file is written beside
`-o` under a temporary name and renamed once complete: a failed run leaves no half file. It is
readable by its owner only: it names patients.

The export is recorded in the access log (RULES.md) as the system, or as `--as USERNAME`, a
user who may read the table (RECONCILIATION_VIEW). On a terminal a progress line is drawn on
stderr; stdout gets one line at the end: "Wrote N rows to FILE".

Bad input (a missing or malformed date, --from after --to, an unknown insurer, status or
format, a folder that does not exist or cannot be written, an unknown option, a --as user who
may not read the table) prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medworks.accounts.models import User
from medworks.accounts.permissions import Capability, user_can
from medworks.billing.selectors import insurer_by_name
from medworks.core.actor import Actor
from medworks.core.errors import NotFound
from medworks.reconciliation.exports import export_csv, export_xlsx
from medworks.reconciliation.models import ReconciliationStatus
from medworks.reconciliation.selectors import TableFilter

SYSTEM = Actor.system("export-reconciliation")
FORMATS = ("csv", "xlsx")


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _date_option(name: str, raw: str | None) -> dt.date:
    if raw is None or not str(raw).strip():
        raise _bad(_("%(option)s is required, e.g. %(option)s 2026-11-01") % {"option": name})
    try:
        return dt.date.fromisoformat(str(raw).strip())
    except ValueError:
        raise _bad(
            _("%(option)s must be a date written YYYY-MM-DD, such as 2026-11-01, not %(value)s.")
            % {"option": name, "value": repr(raw)}
        ) from None


def _is_tty(stream) -> bool:
    raw = getattr(stream, "_out", stream)  # Django's OutputWrapper keeps the real stream here
    try:
        return raw.isatty()
    except (AttributeError, ValueError):
        return False


class Command(BaseCommand):
    @property
    def help(self) -> str:  # translated when shown, in the active language
        return _("Export the reconciliation table (SOP case 4) to a CSV or XLSX file.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Argument mistakes (a missing value, an unknown option) print one line, status 2."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command = self

        def error(message: str):
            text = _("%(problem)s (see medworks export-reconciliation --help).") % {
                "problem": message
            }
            if parser.called_from_command_line:
                command.stderr.write(f"CommandError: {text}")
                raise SystemExit(2)
            raise _bad(text)

        parser.error = error
        return parser

    def add_arguments(self, parser):
        # Validated in handle(), not by argparse, so a mistake prints one line.
        parser.add_argument("--from", dest="date_from", help=_("the first order date, YYYY-MM-DD"))
        parser.add_argument("--to", dest="date_to", help=_("the last order date, YYYY-MM-DD"))
        parser.add_argument("--insurer", help=_("only this insurance partner's orders (its name)"))
        parser.add_argument(
            "--status", help=_("only orders in this state: open, discrepancy or reconciled")
        )
        parser.add_argument("--format", dest="fmt", help=_("csv or xlsx"))
        parser.add_argument("-o", "--output", dest="output", help=_("the file to write"))
        parser.add_argument(
            "--as",
            dest="as_user",
            help=_("the user recorded in the access log (default: the system)"),
        )

    def handle(self, *args, **options):
        where = self._filter(options)
        fmt = (options.get("fmt") or "").strip().lower()
        if fmt not in FORMATS:
            raise _bad(
                _("--format must be csv or xlsx, not %(value)s.") % {"value": repr(options["fmt"])}
                if options.get("fmt")
                else _("--format is required: csv or xlsx.")
            )
        out = self._output(options.get("output"))
        actor = self._actor(options.get("as_user"))
        # Written beside the target then renamed: a failed export never leaves half a file.
        try:
            fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        except OSError as exc:
            raise _bad(
                _("%(folder)s: cannot write there (%(reason)s).")
                % {"folder": out.parent, "reason": exc.strerror or exc}
            ) from None
        progress = self._progress if _is_tty(self.stderr) else None
        try:
            if fmt == "csv":
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                    rows = export_csv(where, fh, actor=actor, progress=progress)
            else:
                with os.fdopen(fd, "wb") as fh:
                    rows = export_xlsx(where, fh, actor=actor, progress=progress)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            if progress is not None:
                self.stderr.write("")  # end the progress line
        self.stdout.write(
            ngettext("Wrote %(count)s row to %(file)s", "Wrote %(count)s rows to %(file)s", rows)
            % {"count": rows, "file": out}
        )

    def _filter(self, options) -> TableFilter:
        date_from = _date_option("--from", options.get("date_from"))
        date_to = _date_option("--to", options.get("date_to"))
        if date_from > date_to:
            raise _bad(
                _("--from %(start)s is after --to %(end)s.")
                % {"start": date_from.isoformat(), "end": date_to.isoformat()}
            )
        insurer_id = None
        if options.get("insurer") is not None:
            try:
                insurer_id = insurer_by_name(options["insurer"]).pk
            except NotFound as exc:
                raise _bad(exc.message) from None
        status = (options.get("status") or "").strip().lower()
        if options.get("status") is not None and status not in ReconciliationStatus.values:
            raise _bad(
                _("--status must be one of %(choices)s, not %(value)s.")
                % {
                    "choices": ", ".join(ReconciliationStatus.values),
                    "value": repr(options["status"]),
                }
            )
        return TableFilter(
            insurer_id=insurer_id, date_from=date_from, date_to=date_to, status=status
        )

    def _output(self, raw: str | None) -> Path:
        if not raw or not str(raw).strip():
            raise _bad(_("-o FILE is required: the file to write."))
        out = Path(raw)
        if out.is_dir():
            raise _bad(_("%(file)s is a folder: name the file to write.") % {"file": out})
        if not out.parent.is_dir():
            raise _bad(_("%(folder)s: no such folder") % {"folder": out.parent})
        return out

    def _actor(self, username: str | None) -> Actor:
        if username is None:
            return SYSTEM
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise _bad(_("No active user is called %(name)s.") % {"name": repr(username)})
        if not user_can(user, Capability.RECONCILIATION_VIEW):
            raise _bad(_("%(name)s may not read the reconciliation table.") % {"name": username})
        return Actor.for_user(user)

    def _progress(self, done: int, total: int) -> None:
        share = f" ({done * 100 // total}%)" if total else ""
        self.stderr.write(
            "\r"
            + _("Exporting: %(done)s of %(total)s rows") % {"done": done, "total": total}
            + share,
            ending="",
        )
        self.stderr.flush()
