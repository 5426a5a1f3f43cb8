"""`medworks retention [--dry-run]`: run the retention job now and print what it did.

With --dry-run it prints what a run would delete or anonymise, and changes nothing (nothing is
recorded either). Without it, a run is done unless the last one is under 24 hours old (the
worker runs it daily), and recorded (a RetentionRun row and an audit row). --force runs even
then (after a change of MEDWORKS_RETENTION_DAYS, say).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from medworks.privacy.retention import retention_run

# Each record type's line, in the reader's language.
LABELS = {
    "closed_case_patients": gettext_noop("Patients of closed cases anonymised"),
    "cancelled_case_patients": gettext_noop("Patients of cancelled cases anonymised"),
    "kept_open_or_recent_case": gettext_noop("Patients kept: another case still open or recent"),
    "kept_for_billing": gettext_noop("Patients kept: billing still needs a case"),
    "case_source_emails": gettext_noop("Original emails removed from cases"),
    "inbound_email_sources": gettext_noop("Mailbox messages emptied"),
    "email_outbox_bodies": gettext_noop("Sent emails emptied"),
    "webhook_deliveries": gettext_noop("Webhook deliveries deleted"),
    "card_data": gettext_noop("Cards whose secrets were destroyed"),
    "sessions": gettext_noop("Expired sessions deleted"),
}


class Command(BaseCommand):
    help = "Delete or anonymise what has passed its retention period (MEDWORKS_RETENTION_DAYS)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be done; change nothing."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even if the last run is under a day old."
        )

    def handle(self, *args, dry_run: bool = False, force: bool = False, **options) -> None:
        report = retention_run(dry_run=dry_run, force=force)
        if report.skipped:
            self.stdout.write(
                _("Nothing done: the last run was at %(when)s (runs at most once a day).")
                % {"when": timezone.localtime(report.last_run_at).strftime("%Y-%m-%d %H:%M")}
            )
            return
        self.stdout.write(
            _("Retention, dry run: what a run would do now.")
            if dry_run
            else _("Retention run %(id)s done.") % {"id": report.run_id}
        )
        for name, count in report.counts.items():
            self.stdout.write(f"  {_(LABELS[name])}: {count}")
