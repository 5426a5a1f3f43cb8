"""Reading one message: its key, whether it is the desk's own, a reply, malformed."""

from __future__ import annotations

import hashlib

from medworks.mailbox.reading import message_key, read_message

from .conftest import message


def test_the_key_is_the_message_id_or_the_sha256_of_the_bytes():
    raw = b"Subject: x\r\n\r\nbody"
    assert message_key("<a@b.example>", raw) == "<a@b.example>"
    assert message_key("", raw) == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert message_key("<a b@c>", raw).startswith("sha256:")  # not one token: not an id
    long_id = "<" + "x" * 300 + "@b.example>"
    assert message_key(long_id, raw) == message_key(long_id, b"other bytes")  # the id's hash


def test_a_reply_is_told_by_the_order_id_in_its_subject(db):
    reading = read_message(message("reply.eml"))
    assert reading.order_id == "MW-2026-000001"
    assert reading.problems == []
    assert (reading.from_name, reading.from_address) == (
        "Ines Adjuster",
        "ines.adjuster@maple-assist.example",
    )


def test_the_desks_own_outbox_messages_are_recognised(db, settings):
    settings.DEFAULT_FROM_EMAIL = "MedWorks Booking Desk <desk@medworks.example>"
    own = b"From: desk@medworks.example\r\nMessage-ID: <outbox-7@medworks.example>\r\n\r\nx"
    other = b"From: a@b.example\r\nMessage-ID: <outbox-7@elsewhere.example>\r\n\r\nx"
    assert read_message(own).own
    assert not read_message(other).own


def test_garbage_is_malformed_and_kept_with_a_stable_key(db):
    raw = b"\x00\xff not an email at all \r\n\r\n\xfe"
    reading = read_message(raw)
    assert [p["code"] for p in reading.problems] == ["malformed", "no_sender"]
    assert reading.key == read_message(raw).key == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_a_sender_name_or_subject_with_a_card_number_is_masked(db):
    raw = (
        b'From: "4111 1111 1111 1111" <claims@maple-assist.example>\r\n'
        b"Subject: Pay with 4111-1111-1111-1111\r\n\r\nPatient: Jean Tremblay\r\n"
    )
    reading = read_message(raw)
    assert reading.from_name == ""
    assert "4111" not in reading.subject
    assert reading.card_last4 == ["1111"]
