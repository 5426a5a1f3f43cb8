"""Queue an email, deliver it, retry it: the outbox contract (see README.md in this folder).

`email_queue` renders a template in the recipient's language (one template per email, its text
through Django's translation catalogue, as the pages are) and writes an outbox row inside
the caller's transaction; once that transaction commits, a task is enqueued to deliver it. The
row, not the task, is the truth: `outbox_message_deliver` claims it with a conditional UPDATE
(so two tasks for one row send it once), and `outbox_sweep` re-enqueues whatever is due, so a
lost task never loses a message.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import string
from collections.abc import Callable, Iterable, Sequence
from email.utils import parseaddr
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medworks.core.cards import contains_card_number
from medworks.core.errors import DomainError

from .models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# A claim lasts this long: a row still 'sending' after it belonged to a worker that died
# mid-send and may be claimed again. Longer than EMAIL_TIMEOUT, so a slow send keeps its claim.
CLAIM_LEASE = dt.timedelta(minutes=5)
# Backoff between attempts: 1, 2, 4, 8 ... minutes, never more than this.
RETRY_CAP = dt.timedelta(hours=1)
# The sweep leaves a just-due message this long to its own task before enqueueing another.
SWEEP_GRACE = dt.timedelta(minutes=1)
SWEEP_BATCH = 500

# --- Attachments kept elsewhere ---------------------------------------------------------------

# An attachment is [filename, mimetype, content]. The content is the text itself (a calendar
# file), or a reference {"source": name, "ref": id} to bytes a higher app keeps (a PDF stored
# once, encrypted, with the case's documents), read at send time by the reader that app
# registered under `name` from its AppConfig.ready(): notifications imports no domain app.
ATTACHMENT_SOURCES: dict[str, Callable[[str], bytes]] = {}


def attachment_source_register(name: str, reader: Callable[[str], bytes]) -> None:
    """Register `reader(ref) -> bytes` for attachments {"source": name, "ref": ...}."""
    ATTACHMENT_SOURCES[name] = reader


def attachment_ref(*, source: str, ref: str) -> dict:
    """The content of an attachment read from `source` at send time (see ATTACHMENT_SOURCES)."""
    if source not in ATTACHMENT_SOURCES:
        raise ValueError(f"no attachment source {source!r} is registered")
    return {"source": source, "ref": str(ref)}


def _attachment_content(content: str | dict) -> str | bytes:
    if isinstance(content, dict):
        return ATTACHMENT_SOURCES[content["source"]](content["ref"])
    return content


# --- Queueing ------------------------------------------------------------------------------


def email_queue(
    *,
    to: Sequence[str],
    template: str,
    language: str = "en",
    context: dict | None = None,
    related: object | None = None,
    attachments: Iterable[tuple[str, str, str | dict]] = (),
) -> OutboxMessage:
    """Render notifications/email/<template>.txt in `language` and queue it.

    The template's first line is `Subject: ...`; its text is marked for translation and
    rendered under translation.override(language), so French comes from the catalogue like
    every page's. A language other than en or fr falls back to English.

    Call inside the use case's transaction: the row commits with the change that caused it,
    and delivery is enqueued only after that commit. Refuses (DomainError
    "email_contains_card_number") a message that would carry a card number: its subject, body
    and text attachments are scanned here; an attachment kept elsewhere (`attachment_ref`, a
    PDF) is not readable text, so whoever made it scans the text put into it before rendering
    it (billing.order_pdf does).
    """
    language = (language or "en")[:2].lower()
    language = language if language in {"en", "fr"} else "en"
    recipients = [address for address in to if address]
    with translation.override(language):
        text = render_to_string(f"notifications/email/{template}.txt", context or {}).strip()
    subject, _newline, body = text.partition("\n")
    # One line whatever the data put in it: a CR or LF in a header makes the message unsendable.
    subject = " ".join(subject.removeprefix("Subject:").split())[:255]
    attachments = [list(a) for a in attachments]
    texts = (a[2] for a in attachments if isinstance(a[2], str))
    if any(contains_card_number(part) for part in (subject, body, *texts)):
        raise DomainError(
            "email_contains_card_number",
            _(
                "This email would carry a card number, and card numbers are never sent by "
                "email. Remove the number from the notes or fields it came from."
            ),
        )
    message = OutboxMessage.objects.create(
        to=recipients,
        subject=subject,
        body=body.strip() + "\n",
        language=language,
        template=template,
        attachments=attachments,
        related_type=related._meta.label_lower if related is not None else "",
        related_id=str(related.pk) if related is not None else "",
    )
    # robust: a failed enqueue (database hiccup) must not turn a committed change into an
    # error page; the sweep enqueues the row later.
    transaction.on_commit(partial(outbox_message_enqueue, message_id=message.pk), robust=True)
    return message


def outbox_message_enqueue(*, message_id: int, run_after: dt.datetime | None = None) -> None:
    """Ask the task backend to deliver one message (now, or not before run_after)."""
    from .tasks import deliver_outbox_message

    task = (
        deliver_outbox_message.using(run_after=run_after) if run_after else deliver_outbox_message
    )
    task.enqueue(message_id)


# --- Delivery ------------------------------------------------------------------------------


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4, 8 ... minutes, capped."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), RETRY_CAP)


def _message_id_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "medworks.invalid"


class NoRecipientError(ValueError):
    """Every address was blank when queued (e.g. an unset team inbox): nothing to retry."""


def _boundary() -> str:
    """A MIME boundary of letters only. Python's own is "===" and a random number of up to 19
    digits, which passes the Luhn check one time in ten: a card number to any filter that
    blocks outgoing mail holding one (RULES.md, cards), and to our own search of sent mail."""
    return "=_medworks_" + "".join(secrets.choice(string.ascii_letters) for _ in range(32))


class _OutboxEmail(EmailMessage):
    def message(self, *args, **kwargs):
        mime = super().message(*args, **kwargs)
        for part in mime.walk():
            if part.is_multipart():
                part.set_boundary(_boundary())
        return mime


def _send(message: OutboxMessage) -> None:
    if not message.to:
        raise NoRecipientError("the message has no recipient")
    email = _OutboxEmail(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        headers={
            # Stable per row: in the rare double send (a worker dying between the SMTP
            # server's OK and marking the row sent) mail clients see one message twice.
            "Message-ID": f"<outbox-{message.pk}@{_message_id_domain()}>",
            # RFC 3834: no out-of-office replies to the booking desk's robot.
            "Auto-Submitted": "auto-generated",
            "Content-Language": message.language,
        },
    )
    for filename, mimetype, content in message.attachments:
        email.attach(filename, _attachment_content(content), mimetype)
    email.send(fail_silently=False)


def _permanent(exc: Exception) -> bool:
    """No recipient, or every one refused with a 5xx code: retrying will not change that."""
    if isinstance(exc, NoRecipientError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return all(code >= 500 for code, _message in exc.recipients.values())
    return False


def outbox_message_deliver(*, message_id: int, now: dt.datetime | None = None) -> str:
    """Send one outbox message if it is due. Returns sent, retry, failed or skipped.

    Safe to call any number of times for one message: only the call whose conditional UPDATE
    claims the row sends it; the others find it sent, claimed or not yet due, and skip.
    """
    clock = (lambda: now) if now is not None else timezone.now
    claimed_at = clock()
    claimed = OutboxMessage.objects.filter(
        pk=message_id,
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
        next_attempt_at__lte=claimed_at,
    ).update(
        status=OutboxStatus.SENDING,
        attempts=F("attempts") + 1,
        # While sending, next_attempt_at is when the claim lapses (see CLAIM_LEASE).
        next_attempt_at=claimed_at + CLAIM_LEASE,
    )
    if not claimed:
        return "skipped"
    message = OutboxMessage.objects.get(pk=message_id)
    # Writes below only land if this claim still holds (no one reclaimed a lapsed lease).
    mine = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxStatus.SENDING, attempts=message.attempts
    )
    try:
        _send(message)
    except Exception as exc:  # any failure: the row keeps the message for the next attempt
        error = f"{type(exc).__name__}: {exc}"[:500]
        if _permanent(exc) or message.attempts >= settings.MEDWORKS_EMAIL_MAX_ATTEMPTS:
            mine.update(status=OutboxStatus.FAILED, last_error=error)
            # Ids and error classes only: addresses and contents stay out of logs.
            logger.error(
                "outbox message %s failed after %s attempts (%s)",
                message_id,
                message.attempts,
                type(exc).__name__,
            )
            return "failed"
        next_at = clock() + retry_delay(message.attempts)
        mine.update(status=OutboxStatus.PENDING, next_attempt_at=next_at, last_error=error)
        logger.warning(
            "outbox message %s attempt %s failed (%s); next try at %s",
            message_id,
            message.attempts,
            type(exc).__name__,
            next_at.isoformat(),
        )
        try:
            outbox_message_enqueue(message_id=message_id, run_after=next_at)
        except Exception:  # the sweep picks the row up; the failure above is what matters
            logger.warning("outbox message %s: retry not enqueued, left to the sweep", message_id)
        return "retry"
    mine.update(status=OutboxStatus.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def outbox_sweep(*, now: dt.datetime | None = None) -> int:
    """Enqueue delivery of every message that is due and seems to have no task coming.

    Covers an enqueue lost after commit, a worker that died with a claim, and rows written
    while the task tables were unavailable. Run periodically by `medworks worker`.
    """
    now = now or timezone.now()
    due = list(
        OutboxMessage.objects.filter(
            status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
            next_attempt_at__lte=now - SWEEP_GRACE,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        outbox_message_enqueue(message_id=pk)
    return len(due)
