"""A card number is refused where it is typed, whatever the door and however it is written, so
it is never stored, shown or emailed (RULES.md, cards; issue 14).

Each spelling of a few test card numbers (the 21 forms people type: separators, line breaks,
other scripts' digits) goes through each door: the insurer portal, the staff intake, the API,
the email intake's reading, a workflow step's note, a GOP's terms, the directory, a quote's
dispute. Each is refused with an error on its field (the email intake flags the message for
the agent instead). Then a real case runs from an email holding card numbers to its booking,
with every log record captured, and every text column of every table, every outbox message,
every mail file written and every log record is searched for a card number with the one
finder (core/cards.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.test import Client

from medworks.accounts.services import api_key_create
from medworks.billing.quotes import quote_dispute
from medworks.billing.selectors import quote_current
from medworks.bookings import services as bookings
from medworks.bookings.intake import guess_from_eml, guess_from_text
from medworks.bookings.models import BookingEvent, BookingRequest
from medworks.core.cards import (
    CARD_NUMBER_CODE,
    CARD_NUMBER_MESSAGE,
    CardNumberRefused,
    find_card_numbers,
)
from medworks.core.errors import DomainError
from medworks.documents.gops import gop_issue
from medworks.network import services as directory
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import outbox_message_deliver
from tests import factories
from tests.factories import act

pytestmark = pytest.mark.django_db

REFUSED = "Card numbers are never typed here"

# --- the spellings -----------------------------------------------------------------------------

VISA, MASTERCARD, AMEX = "4111111111111111", "5500000000000004", "340000000000009"
NBSP = "\u00a0"


def in_script(zero: int):
    table = str.maketrans("0123456789", "".join(chr(zero + i) for i in range(10)))
    return lambda text: text.translate(table)


full_width, arabic_indic, devanagari = in_script(0xFF10), in_script(0x660), in_script(0x966)


def grouped(number: str, separator: str, sizes=(4, 4, 4, 4)) -> str:
    groups, position = [], 0
    for size in sizes:
        groups.append(number[position : position + size])
        position += size
    return separator.join(groups)


AMEX_GROUPS = (4, 6, 5)
# The 21 forms (tests/core/test_cards.py has the finder's own), from three test card numbers.
SPELLINGS = {
    "unbroken": VISA,
    "spaces": grouped(VISA, " "),
    "dashes": grouped(MASTERCARD, "-"),
    "double spaces": grouped(VISA, "  "),
    "dots": grouped(MASTERCARD, "."),
    "slashes": grouped(VISA, "/"),
    "tabs": grouped(MASTERCARD, "\t"),
    "newlines": grouped(VISA, "\n"),
    "windows newlines": grouped(MASTERCARD, "\r\n"),
    "non-breaking spaces": grouped(VISA, NBSP),
    "underscores": grouped(MASTERCARD, "_"),
    "commas": grouped(VISA, ","),
    "full-width digits": full_width(grouped(VISA, " ")),
    "arabic-indic digits": arabic_indic(grouped(MASTERCARD, " ")),
    "devanagari digits": devanagari(VISA),
    "mixed digits and separators": f"{full_width('5500')}-0000 {arabic_indic('0000')}.0004",
    "amex 4-6-5": grouped(AMEX, " ", AMEX_GROUPS),
    "amex dots": grouped(AMEX, ".", AMEX_GROUPS),
    "amex unbroken": AMEX,
    "zero-width spaces": grouped(VISA, "\u200b"),
    "amex full-width dashes": full_width(grouped(AMEX, "-", AMEX_GROUPS)),
}
SINGLE_LINE = {k: v for k, v in SPELLINGS.items() if "\n" not in v and "\t" not in v}


def test_there_are_twenty_one_spellings_and_each_is_a_card_number():
    assert len(SPELLINGS) == 21
    for name, text in SPELLINGS.items():
        assert find_card_numbers(f"card {text} please"), name


def holds_card(text) -> bool:
    return bool(find_card_numbers(str(text)))


# --- the world ---------------------------------------------------------------------------------


@pytest.fixture
def world(settings, tmp_path, insurer_user, clinic_user, booking_agent, manager):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "documents")},
        },
    }
    partner = factories.make_partner(name="Harbour Clinic", organisation=clinic_user.organisation)
    location = factories.make_location(partner=partner, name="Harbour Clinic King West")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    _key, secret = api_key_create(
        organisation=insurer_user.organisation, name="Claims system", actor=act(None)
    )
    staff = factories.make_user(
        roles=["booking_coordinator", "clinic_manager", "finance"], username="desk"
    )
    return SimpleNamespace(
        insurer=insurer_user.organisation,
        insurer_user=insurer_user,
        clinic_user=clinic_user,
        agent=booking_agent,
        manager=manager,
        staff=staff,
        partner=partner,
        location=location,
        secret=secret,
        tmp=tmp_path,
    )


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(world) -> dict:
    return {"Authorization": f"Bearer {world.secret}"}


def _portal_data(**overrides) -> dict:
    data = factories.booking_request_data(**overrides)
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data.pop("paperwork_required")
    data["notify_patient"] = "on"
    return data


def _awaiting_dates(world) -> BookingRequest:
    return factories.make_case_awaiting_dates(
        insurer=world.insurer, location=world.location, agent=world.agent
    )


# --- each door refuses each spelling, on its field -----------------------------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_portal_refuses_it_on_the_field(world, spelling):
    client = _signed_in(world.insurer_user)
    response = client.post("/portal/requests/new/", _portal_data(symptoms=SPELLINGS[spelling]))
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["symptoms"]] == [CARD_NUMBER_CODE]
    assert not BookingRequest.objects.exists()
    assert not holds_card(form["symptoms"].value() or "")  # the page does not send it back


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_staff_intake_refuses_it_on_the_field(world, spelling):
    client = _signed_in(world.agent)
    data = _portal_data(scheduling_notes="", summary=SPELLINGS[spelling])
    data.update(insurer=world.insurer.pk, source_text="Please book an X-ray for Jean Tremblay.")
    response = client.post("/staff/bookings/new/", data)
    assert response.status_code == 400
    form = response.context["form"]
    assert [e.code for e in form.errors.as_data()["summary"]] == [CARD_NUMBER_CODE]
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_api_answers_422_on_the_field(world, spelling):
    data = factories.booking_request_data(policy_number=SPELLINGS[spelling])
    response = Client().post(
        "/api/v1/booking-requests", data, content_type="application/json", headers=_api(world)
    )
    assert response.status_code == 422, response.content
    body = response.json()
    assert list(body["fields"]) == ["policy_number"]
    assert REFUSED in body["fields"]["policy_number"][0]
    assert not holds_card(response.content.decode("unicode_escape"))
    assert not BookingRequest.objects.exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_email_intake_flags_the_message_and_proposes_none(world, spelling):
    message = EmailMessage()
    message["From"] = "Ines Adjuster <adjuster@maple-assist.example>"
    message["Subject"] = "Booking request CLM-2026-1"
    message.set_content(
        f"Patient: Jean Tremblay\nPostal code M5V 3L9\nPolicy POL-1\nCard: {SPELLINGS[spelling]}\n"
    )
    for guess in (guess_from_eml(message.as_bytes()), guess_from_text(message.get_content())):
        assert guess.card_numbers, spelling
        assert any("holds a card number" in note for note in guess.notes)
        assert not any(holds_card(value) for value in guess.initial().values())
        assert not holds_card(guess.body) and not holds_card(guess.subject)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_workflow_note_refuses_it_on_the_note(world, spelling):
    case = factories.make_booking_request(insurer=world.insurer)
    bookings.booking_request_take(case=case, actor=act(world.agent))
    client = _signed_in(world.agent)
    response = client.post(
        f"/staff/bookings/{case.order_id}/escalate/", {"note": SPELLINGS[spelling]}
    )
    case.refresh_from_db()
    assert case.status == "sourcing"
    page = response.content.decode()
    assert REFUSED in page
    assert not holds_card(page)
    # The one door of every record's workflow: any step, any record.
    with pytest.raises(CardNumberRefused) as refused:
        bookings.booking_request_cancel(
            case=case, actor=act(world.agent), cancelled_by="insurer", note=SPELLINGS[spelling]
        )
    assert list(refused.value.fields) == ["note"]
    assert not BookingEvent.objects.filter(kind__in=["escalate", "cancel"]).exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_gop_refuses_it_on_its_field(world, spelling):
    case = _awaiting_dates(world)
    terms = {
        "authorised_services": ["XRAY"],
        "valid_from": "2026-12-01",
        "valid_to": "2026-12-31",
        "max_amount": "500.00",
    }
    for field in ("policy_number", "billing_instructions", "copay_exclusions", "patient_name"):
        with pytest.raises(CardNumberRefused) as refused:
            gop_issue(case=case, data={**terms, field: SPELLINGS[spelling]}, actor=act(world.agent))
        assert list(refused.value.fields) == [field]
    response = Client().post(
        f"/api/v1/booking-requests/{case.order_id}/gops",
        {**terms, "billing_instructions": SPELLINGS[spelling]},
        content_type="application/json",
        headers=_api(world),
    )
    assert response.status_code == 422, response.content
    assert list(response.json()["fields"]) == ["billing_instructions"]
    assert not case.gops.exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_directory_refuses_it_on_the_field(world, spelling):
    client = _signed_in(world.staff)
    response = client.post(
        f"/staff/partners/{world.partner.pk}/edit/",
        {
            "name": world.partner.name,
            "kind": world.partner.kind,
            "is_affiliate": "on",
            "is_active": "on",
            "notes": f"Billing contact: card {SPELLINGS[spelling]}",
        },
    )
    form = response.context["form"]
    assert form.errors["notes"] == [str(CARD_NUMBER_MESSAGE)]
    assert not holds_card(form["notes"].value() or "")
    for call in (
        lambda: directory.location_update(
            location=world.location,
            data={"notes": SPELLINGS[spelling]},
            actor=act(world.staff),
        ),
        lambda: directory.partner_update(
            partner=world.partner, data={"contact_name": SPELLINGS[spelling]}, actor=act(None)
        ),
    ):
        with pytest.raises(CardNumberRefused):
            call()
    world.partner.refresh_from_db()
    world.location.refresh_from_db()
    assert not holds_card(world.partner.notes + world.location.notes + world.partner.contact_name)


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_quote_dispute_refuses_it_on_the_note(world, spelling):
    case = _awaiting_dates(world)
    response = Client().post(
        f"/api/v1/booking-requests/{case.order_id}/quote/dispute",
        {"note": f"Our contract says otherwise; pay with {SPELLINGS[spelling]}"},
        content_type="application/json",
        headers=_api(world),
    )
    assert response.status_code == 422, response.content
    assert list(response.json()["fields"]) == ["note"]
    assert quote_current(case=case).status == "awaiting_confirmation"
    with pytest.raises(CardNumberRefused):
        quote_dispute(
            quote=quote_current(case=case), actor=act(world.staff), note=SPELLINGS[spelling]
        )


def test_the_other_things_people_type_refuse_it_too(world):
    """The provider found in an escalation, a document's title and signer, an API key's name,
    the dates a clinic gives, a tax rate's source, a clinic's request about its appointment."""
    from medworks.accounts.services import api_key_create as make_key
    from medworks.billing.services import tax_rate_create
    from medworks.documents.services import document_upload
    from medworks.network.services import provider_record

    card = SPELLINGS["dots"]
    with pytest.raises(CardNumberRefused) as refused:
        provider_record(
            partner_data={"name": "Far North Clinic", "contact_phone": card},
            location_data={"name": "Far North Clinic", "notes": card},
            prices={},
            actor=act(world.manager),
        )
    assert set(refused.value.fields) == {"contact_phone", "notes"}
    case = _awaiting_dates(world)
    for title, signed_by, name in ((card, "", "a.pdf"), ("", card, "a.pdf"), ("", "", card)):
        with pytest.raises(CardNumberRefused):
            document_upload(
                case=case,
                kind="gop",
                file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"),
                filename=name,
                actor=act(world.agent),
                title=title,
                signed_by=signed_by,
            )
    with pytest.raises(CardNumberRefused):
        make_key(organisation=world.insurer, name=f"Key {card}", actor=act(None))
    with pytest.raises(CardNumberRefused):
        tax_rate_create(
            actor=act(world.staff),
            province="ON",
            tax_name="PST",
            rate=Decimal("0.05"),
            valid_from=dt.date(2030, 1, 1),
            source=card,
        )
    with pytest.raises(DomainError) as slots:
        bookings.availability_offer_record(
            case=case, slots=[factories.slot_data(practitioner=card)], actor=act(world.agent)
        )
    assert REFUSED in slots.value.fields["slots.0"][0]


# --- the whole way through, then everything is searched -------------------------------------------

# Columns the desk writes itself that are not text anyone typed: hashes, keys, tokens, sealed
# bytes. A digit run in a random hex string could pass the Luhn check by chance.
OPAQUE = {
    ("accounts", "user", "password"),
    ("accounts", "apikey", "secret_hash"),
    ("accounts", "apikey", "prefix"),
    ("accounts", "usersession", "session_key"),
    ("accounts", "usersession", "session_data"),
    ("sessions", "session", "session_key"),
    ("sessions", "session", "session_data"),
    ("documents", "documentversion", "sha256"),
    ("documents", "documentversion", "storage_name"),
    ("bookings", "idempotencykey", "request_fingerprint"),
    ("otp_totp", "totpdevice", "key"),
    ("otp_static", "statictoken", "token"),
    ("mailbox", "inboundemail", "raw_sealed"),
    ("mailbox", "inboundemail", "raw_sha256"),
    ("mailbox", "inboundemail", "message_id"),
}


def _leaves(value):
    """Each string or number of a JSON value on its own (so separate numbers are not joined)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _email_texts(raw: bytes):
    """An email's bytes as 8-bit text, and each header and text part decoded."""
    yield raw.decode("latin-1")
    yield raw.decode("utf-8", errors="replace")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for part in message.walk():
        for _name, value in part.items():
            yield str(value)
        if part.get_content_maintype() == "text":
            try:
                yield part.get_content()
            except (LookupError, UnicodeError):
                continue


