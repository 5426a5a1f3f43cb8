"""The original email a request came in is kept with every card number masked but its last four
digits, however the message carries it (plain, base64, quoted-printable, HTML, a header, a
text attachment, UTF-16), and its case says so to the team (RULES.md: a stored card number
is unreadable). A message without one is kept byte for byte."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from medworks.bookings.intake import html_to_text
from medworks.bookings.models import BookingRequest
from medworks.bookings.services import booking_request_submit
from medworks.bookings.source import source_masked
from medworks.core.cards import find_card_numbers, normalise
from tests import factories
from tests.factories import act

VISA = "4111 1111 1111 1111"
FULL_WIDTH_VISA = VISA.translate(
    str.maketrans("0123456789", "".join(map(chr, range(0xFF10, 0xFF1A))))
)


def email(body: str, *, subtype: str = "plain", cte: str | None = None, **headers) -> bytes:
    message = EmailMessage()
    message["From"] = headers.get("sender", "Ines Adjuster <adjuster@maple-assist.example>")
    message["To"] = "bookings@medworks.example"
    message["Subject"] = headers.get("subject", "Booking request CLM-2026-1")
    kwargs = {"cte": cte} if cte else {}
    message.set_content(body, subtype=subtype, **kwargs)
    if "attachment" in headers:
        message.add_attachment(headers["attachment"], filename="notes.txt")
    return message.as_bytes()


def shows_card(raw: bytes) -> bool:
    texts = [raw.decode("latin-1"), raw.decode("utf-8", errors="replace")]
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for part in message.walk():
        texts += [str(value) for _name, value in part.items()]
        if part.get_content_maintype() == "text":
            texts += [part.get_content(), html_to_text(part.get_content())]
    return any(find_card_numbers(text) for text in texts)


MESSAGES = {
    "plain": email(f"Patient: Jean Tremblay\nCard {VISA} exp 12/28\n"),
    "base64": email(f"Carte {FULL_WIDTH_VISA}\n", cte="base64"),
    "quoted-printable": email("Carte 4111-1111-1111-1111 \u00e9t\u00e9\n", cte="quoted-printable"),
    "html split by tags": email(
        "<p>Card <b>4111</b> <b>1111</b> <b>1111</b> <b>1111</b></p>", subtype="html"
    ),
    "subject": email("See the subject.", subject=f"Card {VISA}"),
    "sender name": email("Hello", sender=f'"{VISA}" <adjuster@maple-assist.example>'),
    "text attachment": email("Attached.", attachment="Visa 3400 000000 00009"),
}


@pytest.mark.parametrize("name", MESSAGES)
def test_every_card_number_of_an_email_is_masked_but_its_last_four(name):
    raw = MESSAGES[name]
    assert shows_card(raw)
    kept, found = source_masked(raw, filename="request.eml")
    assert found
    assert not shows_card(kept), kept.decode("utf-8", errors="replace")
    assert found[0].last4 in normalise(shown_text(kept))  # kept, for the record


def shown_text(raw: bytes) -> str:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    parts = [p.get_content() for p in message.walk() if p.get_content_maintype() == "text"]
    return "\n".join([*parts, *(str(value) for _name, value in message.items())])


def test_an_email_without_a_card_number_is_kept_byte_for_byte():
    raw = email("Patient Jean Tremblay, phone 416-555-0199, claim CLM-2026-55120, 2026-12-14.")
    assert source_masked(raw, filename="request.eml") == (raw, [])


def test_pasted_text_and_outlook_files_are_masked_in_place():
    pasted = f"Patient Jean\ncard {VISA}\n".encode()
    kept, found = source_masked(pasted, filename="pasted-email.txt")
    assert kept == b"Patient Jean\ncard **** **** **** 1111\n" and found
    # An Outlook .msg keeps its text in UTF-16: masked there too, the file keeps its size.
    msg = b"\xd0\xcf\x11\xe0" + f"Body card {VISA} end".encode("utf-16-le") + b"\x00" * 8
    kept, found = source_masked(msg, filename="request.msg")
    assert len(kept) == len(msg) and found
    assert not find_card_numbers(kept[4:-8].decode("utf-16-le"))


@pytest.mark.django_db
def test_a_case_made_from_such_an_email_keeps_it_masked_and_says_so(booking_agent):
    raw = MESSAGES["base64"]
    insurer = factories.make_organisation()
    case = booking_request_submit(
        insurer=insurer,
        data=factories.booking_request_data(),
        actor=act(booking_agent),
        channel="email",
        source_filename=f"card {VISA}.eml",
        source_content=raw,
    )
    stored = BookingRequest.objects.values_list("source_content", "source_filename").get(pk=case.pk)
    assert not shows_card(bytes(stored[0]))
    assert not find_card_numbers(stored[1]) and stored[1].endswith("1111.eml")
    (flag,) = case.events.filter(kind="source_card_masked")
    assert "ending 1111" in flag.note
    assert flag.payload == {"card_endings": ["1111"]}


def test_the_flag_of_four_masked_cards_is_not_itself_a_card_number(db, insurer_user):
    """Four endings joined by commas ("4111, 1111, 1111, 1111") read as a card: the note the
    case gets would then be refused, and the case with it (it once failed one run in ten, when
    a random MIME boundary of digits was masked as a card)."""
    from medworks.bookings.models import BookingEvent
    from medworks.bookings.source import source_card_flag
    from medworks.core.cards import CardMatch, contains_card_number
    from tests import factories
    from tests.factories import act

    case = factories.make_booking_request(insurer=insurer_user.organisation)
    endings = ["4539", "1488", "0343", "6467"]  # 4539 1488 0343 6467 is Luhn-valid
    assert contains_card_number(", ".join(endings))  # what the note used to say
    matches = [CardMatch(start=0, end=16, length=16, last4=e) for e in endings]
    source_card_flag(case=case, actor=act(None), matches=matches)
    note = BookingEvent.objects.get(request=case, kind="source_card_masked").note
    assert "4539 and 1488 and 0343 and 6467" in note
    assert not contains_card_number(note)
