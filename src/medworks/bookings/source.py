"""The original message a request came in (BookingRequest.source_content), as it may be kept.

A case keeps the email it came from, for the record. Now and then an insurer puts a card number
in it; a stored card number must be unreadable (RULES.md, cards), so the message is kept with
every card number's digits masked but the last four, never whole, and its case says so (the
staff timeline's "source_card_masked", naming the last four digits only).

How a card number is found depends on how the message carries it:

- an email (.eml, or any message that parses as one with headers): every header, and every
  text part decoded (base64, quoted-printable, any charset), HTML read as its text too; a part
  holding a card number is written back masked (as UTF-8), the rest left as it was;
- whatever remains, and a file that is not an email (pasted text, Outlook's .msg): the bytes
  themselves, as 8-bit text, UTF-8 and UTF-16, masked in place (a binary file keeps its size).

When a rewritten email would still show a card number (a part that cannot be rewritten), the
message is kept as its text alone: its main headers and body, masked. Attachments that are
not text (a PDF, an image) cannot be read here and are kept as they came.
"""

from __future__ import annotations

import logging
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.utils.translation import gettext, ngettext

from medworks.core.cards import CardMatch, find_card_numbers, redact, redact_bytes, redact_in_place

from .intake import MAX_PARSE_BYTES, html_to_text, message_body_text

logger = logging.getLogger(__name__)

# The headers a message kept as text alone still shows.
_KEPT_HEADERS = ("From", "Reply-To", "To", "Cc", "Date", "Subject", "Message-ID")


def _looks_like_email(raw: bytes, filename: str) -> bool:
    if filename.lower().endswith(".eml"):
        return True
    head = raw[:2048].lstrip().lower()
    return head.startswith((b"from:", b"received:", b"return-path:", b"message-id:", b"mime-"))


def _mask_headers(part: EmailMessage, found: list[CardMatch]) -> bool:
    changed = False
    for name in dict.fromkeys(key for key, _value in part.items()):
        values = [str(value) for value in part.get_all(name, [])]
        matches = [m for value in values for m in find_card_numbers(value)]
        if not matches:
            continue
        found += matches
        del part[name]
        for value in values:
            part[name] = " ".join(redact(value).split())  # one line: a header
        changed = True
    return changed


def _mask_text_part(part: EmailMessage, found: list[CardMatch]) -> bool:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, KeyError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if not isinstance(content, str):
        return False
    subtype = part.get_content_subtype()
    masked, matches = redact_in_place(content)
    if subtype == "html":
        # Digits split by tags ("<b>4111</b> <b>1111</b> ...") are a card number once read.
        shown = html_to_text(masked)
        if more := find_card_numbers(shown):
            masked, subtype, matches = redact(shown), "plain", matches + more
    if not matches:
        return False
    found += matches
    disposition = part.get("Content-Disposition")
    part.clear_content()
    part.set_content(masked, subtype=subtype, charset="utf-8")
    if disposition is not None:
        part["Content-Disposition"] = str(disposition)
    return True


def _still_shows_card(raw: bytes) -> bool:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    texts = [str(value) for part in message.walk() for _key, value in part.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                content = part.get_content()
            except (LookupError, UnicodeError, ValueError, KeyError):
                continue
            texts += [content, html_to_text(content)] if isinstance(content, str) else []
    return any(find_card_numbers(text) for text in texts)


def _as_text_alone(raw: bytes, found: list[CardMatch]) -> bytes:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    headers = [(name, str(value)) for name in _KEPT_HEADERS for value in message.get_all(name, [])]
    body = message_body_text(message)
    found += [
        m for text in (body, *(value for _n, value in headers)) for m in find_card_numbers(text)
    ]
    lines = [f"{name}: {' '.join(redact(value).split())}" for name, value in headers]
    return ("\n".join(lines) + "\n\n" + redact(body)).encode("utf-8", errors="replace")


def _mask_email(raw: bytes, found: list[CardMatch]) -> bytes:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    changed = False
    for part in message.walk():
        changed |= _mask_headers(part, found)
        if part.get_content_maintype() == "text" and not part.is_multipart():
            changed |= _mask_text_part(part, found)
    if not changed:
        return raw
    rewritten = message.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    rewritten, matches = redact_bytes(rewritten)
    found += matches
    return _as_text_alone(rewritten, found) if _still_shows_card(rewritten) else rewritten


def source_masked(raw: bytes, *, filename: str = "") -> tuple[bytes, list[CardMatch]]:
    """The message as it may be kept, and the card numbers masked in it (last four digits)."""
    raw = bytes(raw or b"")
    found: list[CardMatch] = []
    if raw and _looks_like_email(raw, filename) and len(raw) <= MAX_PARSE_BYTES:
        try:
            raw = _mask_email(raw, found)
        except Exception:  # the email package cannot rewrite it: kept as its text, if need be
            try:
                if _still_shows_card(raw):
                    raw = _as_text_alone(raw, found)
            except Exception as exc:  # nor read it: what the bytes show is masked below
                # The error's class only: the message's contents stay out of logs.
                logger.warning("an original message could not be read (%s)", type(exc).__name__)
    raw, matches = redact_bytes(raw)
    return raw, found + matches


def card_endings(matches: list[CardMatch]) -> list[str]:
    """The last four digits of each card number found, each once, in order."""
    return list(dict.fromkeys(match.last4 for match in matches))


def source_card_flag(*, case, actor, matches: list[CardMatch]) -> None:
    """Say on the case's staff timeline that its original message held card numbers, now
    masked (the last four digits only), so the agent asks the insurer to use the card page."""
    from .models import BookingEvent

    endings = card_endings(matches)
    BookingEvent.objects.record(
        request=case,
        actor=actor,
        kind="source_card_masked",
        note=ngettext(
            "The original message held a card number (ending %(last4)s): it is kept with "
            "the number masked. Ask the insurer to give card details only on the secure "
            "card page.",
            "The original message held card numbers (ending %(last4)s): it is kept with "
            "the numbers masked. Ask the insurer to give card details only on the secure "
            "card page.",
            len(endings),
        )
        # Joined by a word: "1111, 0004, 5678, 9012" would itself read as a card number.
        % {"last4": gettext(" and ").join(endings)},
        payload={"card_endings": endings},
    )
