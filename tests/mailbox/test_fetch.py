"""Fetching the booking team's mailbox from a real IMAP server (Dovecot): each message becomes
what it should, exactly once, and is marked read only once what it became is committed."""

from __future__ import annotations

import pytest

from medworks.bookings.models import BookingEvent, BookingRequest, BookingStatus, Channel
from medworks.mailbox import services
from medworks.mailbox.imap import ImapSettings, MailboxUnavailable
from medworks.mailbox.models import InboundEmail, InboundStatus
from medworks.mailbox.selectors import raw_of
from medworks.mailbox.services import mailbox_fetch
from tests import factories

from .conftest import MAIL, message


def test_a_plain_text_request_from_a_known_insurer_becomes_a_received_case(mailbox, maple):
    mailbox.deliver(message("plain.eml"))

    summary = mailbox_fetch()

    assert (summary.created, summary.waiting, summary.already_seen) == (1, 0, 0)
    case = BookingRequest.objects.get()
    assert (case.status, case.channel, case.insurer) == (
        BookingStatus.RECEIVED,
        Channel.EMAIL,
        maple,
    )
    assert (case.patient.first_name, case.patient.last_name) == ("Jean", "Tremblay")
    assert case.patient.date_of_birth.isoformat() == "1980-04-12"
    assert (case.patient.address, case.patient.city, case.patient.province) == (
        "300 Front Street West",
        "Toronto",
        "ON",
    )
    assert [s.code for s in case.services.all()] == ["XRAY"]
    assert case.insurer_reference == "CLM-2026-0042"
    assert case.insurer_contact_email == "ines.adjuster@maple-assist.example"
    # The original is attached to the case, as the server gave it.
    assert b"Please book an X-ray" in bytes(case.source_content)
    assert case.source_filename == "email.eml"
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.case) == (InboundStatus.CASE_CREATED, case)
    assert inbound.message_id == "<5b1c2f0e-8d7a-4c1e-9a53-2f8e1d7c4b10@maple-assist.example>"
    assert raw_of(inbound) == bytes(case.source_content)
    created = BookingEvent.objects.get(request=case, kind="created")
    assert (created.actor_kind, created.actor_detail) == ("system", "mailbox")
    assert mailbox.unseen() == []


def test_an_html_only_message_is_read_as_text(mailbox, birch):
    mailbox.deliver(message("html-only.eml"))

    assert mailbox_fetch().created == 1

    case = BookingRequest.objects.get()
    assert (case.insurer, case.insurer_reference) == (birch, "BA-55120")
    assert (case.patient.full_name, case.patient.postal_code) == ("Amelia Wong", "V6B 4Y8")
    assert case.patient.date_of_birth.isoformat() == "1968-07-12"
    assert (case.patient.city, case.patient.province) == ("Vancouver", "BC")
    assert [s.code for s in case.services.all()] == ["ULTRASOUND"]


def test_a_forwarded_request_is_read_from_the_original_inline(mailbox, maple):
    mailbox.deliver(message("forwarded.eml"))

    assert mailbox_fetch().created == 1

    case = BookingRequest.objects.get()
    # The contact is the insurer's person who forwarded it; the patient is the one inside.
    assert (case.insurer_contact_name, case.insurer_contact_email) == (
        "Isabel Ortiz",
        "isabel.ortiz@maple-assist.example",
    )
    assert (case.patient.first_name, case.patient.last_name) == ("Jane", "Doe")
    assert case.patient.date_of_birth.isoformat() == "1990-03-03"
    assert case.insurer_reference == "MA-2026-31"
    assert [s.code for s in case.services.all()] == ["BLOOD"]


def test_a_message_with_a_pdf_attachment_keeps_it_in_the_original(mailbox, maple):
    mailbox.deliver(message("attachment.eml"))

    assert mailbox_fetch().created == 1

    case = BookingRequest.objects.get()
    assert [s.code for s in case.services.all()] == ["MRI"]  # "MRI of the left knee"
    source = bytes(case.source_content)
    assert b"filename=referral.pdf" in source and b"JVBERi0xLjQK" in source


