"""Every write of the booking inbox: a message read from the mailbox becomes a received case,
a timeline entry on the case it answers, or a place in the agents' list; an agent makes the
case of a waiting message, or dismisses it.

Exactly once, and why it holds:

- The InboundEmail row and what the message became (the case, the timeline entry) are written
  in one transaction. The row's unique key is the Message-ID (or the raw bytes' sha256 when
  there is none): a message fetched again finds its row and is only marked read, and two
  workers fetching the same message at once race on that unique insert, where the second one
  waits for the first to commit and then fails and rolls back, so one case is made.
- The IMAP \\Seen flag is set only after that commit. A crash between the two leaves the
  message unread; the next fetch finds its row and marks it read. A failure inside the
  transaction (the database, a bug) leaves no row and the message unread: the next fetch reads
  it again from the start.
- A message that cannot be read, or whose request is incomplete, is stored all the same, as
  waiting for an agent with the reasons: nothing that reached the mailbox is dropped.

A message becomes a case on its own only when the request it carries passes the same form
every door uses (bookings.forms.BookingRequestForm: patient name, date of birth, address,
postal code, a catalogue service, the insurer's reference, a contact), its sender's domain
names one insurer (bookings.intake.insurer_for_domain), and it holds no card number. An email
is not a form: anything less waits for an agent, who opens the staff intake page prefilled
from it. A message holding a card number never becomes a case on its own (RULES.md, cards).

Logs name row ids and UIDs, never senders, subjects or contents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from medworks.accounts.models import Organisation
from medworks.bookings.forms import BookingRequestForm
from medworks.bookings.intake import IntakeGuess
from medworks.bookings.models import BookingEvent, BookingRequest, Channel
from medworks.bookings.services import booking_request_clean, booking_request_submit
from medworks.core.actor import Actor
from medworks.core.errors import DomainError
from medworks.documents.storage import seal

from .imap import ImapMailbox, ImapSettings, MailboxNotConfigured, MailboxUnavailable, imap_settings
from .models import InboundEmail, InboundStatus
from .reading import SOURCE_FILENAME, Reading, read_message
from .selectors import raw_of
from .workflow import MAILBOX_WORKFLOW, SETTLE_STEP

logger = logging.getLogger("medworks.mailbox")

MAILBOX_ACTOR = Actor.system("mailbox")


class Outcome(StrEnum):
    CASE_CREATED = "case_created"  # a new received case
    FILED = "filed"  # a reply, filed on its case
    WAITING = "waiting"  # waits for an agent
    OWN = "own"  # one of the desk's own notifications, set aside
    ALREADY_SEEN = "already_seen"  # its row was already there: only marked read


@dataclass(frozen=True)
class Received:
    outcome: Outcome
    inbound_email: InboundEmail


@dataclass
class FetchSummary:
    created: int = 0
    filed: int = 0
    waiting: int = 0
    own: int = 0
    already_seen: int = 0
    failed: int = 0  # left unread after an error, read again next time

    def add(self, outcome: Outcome) -> None:
        name = {
            Outcome.CASE_CREATED: "created",
            Outcome.FILED: "filed",
            Outcome.WAITING: "waiting",
            Outcome.OWN: "own",
            Outcome.ALREADY_SEEN: "already_seen",
        }[outcome]
        setattr(self, name, getattr(self, name) + 1)

    def line(self) -> str:
        """One line for the command and the logs."""
        text = _(
            "%(created)s new cases, %(filed)s filed on cases, %(waiting)s waiting for an agent, "
            "%(seen)s already seen"
        ) % {
            "created": self.created,
            "filed": self.filed,
            "waiting": self.waiting,
            "seen": self.already_seen,
        }
        if self.own:
            text += _(", %(count)s of the desk's own set aside") % {"count": self.own}
        if self.failed:
            text += _(", %(count)s left unread after an error") % {"count": self.failed}
        return text + "."


# --- One message ------------------------------------------------------------------------------


def request_data(guess: IntakeGuess) -> dict[str, Any]:
    """The form's data from a guess: the values found, the form's own defaults for the rest."""
    data: dict[str, Any] = {
        name: field.initial
        for name, field in BookingRequestForm.base_fields.items()
        if field.initial is not None
    }
    data.update({k: v for k, v in guess.initial().items() if k != "insurer"})
    return data


def _guess_record(reading: Reading) -> dict[str, Any]:
    guess = reading.guess
    if guess is None:
        return {}
    return {
        "initial": guess.initial(),
        "sender_domain": guess.sender_domain,
        "insurer_id": guess.insurer.pk if guess.insurer else None,
        "card_last4": reading.card_last4,
    }


def _move(inbound: InboundEmail, step: str, *, actor: Actor, **fields: Any) -> InboundEmail:
    """Take `step` on the row through its workflow (the row locked, its state checked, the
    step's audit row written), then record what it became (`fields`), in one transaction."""
    with transaction.atomic():
        MAILBOX_WORKFLOW.fire(record=inbound, name=step, actor=actor)
        for name, value in fields.items():
            setattr(inbound, name, value)
        inbound.save(update_fields=list(fields))
    return inbound


def _settle(
    inbound: InboundEmail,
    status: InboundStatus,
    *,
    case: BookingRequest | None = None,
    reasons: list[dict] | None = None,
) -> None:
    """The one place the fetch sets a row's status (inside the fetch's transaction): the
    workflow's step from `new` to `status`, by the system."""
    _move(inbound, SETTLE_STEP[status], actor=MAILBOX_ACTOR, case=case, reasons=reasons or [])


def _card_reasons(reading: Reading) -> list[dict]:
    last4 = reading.card_last4
    return [{"code": "card_number", "last4": last4}] if last4 else []


def _route(inbound: InboundEmail, reading: Reading, raw: bytes) -> Outcome:
    if reading.own:
        _settle(inbound, InboundStatus.DISMISSED, reasons=[{"code": "own_message"}])
        return Outcome.OWN
    if reading.problems or reading.guess is None:
        _settle(
            inbound,
            InboundStatus.NEEDS_AGENT,
            reasons=reading.problems + _card_reasons(reading),
        )
        return Outcome.WAITING
    if reading.order_id:
        return _route_reply(inbound, reading)
    return _route_request(inbound, reading, raw)


def _route_reply(inbound: InboundEmail, reading: Reading) -> Outcome:
    """A reply names its case's Order Id in the subject: it is filed there (staff only)."""
    case = BookingRequest.objects.filter(order_id=reading.order_id).first()
    if case is None:
        reasons = [{"code": "unknown_order", "order_id": reading.order_id}]
        _settle(inbound, InboundStatus.NEEDS_AGENT, reasons=reasons + _card_reasons(reading))
        return Outcome.WAITING
    if reading.card_last4:  # never put on a case unseen: an agent decides
        _settle(inbound, InboundStatus.NEEDS_AGENT, case=case, reasons=_card_reasons(reading))
        return Outcome.WAITING
    BookingEvent.objects.record(
        request=case,
        kind="email_received",
        actor=MAILBOX_ACTOR,
        payload={"inbound_email": inbound.pk},
    )
    _settle(inbound, InboundStatus.FILED, case=case)
    return Outcome.FILED


def _route_request(inbound: InboundEmail, reading: Reading, raw: bytes) -> Outcome:
    guess = reading.guess
    assert guess is not None
    reasons = _card_reasons(reading)
    if guess.insurer is None:
        reasons.append({"code": "unknown_insurer", "domain": guess.sender_domain})
    data = request_data(guess)
    try:
        booking_request_clean(data=data)
    except DomainError as exc:
        order = list(BookingRequestForm.base_fields)  # named in the form's order
        named = sorted(exc.fields, key=lambda n: order.index(n) if n in order else len(order))
        reasons.append({"code": "incomplete", "fields": named})
    if reasons:
        _settle(inbound, InboundStatus.NEEDS_AGENT, reasons=reasons)
        return Outcome.WAITING
    try:
        case = booking_request_submit(
            insurer=guess.insurer,
            data=data,
            actor=MAILBOX_ACTOR,
            channel=Channel.EMAIL,
            source_filename=SOURCE_FILENAME,
            source_content=raw,
        )
    except DomainError as exc:
        reasons = [{"code": "refused", "error": exc.code}]
        _settle(inbound, InboundStatus.NEEDS_AGENT, reasons=reasons)
        return Outcome.WAITING
    _settle(inbound, InboundStatus.CASE_CREATED, case=case)
    return Outcome.CASE_CREATED


def inbound_email_receive(*, raw: bytes) -> Received:
    """Store one message and make of it what it is, in one transaction (see the module)."""
    reading = read_message(raw)
    existing = InboundEmail.objects.filter(message_id=reading.key).first()
    if existing is not None:
        return Received(Outcome.ALREADY_SEEN, existing)
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.create(
                message_id=reading.key,
                from_address=reading.from_address,
                from_name=reading.from_name,
                subject=reading.subject,
                raw_sealed=seal(raw),
                raw_sha256=reading.raw_sha256,
                raw_size=len(raw),
                guess=_guess_record(reading),
                holds_card_number=bool(reading.card_last4),
            )
            outcome = _route(inbound, reading, raw)
    except IntegrityError:
        # Another fetch stored the same message first (the unique key): one case, not two.
        existing = InboundEmail.objects.filter(message_id=reading.key).first()
        if existing is None:
            raise
        return Received(Outcome.ALREADY_SEEN, existing)
    logger.info("inbound email %s: %s", inbound.pk, outcome.value)
    return Received(outcome, inbound)


# --- The mailbox ------------------------------------------------------------------------------


def mailbox_fetch(*, config: ImapSettings | None = None, mailbox_class=ImapMailbox) -> FetchSummary:
    """Read every unread message of the mailbox once; each is marked read after its commit.

    Raises MailboxNotConfigured when fetching is off, MailboxUnavailable when the server
    cannot be reached, refuses the login, or fails mid-way (what was committed stays so; the
    rest is read next time). One message failing leaves it unread and goes on with the next.
    """
    config = config or imap_settings()
    summary = FetchSummary()
    with mailbox_class(config) as box:
        for uid in box.unseen_uids():
            raw = box.fetch(uid)
            if raw is None:  # deleted since the search
                continue
            try:
                received = inbound_email_receive(raw=raw)
            except Exception as exc:  # left unread: read again next time
                # The class only: exception texts can quote database values (patient data).
                logger.error("inbound message uid %s left unread (%s)", uid, type(exc).__name__)
                summary.failed += 1
                continue
            box.mark_seen(uid)
            summary.add(received.outcome)
    return summary


def mailbox_fetch_scheduled() -> int | None:
    """The worker's job (every MEDWORKS_IMAP_POLL_SECONDS): fetch once, log one line.

    Returns how many messages were handled, or None when fetching is off or failed (the
    worker goes on; the next run tries again)."""
    try:
        summary = mailbox_fetch()
    except MailboxNotConfigured:
        return None
    except MailboxUnavailable as exc:
        logger.warning("mail fetch failed: %s", exc)
        return None
    logger.info("mail fetch: %s", summary.line())
    return summary.created + summary.filed + summary.waiting + summary.own


# --- An agent's decisions ---------------------------------------------------------------------


def inbound_email_case_create(
    *,
    inbound_email: InboundEmail,
    insurer: Organisation,
    data: dict[str, Any],
    actor: Actor,
) -> BookingRequest:
    """An agent makes the case of a waiting message from the intake page: the same use case as
    any emailed request (channel email, the original attached), and the message marked as
    having made it in the same transaction, so two agents cannot make it twice."""
    raw = raw_of(inbound_email)

    def claim(case: BookingRequest) -> None:
        # Refused ("inbound_not_waiting") when it no longer waits: the case is rolled back.
        _move(
            inbound_email,
            "make_case",
            actor=actor,
            case=case,
            decided_by=actor.user,
            decided_at=timezone.now(),
        )

    return booking_request_submit(
        insurer=insurer,
        data=data,
        actor=actor,
        channel=Channel.EMAIL,
        source_filename=SOURCE_FILENAME,
        source_content=raw,
        on_created=claim,
    )


def inbound_email_dismiss(*, inbound_email: InboundEmail, actor: Actor) -> InboundEmail:
    """An agent sets a waiting message aside (spam, a duplicate, handled by phone). It is kept."""
    return _move(
        inbound_email,
        "dismiss",
        actor=actor,
        decided_by=actor.user,
        decided_at=timezone.now(),
    )
