"""The booking team's mailbox over IMAP (Python's imaplib), with TLS.

Three calls are all the fetch needs: the UIDs of the unread messages (UID SEARCH UNSEEN), one
message's bytes without marking it read (UID FETCH BODY.PEEK[]), and marking it read once what
it became is committed (UID STORE +FLAGS.SILENT (\\Seen)). UIDs, not sequence numbers: they do
not shift when someone deletes a message between two calls.

TLS: "ssl" (implicit TLS, port 993) or "starttls" (port 143, upgraded before the login) verify
the server's certificate and name with the system's trust store (a private CA: point
SSL_CERT_FILE at it). "none" sends the password in clear: refused in production except to a
server on this machine, for tests and a local relay.

Every failure of the server or the network is a MailboxUnavailable whose message is one line
for a person (host, port, what failed), never the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 30
TLS_MODES = ("ssl", "starttls", "none")


class MailboxUnavailable(Exception):
    """The mailbox cannot be reached, refused the login, or failed mid-way."""


class MailboxNotConfigured(MailboxUnavailable):
    """MEDWORKS_IMAP_HOST is empty: fetching is off."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    tls: str = "ssl"

    def __repr__(self) -> str:  # never the password
        return f"ImapSettings({self.user}@{self.host}:{self.port}/{self.mailbox}, {self.tls})"


def imap_settings() -> ImapSettings:
    """The mailbox from settings (read at each fetch, so tests can change them)."""
    host = getattr(settings, "MEDWORKS_IMAP_HOST", "")
    if not host:
        raise MailboxNotConfigured(_("Fetching mail is off: MEDWORKS_IMAP_HOST is not set."))
    return ImapSettings(
        host=host,
        port=settings.MEDWORKS_IMAP_PORT,
        user=settings.MEDWORKS_IMAP_USER,
        password=settings.MEDWORKS_IMAP_PASSWORD,
        mailbox=settings.MEDWORKS_IMAP_MAILBOX,
        tls=settings.MEDWORKS_IMAP_TLS,
    )


def _quoted(name: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends arguments as they are)."""
    if re.fullmatch(r"[A-Za-z0-9_.\-/]+", name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _why(exc: BaseException) -> str:
    """A short reason, without the server's whole answer."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (text or type(exc).__name__)[:200]


class ImapMailbox:
    """One session with the mailbox: `with ImapMailbox(config) as box: ...`."""

    def __init__(self, config: ImapSettings) -> None:
        self.config = config
        self._conn: imaplib.IMAP4 | None = None

    def __enter__(self) -> ImapMailbox:
        self._conn = self._connect()
        return self

    def __exit__(self, *exc_info) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):  # leaving anyway
                conn.logout()

    def _where(self) -> dict[str, object]:
        return {"host": self.config.host, "port": self.config.port}

    def _connect(self) -> imaplib.IMAP4:
        config = self.config
        context = ssl.create_default_context()
        try:
            if config.tls == "ssl":
                conn = imaplib.IMAP4_SSL(
                    config.host, config.port, ssl_context=context, timeout=TIMEOUT_SECONDS
                )
            else:
                conn = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_SECONDS)
                if config.tls == "starttls":
                    conn.starttls(ssl_context=context)
        except (OSError, imaplib.IMAP4.error) as exc:  # timeouts are OSErrors
            raise MailboxUnavailable(
                _("Cannot reach the mailbox at %(host)s:%(port)s (%(reason)s).")
                % {**self._where(), "reason": _why(exc)}
            ) from None
        try:
            conn.login(config.user, config.password)
        except imaplib.IMAP4.error:
            self._drop(conn)
            raise MailboxUnavailable(
                _(
                    "The mailbox at %(host)s:%(port)s refused the login of %(user)s: check "
                    "MEDWORKS_IMAP_USER and MEDWORKS_IMAP_PASSWORD."
                )
                % {**self._where(), "user": config.user}
            ) from None
        except OSError as exc:
            raise MailboxUnavailable(
                _("Cannot reach the mailbox at %(host)s:%(port)s (%(reason)s).")
                % {**self._where(), "reason": _why(exc)}
            ) from None
        try:
            status, _data = conn.select(_quoted(config.mailbox))
        except (OSError, imaplib.IMAP4.error):
            status = "NO"
        if status != "OK":
            self._drop(conn)
            raise MailboxUnavailable(
                _("The mailbox at %(host)s:%(port)s has no folder %(folder)s.")
                % {**self._where(), "folder": config.mailbox}
            )
        return conn

    @staticmethod
    def _drop(conn: imaplib.IMAP4) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            conn.logout()

    def _call(self, *args) -> list:
        if self._conn is None:
            raise RuntimeError("use ImapMailbox as a context manager")
        try:
            status, data = self._conn.uid(*args)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxUnavailable(
                _("The mailbox at %(host)s:%(port)s failed while reading (%(reason)s).")
                % {**self._where(), "reason": _why(exc)}
            ) from None
        if status != "OK":
            raise MailboxUnavailable(
                _("The mailbox at %(host)s:%(port)s failed while reading (%(reason)s).")
                % {**self._where(), "reason": f"{args[0]} {status}"}
            )
        return data

    def unseen_uids(self) -> list[str]:
        """The UIDs of the messages not yet marked read, oldest first."""
        data = self._call("SEARCH", None, "UNSEEN")
        found = (data[0] or b"").split() if data else []
        return sorted((uid.decode("ascii") for uid in found), key=int)

    def fetch(self, uid: str) -> bytes | None:
        """One message's bytes, leaving it unread; None when it was deleted meanwhile."""
        for item in self._call("FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0]:
                return bytes(item[1])
        return None

    def mark_seen(self, uid: str) -> None:
        self._call("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
