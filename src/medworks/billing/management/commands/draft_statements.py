"""`medworks draft-statements --month YYYY-MM`

Drafts the monthly statement of every insurer invoiced by monthly statement (finance's setting
on the insurer's page) for the cases whose appointment was that month: `invoice_draft_statement`
for each, as the system, one transaction per insurer (one refused leaves the others drafted).
Drafts only: finance checks and issues them on the invoices' pages.

One line per insurer on stdout: the statements drafted (their total) and the cases left out, or
nothing to invoice. Run again, it drafts nothing new (the cases are on the drafts already).
Bad input (no month, not YYYY-MM, a month not begun, an unknown option) prints one line on
stderr and exits with status 2; an insurer refused for another reason is a line on stderr and
status 1 once every insurer was tried.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from medworks.billing.invoices import insurers_invoiced_monthly, invoice_draft_statement
from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.core.money import format_money

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
ACTOR = Actor.system("medworks draft-statements")


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _month_option(raw: str | None) -> dt.date:
    if raw is None:
        raise _bad(_("--month is required, e.g. --month 2026-11"))
    match = _MONTH.fullmatch(str(raw).strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise _bad(
            _("--month must be a month written YYYY-MM, such as 2026-11, not %(value)s.")
            % {"value": repr(raw)}
        )
    month = dt.date(int(match[1]), int(match[2]), 1)
    if month > timezone.localdate().replace(day=1):
        raise _bad(_("%(month)s has not begun: there is nothing to invoice yet.") % {"month": raw})
    return month


def _drafted_line(name: str, result) -> str:
    count = len(result.invoices)
    total = sum((invoice.total for invoice in result.invoices), Decimal("0.00"))
    line = ngettext(
        "%(insurer)s: %(count)s statement drafted, %(total)s",
        "%(insurer)s: %(count)s statements drafted, %(total)s",
        count,
    ) % {
        "insurer": name,
        "count": count,
        "total": format_money(total, translation.get_language() or "en"),
    }
    drafts = ", ".join(_("draft %(id)s") % {"id": invoice.pk} for invoice in result.invoices)
    line += f" ({drafts})"
    if result.left_out:
        left = len(result.left_out)
        line += "; " + ngettext("%(count)s case left out", "%(count)s cases left out", left) % {
            "count": left
        }
    return line + "."


class Command(BaseCommand):
    @property
    def help(self) -> str:  # translated when shown, in the active language
        return _("Draft the month's statement of every insurer invoiced by monthly statement.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Argument mistakes (a missing value, an unknown option) print one line, status 2."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command = self

        def error(message: str):
            text = _("%(problem)s (see medworks draft-statements --help).") % {"problem": message}
            if parser.called_from_command_line:
                command.stderr.write(f"CommandError: {text}")
                raise SystemExit(2)
            raise _bad(text)

        parser.error = error
        return parser

    def add_arguments(self, parser):
        # Validated in handle(), not by argparse, so a mistake prints one line.
        parser.add_argument("--month", help=_("the month of the appointments, YYYY-MM"))

    def handle(self, *args, **options):
        month = _month_option(options.get("month"))
        refused = 0
        insurers = insurers_invoiced_monthly()
        if not insurers:
            self.stdout.write(_("No insurer is invoiced by monthly statement."))
        for insurer in insurers:
            try:
                # One transaction per insurer: the use case's own.
                result = invoice_draft_statement(insurer=insurer, month=month, actor=ACTOR)
            except DomainError as exc:
                if exc.code == "statement_nothing_to_invoice":
                    self.stdout.write(
                        _("%(insurer)s: nothing to invoice.") % {"insurer": insurer.name}
                    )
                    continue
                refused += 1
                self.stderr.write(f"{insurer.name}: {exc.message}")
                continue
            self.stdout.write(_drafted_line(insurer.name, result))
        if refused:
            raise CommandError(
                ngettext(
                    "%(count)s insurer refused: see above.",
                    "%(count)s insurers refused: see above.",
                    refused,
                )
                % {"count": refused},
                returncode=1,
            )