def test_french_accents_in_utf8_encoded_headers_and_body(mailbox, erable):
    mailbox.deliver(message("french-utf8.eml"))

    assert mailbox_fetch().created == 1

    case = BookingRequest.objects.get()
    assert case.insurer_contact_name == "Hélène Bédard"
    assert (case.patient.first_name, case.patient.last_name) == ("François", "Lévesque")
    assert case.patient.date_of_birth.isoformat() == "1975-09-03"
    assert (case.patient.city, case.patient.province) == ("Montréal", "QC")
    assert case.insurer_reference == "QC-2026-778"
    assert [s.code for s in case.services.all()] == ["XRAY"]  # "Radiographie"
    inbound = InboundEmail.objects.get()
    assert inbound.subject == "Demande de rendez-vous \N{EN DASH} dossier QC-2026-778"
    assert inbound.from_name == "Hélène Bédard"


def test_an_iso_8859_1_message_from_an_unknown_sender_waits_for_an_agent(mailbox, insurers):
    mailbox.deliver(message("french-latin1.eml"))

    summary = mailbox_fetch()

    assert (summary.created, summary.waiting) == (0, 1)
    assert not BookingRequest.objects.exists()
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.NEEDS_AGENT
    assert (inbound.from_name, inbound.from_address) == (
        "Josée Côté",
        "josee.cote@clinique-cote.example",
    )
    assert inbound.subject == "Réservation d'un examen à Québec"
    codes = [r["code"] for r in inbound.reasons]
    assert codes == ["unknown_insurer", "incomplete"]
    assert inbound.reasons[0]["domain"] == "clinique-cote.example"
    assert mailbox.unseen() == []  # kept in the desk's list, so read in the mailbox


def test_a_reply_naming_an_order_id_is_filed_on_that_case(mailbox, maple):
    case = factories.make_booking_request(insurer=maple)
    mailbox.deliver(message("reply.eml").replace(b"MW-2026-000001", case.order_id.encode()))

    summary = mailbox_fetch()

    assert (summary.filed, summary.created, summary.waiting) == (1, 0, 0)
    assert BookingRequest.objects.count() == 1
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.case) == (InboundStatus.FILED, case)
    event = BookingEvent.objects.get(request=case, kind="email_received")
    assert event.payload == {"inbound_email": inbound.pk}
    assert event.label == "Email received"


def test_a_reply_naming_no_case_waits_for_an_agent(mailbox, maple):
    mailbox.deliver(message("reply.eml").replace(b"MW-2026-000001", b"MW-2026-999999"))

    assert mailbox_fetch().waiting == 1

    inbound = InboundEmail.objects.get()
    assert inbound.reasons == [{"code": "unknown_order", "order_id": "MW-2026-999999"}]


def test_a_malformed_message_is_kept_for_an_agent_never_dropped(mailbox, maple):
    mailbox.deliver(message("malformed.eml"))

    assert mailbox_fetch().waiting == 1

    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.NEEDS_AGENT
    assert inbound.message_id.startswith("sha256:")  # it has no Message-ID
    assert {r["code"] for r in inbound.reasons} >= {"malformed", "no_sender"}
    assert b"garbage" in raw_of(inbound)
    assert mailbox.unseen() == []


def test_a_message_with_a_card_number_never_becomes_a_case_on_its_own(mailbox, maple):
    mailbox.deliver(message("card-number.eml"))

    assert mailbox_fetch().waiting == 1

    assert not BookingRequest.objects.exists()
    inbound = InboundEmail.objects.get()
    assert inbound.reasons == [{"code": "card_number", "last4": ["1111"]}]
    assert inbound.holds_card_number
    assert "4111" not in str(inbound.guess)
    # Kept as it came (for the agent), but sealed: the stored bytes do not hold the number.
    assert b"4111 1111 1111 1111" in raw_of(inbound)
    stored = InboundEmail.objects.values_list("raw_sealed", flat=True).get()
    assert b"4111" not in bytes(stored)


def test_fetching_twice_makes_one_case(mailbox, maple):
    mailbox.deliver(message("plain.eml"))
    mailbox_fetch()
    # The same message again (a client re-sending it, a copy in the folder): same Message-ID.
    mailbox.deliver(message("plain.eml"))

    summary = mailbox_fetch()

    assert (summary.created, summary.already_seen) == (0, 1)
    assert BookingRequest.objects.count() == 1
    assert InboundEmail.objects.count() == 1
    assert mailbox.unseen() == []


