"""`medworks fetch-mail`: read the booking team's mailbox once (the worker does it on a
schedule, every MEDWORKS_IMAP_POLL_SECONDS).

Prints one line: how many new cases, replies filed on cases, messages waiting for an agent,
and messages already seen. Exit status 2, with one line on stderr and no traceback, when
fetching is off (MEDWORKS_IMAP_HOST empty) or the mailbox cannot be reached or refuses the
login; 1 when some message was left unread after an error (it is read again next time).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from medworks.mailbox.imap import MailboxUnavailable
from medworks.mailbox.services import mailbox_fetch


class Command(BaseCommand):
    help = "Read the booking team's mailbox once: new requests become cases, replies are filed."

    def handle(self, *args, **options) -> None:
        try:
            summary = mailbox_fetch()
        except MailboxUnavailable as exc:  # not configured, unreachable, login refused
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(summary.line())
        if summary.failed:
            raise SystemExit(1)
