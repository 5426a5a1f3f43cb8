"""`medworks quote --clinic-cost 200.00 --province ON [--date YYYY-MM-DD] [--markup 50]
[--insurer NAME [--service CODE]] [--json]`

The figures of a quote: clinic cost, MedWorks fee, subtotal, the tax lines and the total, as a
table for people or JSON (every amount a decimal string) for scripts. The tax point is
`--date` (default: today, said in the output). With `--insurer` the insurer's pricing settings
apply (and with `--service`, its markup or fixed price for that service); `--markup` replaces
the markup for this quote. Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.billing.pricing import (
    QuoteFigures,
    insurer_quote,
    quote_as_dict,
    quote_compute,
    rate_text,
)
from medworks.billing.selectors import insurer_by_name, province_code, service_by_code
from medworks.core.errors import DomainError

# Plain decimal notation only: no exponent (1e3), no sign, no thousands separator.
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _bad(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _decimal_option(raw: str, *, option: str, example: str) -> Decimal:
    text = str(raw).strip()
    values = {"option": option, "value": repr(raw), "example": example}
    if text.startswith("-") and _NUMBER.fullmatch(text[1:]):
        raise _bad(_("%(option)s cannot be negative (%(value)s).") % values)
    if not _NUMBER.fullmatch(text):
        raise _bad(
            _("%(option)s must be a plain decimal number such as %(example)s, not %(value)s.")
            % values
        )
    if len(text.partition(".")[2]) > 2:
        raise _bad(_("%(option)s has at most two decimals, not %(value)s.") % values)
    return Decimal(text)


def _date_option(raw: str | None) -> dt.date:
    if raw is None:
        return timezone.localdate()
    text = str(raw).strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _bad(
            _("--date must be a real date written YYYY-MM-DD, such as 2025-04-01, not %(value)s.")
            % {"value": repr(raw)}
        ) from None


def _as_table(figures: QuoteFigures, *, date_given: bool) -> str:
    if date_given:
        heading = _("Quote, sales tax of %(province)s on %(date)s; amounts in CAD.")
    else:
        heading = _(
            "Quote, sales tax of %(province)s on %(date)s (today: give --date for another tax "
            "point); amounts in CAD."
        )
    rows = [
        (_("Clinic cost"), figures.clinic_cost),
        (_("MedWorks fee"), figures.medworks_fee),
        (_("Subtotal (clinic + MedWorks)"), figures.subtotal),
        *(
            (
                _("%(name)s %(percent)s%%") % {"name": t.name, "percent": rate_text(t.rate)},
                t.amount,
            )
            for t in figures.taxes
        ),
        (_("Total"), figures.total),
    ]
    if not figures.taxes:
        rows.insert(-1, (_("Sales tax"), Decimal("0.00")))
    label_width = max(len(label) for label, _amount in rows)
    amount_width = max(len(f"{amount:.2f}") for _label, amount in rows)
    lines = [
        heading % {"province": figures.province, "date": figures.tax_point.isoformat()},
        *(f"  {label.ljust(label_width)}  {amount:>{amount_width}.2f}" for label, amount in rows),
        _("Rule: %(rule)s") % {"rule": figures.rule},
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    # A calculation that reads a few rows: the project-wide checks (URLs, templates) are not
    # needed, and a problem elsewhere must not stop a quote.
    requires_system_checks = []

    @property
    def help(self) -> str:  # translated when shown, in the active language
        return _("The figures of a quote: clinic cost, MedWorks fee, sales tax and total.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        """Argument mistakes (a missing value, an unknown option) print one line, status 2."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command = self

        def error(message: str):
            text = _("%(problem)s (see medworks quote --help).") % {"problem": message}
            if parser.called_from_command_line:
                command.stderr.write(f"CommandError: {text}")
                raise SystemExit(2)
            raise _bad(text)

        parser.error = error
        return parser

    def add_arguments(self, parser):
        # Validated in handle(), not by argparse, so a mistake prints one line, not a usage dump.
        parser.add_argument("--clinic-cost", help=_("what the clinic charges, e.g. 200.00"))
        parser.add_argument("--province", help=_("where the service is performed, e.g. ON"))
        parser.add_argument("--date", help=_("the tax point, YYYY-MM-DD (default: today)"))
        parser.add_argument(
            "--markup", help=_("MedWorks' markup, a percentage of the clinic cost (default 50)")
        )
        parser.add_argument("--insurer", help=_("apply this insurance partner's settings"))
        parser.add_argument(
            "--service", help=_("a catalogue code, for the insurer's per-service price")
        )
        parser.add_argument("--json", action="store_true", help=_("print JSON, not a table"))

    def handle(self, *args, **options):
        if options.get("clinic_cost") is None:
            raise _bad(_("--clinic-cost is required, e.g. --clinic-cost 200.00"))
        if options.get("province") is None:
            raise _bad(_("--province is required, e.g. --province ON"))
        clinic_cost = _decimal_option(
            options["clinic_cost"], option="--clinic-cost", example="200.00"
        )
        markup = None
        if options.get("markup") is not None:
            markup = _decimal_option(options["markup"], option="--markup", example="50")
        tax_point = _date_option(options.get("date"))
        if options.get("service") is not None and options.get("insurer") is None:
            raise _bad(_("--service applies an insurer's price: give --insurer too."))
        try:
            province = province_code(options["province"])
            if options.get("insurer") is not None:
                insurer = insurer_by_name(options["insurer"])
                service = None
                if options.get("service") is not None:
                    service = service_by_code(options["service"])
                figures = insurer_quote(
                    insurer=insurer,
                    clinic_cost=clinic_cost,
                    province=province,
                    tax_point=tax_point,
                    service=service,
                    markup_percent=markup,
                )
            else:
                extra = {} if markup is None else {"markup_percent": markup}
                figures = quote_compute(
                    clinic_cost=clinic_cost, province=province, tax_point=tax_point, **extra
                )
        except DomainError as exc:
            raise _bad(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(quote_as_dict(figures), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(_as_table(figures, date_given=options.get("date") is not None))