def test_a_message_stored_but_not_marked_read_is_only_marked_read_the_next_time(
    mailbox, maple, monkeypatch
):
    """A crash between the commit and the \\Seen flag: the next fetch finds its row."""
    from medworks.mailbox.imap import ImapMailbox

    mailbox.deliver(message("plain.eml"))
    monkeypatch.setattr(ImapMailbox, "mark_seen", lambda self, uid: None)
    mailbox_fetch()
    assert len(mailbox.unseen()) == 1
    monkeypatch.undo()

    summary = mailbox_fetch()

    assert (summary.created, summary.already_seen) == (0, 1)
    assert BookingRequest.objects.count() == 1
    assert mailbox.unseen() == []


def test_a_failure_inside_the_transaction_leaves_the_message_unread_for_a_later_fetch(
    mailbox, maple, monkeypatch
):
    mailbox.deliver(message("plain.eml"))
    mailbox.deliver(message("html-only.eml"))  # from nobody known: waits, unaffected

    def refuse(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "booking_request_submit", refuse)
    summary = mailbox_fetch()

    assert (summary.failed, summary.waiting, summary.created) == (1, 1, 0)
    assert not BookingRequest.objects.exists()
    assert InboundEmail.objects.count() == 1  # the request's row went with the failed case
    assert len(mailbox.unseen()) == 1
    monkeypatch.undo()

    summary = mailbox_fetch()

    assert (summary.created, summary.failed) == (1, 0)
    assert BookingRequest.objects.count() == 1
    assert mailbox.unseen() == []


def test_the_desks_own_notifications_are_set_aside(mailbox, maple, settings):
    settings.DEFAULT_FROM_EMAIL = "MedWorks Booking Desk <desk@medworks.example>"
    case = factories.make_booking_request(insurer=maple)
    mailbox.deliver(
        b"From: MedWorks Booking Desk <desk@medworks.example>\r\n"
        b"To: bookings@medworks.example\r\n"
        b"Subject: New request " + case.order_id.encode() + b"\r\n"
        b"Message-ID: <outbox-41@medworks.example>\r\n"
        b"Auto-Submitted: auto-generated\r\n\r\nA new request arrived.\r\n"
    )

    summary = mailbox_fetch()

    assert (summary.own, summary.filed, summary.waiting) == (1, 0, 0)
    assert InboundEmail.objects.get().status == InboundStatus.DISMISSED
    assert not BookingEvent.objects.filter(kind="email_received").exists()


def test_every_kind_of_message_at_once(mailbox, insurers):
    for name in sorted(p.name for p in MAIL.glob("*.eml") if p.name != "reply.eml"):
        mailbox.deliver(message(name))

    summary = mailbox_fetch()

    assert (summary.created, summary.waiting, summary.failed) == (5, 3, 0)
    assert mailbox.unseen() == []


# --- TLS ----------------------------------------------------------------------------------------


def tls_settings(server, *, tls: str, port: int) -> ImapSettings:
    return ImapSettings(
        host=server.host, port=port, user=server.user, password=server.password, tls=tls
    )


@pytest.mark.parametrize("tls", ["ssl", "starttls"])
def test_tls_verifies_the_servers_certificate(mailbox, maple, monkeypatch, tls):
    mailbox.deliver(message("plain.eml"))
    port = mailbox.ssl_port if tls == "ssl" else mailbox.port

    # Without the CA that signed it, the certificate is refused: nothing is read.
    with pytest.raises(MailboxUnavailable, match="Cannot reach the mailbox"):
        mailbox_fetch(config=tls_settings(mailbox, tls=tls, port=port))
    assert len(mailbox.unseen()) == 1

    monkeypatch.setenv("SSL_CERT_FILE", str(mailbox.ca_file))
    summary = mailbox_fetch(config=tls_settings(mailbox, tls=tls, port=port))

    assert summary.created == 1
    assert mailbox.unseen() == []


def test_a_wrong_password_is_one_clear_error(mailbox, settings):
    settings.MEDWORKS_IMAP_PASSWORD = "wrong"

    with pytest.raises(MailboxUnavailable) as refused:
        mailbox_fetch()

    assert "refused the login of bookings@medworks.example" in str(refused.value)
    assert "wrong" not in str(refused.value)
