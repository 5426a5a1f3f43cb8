"""Reading one message of the mailbox: its key, its sender and subject, whether it is a reply
to a case, whether it is malformed, and the intake's guess of the request it carries.

Nothing here writes, and nothing is trusted: the guess is bookings.intake's, the same reader
the staff intake page uses on an uploaded .eml, so a message fetched from the mailbox and the
same message uploaded by an agent are read alike. What comes out of a message never reaches a
log (services.py logs row ids only).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses

from django.conf import settings

from medworks.bookings.intake import MAX_PARSE_BYTES, IntakeGuess, guess_from_eml
from medworks.core.cards import find_card_numbers, redact

# The name the original is attached under on the case it makes.
SOURCE_FILENAME = "email.eml"
# An Order Id as the desk writes it (MW-2026-000123), in a reply's subject.
ORDER_ID = re.compile(r"\bMW-(\d{4})-(\d{6})\b", re.IGNORECASE)
# Parser defects that mean the structure itself is broken (not a stray header blemish): a
# multipart whose parts cannot be found.
_BROKEN = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.MultipartInvariantViolationDefect,
)
MAX_KEY = 255


@dataclass
class Reading:
    """What one message is. `problems` are reasons (reasons.py) that make it wait for an agent
    whatever its guess says: malformed, no sender, too large."""

    key: str
    raw_sha256: str
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    order_id: str = ""
    own: bool = False  # one of the desk's own notifications (its outbox Message-ID)
    guess: IntakeGuess | None = None
    problems: list[dict] = field(default_factory=list)

    @property
    def card_last4(self) -> list[str]:
        found = self.guess.card_numbers if self.guess else []
        return list(dict.fromkeys(match.last4 for match in found))


def message_key(message_id: str, raw: bytes) -> str:
    """The row's unique key: the Message-ID when there is a usable one, else the raw bytes'
    sha256 (the same bytes fetched twice give the same key)."""
    value = (message_id or "").strip()
    if not value or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(value) > MAX_KEY:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()
    return value


def _own_message_id(message_id: str) -> bool:
    """The desk's outbox writes <outbox-<id>@<its domain>> (notifications.services)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >").lower()
    return bool(domain) and bool(
        re.fullmatch(rf"<outbox-\d+@{re.escape(domain)}>", message_id.strip(), re.IGNORECASE)
    )


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def read_message(raw: bytes) -> Reading:
    """Read one message; never raises (a message that cannot be read is malformed)."""
    sha = hashlib.sha256(raw).hexdigest()
    reading = Reading(key="sha256:" + sha, raw_sha256=sha)
    if len(raw) > MAX_PARSE_BYTES:
        reading.problems.append({"code": "too_large"})
        return reading
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        names = message.keys()
        message_id = _header(message, "Message-ID")
        subject = _header(message, "Subject")
        senders = getaddresses([_header(message, "From")])
    except Exception:  # any failure of the parser is a malformed message
        reading.problems.append({"code": "malformed", "detail": "unreadable"})
        return reading
    reading.key = message_key(message_id, raw)
    reading.own = _own_message_id(message_id)
    reading.subject = redact(" ".join(subject.split()))[:500]
    if match := ORDER_ID.search(reading.subject):
        reading.order_id = f"MW-{match[1]}-{match[2]}"
    name, address = senders[0] if senders else ("", "")
    # A sender holding a card number is not kept (the guess says so).
    name = "" if find_card_numbers(name) else " ".join(name.split())
    address = "" if find_card_numbers(address) else address.strip()
    if "@" in address and address.rpartition("@")[2]:
        reading.from_address, reading.from_name = address.lower()[:254], name[:200]
    if not names:
        reading.problems.append({"code": "malformed", "detail": "no_headers"})
    elif any(isinstance(d, _BROKEN) for part in message.walk() for d in part.defects):
        reading.problems.append({"code": "malformed", "detail": "broken_structure"})
    if not reading.from_address:
        reading.problems.append({"code": "no_sender"})
    try:
        reading.guess = guess_from_eml(raw)
    except Exception:  # the reader failing is a malformed message, kept
        reading.problems.append({"code": "malformed", "detail": "unreadable"})
    return reading
