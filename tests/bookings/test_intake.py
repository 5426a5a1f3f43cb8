"""Reading insurers' emails to prefill the intake form: real .eml shapes, nothing trusted."""

from __future__ import annotations

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.bookings.intake import guess_from_eml, guess_from_text, insurer_for_domain
from tests import factories

PLAIN = b"""\
From: "Ines Adjuster" <Ines.Adjuster@Maple-Assist.example>
To: bookings@medworks.example
Subject: Booking request - Claim CLM-2026-0042
Date: Mon, 2 Mar 2026 09:12:00 -0500
Message-ID: <1@maple-assist.example>
Content-Type: text/plain; charset=us-ascii

Hello team,

Please book a wrist X-ray for our client.

Patient: Jean Tremblay   DOB 1980-04-12
Address: 300 Front Street West, Toronto, ON M5V 3L9
Policy number: POL-778812

Thanks,
Ines
"""

MULTIPART_HTML = b"""\
From: Claims Desk <claims@birch-assistance.example>
Reply-To: Priya Shah <priya.shah@birch-assistance.example>
To: bookings@medworks.example
Subject: New case
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/html; charset=utf-8

<html><head><style>p { color: red }</style></head><body>
<p>Case #: <b>BA-55120</b></p>
<table><tr><td>Patient name:</td><td>Amelia Wong</td></tr></table>
<p>Postal code: v6b 1a1</p>
</body></html>
--b1--
"""

FRENCH_QP = """\
From: =?utf-8?q?H=C3=A9l=C3=A8ne_B=C3=A9dard?= <helene.bedard@assurances-erable.example>
To: reservations@medworks.example
Subject: =?utf-8?q?Demande_de_rendez-vous_=E2=80=93_dossier_QC-2026-778?=
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bonjour,

Nom du patient : Fran=C3=A7ois L=C3=A9vesque
Adresse : 1200 rue Sainte-Catherine O, Montr=C3=A9al (Qu=C3=A9bec) H3B 1K9
Num=C3=A9ro de police : PQ-44-1208

Merci de votre aide, nous attendons vos disponibilit=C3=A9s.
""".encode("ascii")

MULTIPART_WITH_ATTACHMENT = b"""\
From: ops@maple-assist.example
Subject: Booking
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: multipart/alternative; boundary="a"

--a
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Name: DOE, Jane
R=E9f=E9rence: MA-2026-31
--a
Content-Type: text/html; charset=utf-8

<p>ignored when a plain part exists: K1A 0B1</p>
--a--
--m
Content-Type: application/pdf; name="gop.pdf"
Content-Disposition: attachment; filename="gop.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--m--
"""


@pytest.fixture
def maple(db):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist Inc")
    factories.make_user(
        roles=[RoleCode.INSURER_USER], organisation=org, email="isabel@maple-assist.example"
    )
    return org


def test_a_plain_email_gives_sender_patient_postal_code_and_references(maple):
    guess = guess_from_eml(PLAIN)

    assert guess.insurer == maple
    assert (guess.contact_name, guess.contact_email) == (
        "Ines Adjuster",
        "ines.adjuster@maple-assist.example",
    )
    assert (guess.patient_first_name, guess.patient_last_name) == ("Jean", "Tremblay")
    assert guess.postal_code == "M5V 3L9"
    assert guess.insurer_reference == "CLM-2026-0042"
    assert guess.policy_number == "POL-778812"
    assert guess.notes == []


def test_an_html_only_email_is_read_as_text_and_reply_to_is_the_contact(db):
    guess = guess_from_eml(MULTIPART_HTML)

    assert guess.contact_email == "priya.shah@birch-assistance.example"
    assert guess.contact_name == "Priya Shah"
    assert (guess.patient_first_name, guess.patient_last_name) == ("Amelia", "Wong")
    assert guess.postal_code == "V6B 1A1"
    assert guess.insurer_reference == "BA-55120"
    assert "color" not in guess.body  # style sheets are not text
    assert guess.insurer is None
    assert "birch-assistance.example" in guess.notes[0]


def test_a_french_quoted_printable_email_keeps_its_accents(db):
    guess = guess_from_eml(FRENCH_QP)

    assert guess.contact_name == "Hélène Bédard"
    assert (guess.patient_first_name, guess.patient_last_name) == ("François", "Lévesque")
    assert guess.postal_code == "H3B 1K9"
    assert guess.insurer_reference == "QC-2026-778"
    assert guess.policy_number == "PQ-44-1208"


def test_the_plain_part_wins_over_html_and_attachments_are_ignored(maple):
    guess = guess_from_eml(MULTIPART_WITH_ATTACHMENT)

    assert guess.insurer == maple
    assert (guess.patient_first_name, guess.patient_last_name) == ("Jane", "Doe")
    assert guess.insurer_reference == "MA-2026-31"
    assert guess.postal_code == ""  # the K1A 0B1 of the HTML part is not read


def test_an_insurer_is_also_recognised_by_the_contacts_of_its_earlier_cases(db):
    birch = factories.make_organisation(kind=OrganisationKind.INSURER, name="Birch")
    factories.make_booking_request(
        insurer=birch, insurer_contact_email="a@birch-assistance.example"
    )

    assert insurer_for_domain("BIRCH-assistance.example") == birch


def test_a_domain_two_insurers_share_names_neither(db):
    for name in ("One", "Two"):
        org = factories.make_organisation(kind=OrganisationKind.INSURER, name=name)
        factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org, email="x@gmail.com")

    assert insurer_for_domain("gmail.com") is None


@pytest.mark.parametrize(
    ("text", "postal"),
    [
        ("near m5v3l9", "M5V 3L9"),
        ("code: T2P-1J9", "T2P 1J9"),
        ("D0A 1A1 is not a code (no D first)", ""),
        ("W1A 1AA is British", ""),
    ],
)
def test_only_canadian_postal_codes_are_taken(text, postal):
    assert guess_from_text(text).postal_code == postal


def test_words_after_a_reference_keyword_are_not_taken_for_a_number():
    guess = guess_from_text("In case you need anything, call us.\nPolicy holder is the patient.")

    assert (guess.insurer_reference, guess.policy_number) == ("", "")


def test_a_garbled_message_gives_an_empty_guess_rather_than_an_error(db):
    guess = guess_from_eml(b"\x00\xff not an email at all \r\n\r\n\xfe")

    assert guess.insurer is None
    assert guess.patient_last_name == ""