def _found_in_database():
    found = []
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:  # a model whose migration is not written yet
            continue
        label = model._meta.app_label, model._meta.model_name
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(
                f, models.CharField | models.TextField | models.JSONField | models.BinaryField
            )
        ]
        fields = [f for f in fields if (*label, f.name) not in OPAQUE]
        if not fields:
            continue
        for row in model._default_manager.values_list("pk", *(f.attname for f in fields)):
            for field, value in zip(fields, row[1:], strict=True):
                if isinstance(field, models.BinaryField):
                    texts = list(_email_texts(bytes(value or b"")))
                elif isinstance(field, models.JSONField):
                    texts = list(_leaves(value))
                else:
                    texts = [value or ""]
                if any(holds_card(text) for text in texts):
                    found.append(f"{model._meta.label}.{field.name} (pk {row[0]})")
    return found


def _request_email(world) -> bytes:
    message = EmailMessage()
    message["From"] = "Ines Adjuster <adjuster@maple-assist.example>"
    message["To"] = "bookings@medworks.example"
    message["Subject"] = f"Booking CLM-2026-77 (card {SPELLINGS['dashes']})"
    message.set_content(
        "Patient: Jean Tremblay\n"
        "Postal code: M5V 3L9\n"
        "Claim CLM-2026-77, policy POL-778812\n"
        f"Please charge {SPELLINGS['spaces']} for the deposit.\n"
        f"Backup card {SPELLINGS['full-width digits']}\n",
        cte="base64",
    )
    message.add_alternative(
        "<p>Card <b>4111</b> <b>1111</b> <b>1111</b> <b>1111</b></p>", subtype="html"
    )
    message.add_attachment(f"Visa {SPELLINGS['amex 4-6-5']}", subtype="plain", filename="card.txt")
    return message.as_bytes()


def test_a_case_from_an_email_holding_card_numbers_leaves_none_anywhere(world, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger: every module's records
    agent = _signed_in(world.agent)
    insurer = _signed_in(world.insurer_user)
    api = Client()

    # Every door is tried with a card number first (each refused), then used properly.
    card = SPELLINGS["dots"]
    insurer.post("/portal/requests/new/", _portal_data(symptoms=card))
    api.post(
        "/api/v1/booking-requests",
        factories.booking_request_data(summary=card),
        content_type="application/json",
        headers=_api(world),
    )
    raw = _request_email(world)
    upload = SimpleUploadedFile("request.eml", raw, content_type="message/rfc822")
    read = agent.post(
        "/staff/bookings/new/", {"source_file": upload, "insurer": world.insurer.pk, "read": "1"}
    )
    assert "holds card numbers" in read.content.decode()
    assert not holds_card(read.content.decode())
    data = _portal_data(insurer_reference="CLM-2026-77", symptoms="Wrist pain after a fall.")
    data.update(
        insurer=world.insurer.pk,
        carried_name=read.context["carried_name"],
        carried_b64=read.context["carried_b64"],
    )
    created = agent.post("/staff/bookings/new/", data)
    assert created.status_code == 302, created.context and created.context["form"].errors
    case = BookingRequest.objects.get(insurer_reference="CLM-2026-77")

    # The original is kept masked, and the case says so to the team.
    kept = bytes(BookingRequest.objects.values_list("source_content", flat=True).get(pk=case.pk))
    assert kept and not any(holds_card(text) for text in _email_texts(kept))
    assert b"1111" in kept  # the last four digits stay, for the record
    flag = case.events.get(kind="source_card_masked")
    assert "1111" in flag.note and "0004" in flag.note
    staff_page = agent.get(f"/staff/bookings/{case.order_id}/").content.decode()
    assert "Card number masked in the original message" in staff_page

    # The case runs on, each step tried with a card number in its note first.
    take = agent.post(f"/staff/bookings/{case.order_id}/take/")
    assert take.status_code == 302
    agent.post(f"/staff/bookings/{case.order_id}/escalate/", {"note": card})
    bookings.booking_request_select_clinic(
        case=case, location=world.location, actor=act(world.agent)
    )
    api.post(
        f"/api/v1/booking-requests/{case.order_id}/quote/dispute",
        {"note": card},
        content_type="application/json",
        headers=_api(world),
    )
    gop_issue(
        case=case,
        data={
            "authorised_services": ["XRAY"],
            "valid_from": "2026-12-01",
            "valid_to": "2027-12-31",
            "max_amount": "500.00",
            "billing_instructions": "Invoice MedWorks quoting the claim number.",
        },
        actor=act(world.insurer_user),
    )
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(world.agent)
    )
    api.post(
        f"/api/v1/booking-requests/{case.order_id}/offers/decline",
        {"note": f"Paid by {card}"},
        content_type="application/json",
        headers=_api(world),
    )
    approved = api.post(
        f"/api/v1/booking-requests/{case.order_id}/offers/approve",
        {"slot_id": offer.slots.get().pk},
        content_type="application/json",
        headers=_api(world),
    )
    assert approved.status_code == 200, approved.content
    case.refresh_from_db()
    assert case.status == "booked"

    # The worker sends every email (the file backend writes each one).
    pending = list(OutboxMessage.objects.values_list("pk", flat=True))
    assert "sent" in {outbox_message_deliver(message_id=pk) for pk in pending}
    mail_files = list((world.tmp / "mail").glob("*.log"))
    assert mail_files

    # Now search everything.
    assert _found_in_database() == []
    for message in OutboxMessage.objects.all():
        texts = [message.subject, message.body, *message.to]
        texts += [str(a[2]) for a in message.attachments if isinstance(a[2], str)]
        assert not any(holds_card(text) for text in texts), message.template
    for path in mail_files:
        for text in _email_texts(path.read_bytes()):
            assert not holds_card(text), [
                text[m.start - 40 : m.end + 5] for m in find_card_numbers(text)
            ]
    records = caplog.records
    assert records  # the requests above were logged
    standard = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert not holds_card(text), (record.name, text[:200])
        # What a logger was given besides its message (extra=...), not the record's own
        # bookkeeping (a thread id is a long number, and may pass the Luhn check).
        extra = {k: v for k, v in vars(record).items() if k not in standard}
        assert not any(
            holds_card(leaf) for leaf in _leaves(json.loads(json.dumps(extra, default=str)))
        )


def test_a_spreadsheet_row_holding_a_card_number_is_refused_and_never_quoted(world):
    """The import lists the row and the column to fix; it never writes the row, nor says the
    number back (the report is shown and kept in the audit trail)."""
    import io

    from medworks.network.importing import directory_import
    from medworks.network.models import AffiliatePartner

    header = "Partner;Location;Province;Postal Code;Service;Price;Notes"
    rows = [
        f"Card Clinic;Card Clinic Main;ON;M5V 3L9;XRAY;120;Pay with {SPELLINGS['dots']}",
        f"Price Clinic;Price Clinic Main;ON;M5V 3L9;XRAY;{SPELLINGS['spaces']};",
    ]
    report = directory_import(
        file=io.BytesIO("\n".join([header, *rows]).encode()),
        filename="partners.csv",
        actor=act(world.staff),
    )
    errors = {r.row: r.errors for r in report.rejected}
    assert errors == {
        2: ["notes holds a card number: remove it"],
        3: ["price holds a card number: remove it"],
    }
    assert not AffiliatePartner.objects.filter(name__in=["Card Clinic", "Price Clinic"]).exists()
    assert _found_in_database() == []
