"""A card number is refused where it is typed (RULES.md, cards), as an error on that field: the
insurer portal, the JSON API (422) and the staff intake (which flags the email for the agent).
Nothing is stored, and no answer repeats the number."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest
from django import forms
from django.urls import reverse

from medworks.accounts.models import ApiKey
from medworks.accounts.services import PREFIX_LENGTH, api_key_hash
from medworks.bookings.forms import BookingRequestForm
from medworks.bookings.intake import guess_from_eml, guess_from_text
from medworks.bookings.models import BookingRequest, IdempotencyKey, Patient
from medworks.core.cards import contains_card_number
from tests import factories

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))
# How else people type it: every one is refused the same way.
CARD_SHAPES = [
    CARD,
    "4111.1111.1111.1111",
    "4111\n1111\n1111\n1111",
    CARD.translate(FULL_WIDTH),
]
REFUSED = "Card numbers are never typed here"
API_URL = "/api/v1/booking-requests"

TEXT_FIELDS = [
    name
    for name, field in BookingRequestForm.base_fields.items()
    if isinstance(field, forms.CharField)
]


def nothing_stored() -> bool:
    return not BookingRequest.objects.exists() and not Patient.objects.exists()


def holds_card(text: str) -> bool:
    return contains_card_number(text)


def api_texts(response) -> str:
    """Every message of an API error answer, as the client reads them."""
    body = response.json()
    return "\n".join([body["detail"], *(m for ms in body["fields"].values() for m in ms)])


def form_data(**overrides) -> dict:
    """A request as the form takes it (the use case joins the dates the API sends as a list)."""
    data = factories.booking_request_data(**overrides)
    if isinstance(data["preferred_dates"], list):
        data["preferred_dates"] = ",".join(data["preferred_dates"])
    return data


@pytest.fixture
def claims_system(insurer_user):
    """Maple Assist's claims system. The key row is made directly: what is under test is the
    request, not how keys are issued."""
    secret = secrets.token_urlsafe(32)
    ApiKey.objects.create(
        organisation=insurer_user.organisation,
        name="Claims system",
        prefix=secret[:PREFIX_LENGTH],
        secret_hash=api_key_hash(secret),
    )
    return SimpleNamespace(secret=secret, organisation=insurer_user.organisation)


def api_submit(client, key, data, **headers):
    return client.post(
        API_URL,
        data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {key.secret}", **headers},
    )


def portal_post(**overrides) -> dict:
    data = factories.booking_request_data(**overrides)
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data["notify_patient"] = "on"
    data.pop("paperwork_required")
    return data


# --- the form, every door's rules ------------------------------------------------------------


def test_every_free_text_field_is_covered():
    assert {"symptoms", "summary", "scheduling_notes", "insurer_reference", "policy_number"} <= set(
        TEXT_FIELDS
    )
    assert {"patient_first_name", "patient_address", "insurer_contact_phone"} <= set(TEXT_FIELDS)


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_card_number_in_any_text_field_is_an_error_on_that_field(name):
    form = BookingRequestForm(data=form_data(**{name: f"see {CARD} ok"}))

    assert not form.is_valid()
    assert list(form.errors) == [name]
    assert form.errors.as_data()[name][0].code == "card_number"
    assert REFUSED in form.errors[name][0]


@pytest.mark.parametrize("shape", CARD_SHAPES)
def test_a_card_number_in_the_symptoms_is_refused_however_it_is_typed(shape):
    form = BookingRequestForm(data=form_data(symptoms=f"card {shape}"))
    assert not form.is_valid()
    assert form.errors.as_data()["symptoms"][0].code == "card_number"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("services", [CARD_DIGITS]),  # an unknown service's message would quote it
        ("patient_province", CARD_DIGITS),  # so would a choice not offered
        ("preferred_dates", f"2026-12-14,{CARD}"),  # and a value that is not a date
        ("patient_date_of_birth", CARD_DIGITS),
    ],
)
def test_no_other_field_takes_one_or_repeats_it_in_its_error(name, value):
    form = BookingRequestForm(data=form_data(**{name: value}))
    assert not form.is_valid()
    assert form.errors.as_data()[name][0].code == "card_number"
    assert not holds_card(str(form.errors))


def test_ordinary_values_still_pass():
    form = BookingRequestForm(data=form_data(symptoms="Pain since 2026-11-30, call 416-555-0199."))
    assert form.is_valid(), form.errors


# --- the insurer portal -----------------------------------------------------------------------


def test_the_portal_refuses_a_card_number_in_the_symptoms_and_stores_nothing(client, insurer_user):
    client.force_login(insurer_user)

    response = client.post(
        reverse("web:portal_request_new"), portal_post(symptoms=f"Pay with {CARD}")
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.as_data()["symptoms"][0].code == "card_number"
    assert REFUSED in response.content.decode()
    assert nothing_stored()


def test_the_portal_checks_a_field_as_it_is_typed(client, insurer_user):
    client.force_login(insurer_user)
    response = client.post(
        reverse("web:portal_request_new"),
        {**portal_post(scheduling_notes=f"card {CARD}"), "_validate": "scheduling_notes"},
        HTTP_HX_REQUEST="true",
    )
    assert REFUSED in response.content.decode()
    assert nothing_stored()


# --- the API ----------------------------------------------------------------------------------


def test_the_api_answers_422_naming_the_field_and_stores_nothing(client, claims_system):
    data = factories.booking_request_data(summary=f"Deposit on card {CARD}, thanks")

    response = api_submit(client, claims_system, data)

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "request_invalid"
    assert list(body["fields"]) == ["summary"]
    assert REFUSED in body["fields"]["summary"][0]
    assert not holds_card(api_texts(response))
    assert nothing_stored()


@pytest.mark.parametrize("shape", CARD_SHAPES)
def test_the_api_refuses_each_shape_even_with_an_idempotency_key(client, claims_system, shape):
    data = factories.booking_request_data(patient_address=f"300 Front St W {shape}")

    response = api_submit(client, claims_system, data, **{"Idempotency-Key": "k-1"})

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["patient_address"]
    assert nothing_stored()
    assert not IdempotencyKey.objects.exists()


def test_the_api_refuses_a_card_number_given_as_a_service(client, claims_system):
    data = factories.booking_request_data(services=["XRAY", CARD])
    response = api_submit(client, claims_system, data)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["services"]
    assert not holds_card(api_texts(response))
    assert nothing_stored()


# --- email intake -----------------------------------------------------------------------------

EML = (
    'From: "Ines Adjuster" <ines.adjuster@maple-assist.example>\r\n'
    "To: bookings@medworks.example\r\n"
    "Subject: Booking request - Claim 4111-1111-1111-1111\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Please book a wrist X-ray.\r\n"
    "Patient: Jean Tremblay\r\n"
    "Address: 300 Front St W, Toronto ON M5V 3L9\r\n"
    "Policy number: 5555.5555.5555.4444\r\n"
    f"Deposit card {CARD.translate(FULL_WIDTH)} exp 12/28\r\n"
).encode()


def test_intake_proposes_no_card_number_and_flags_the_message():
    guess = guess_from_eml(EML)

    initial = guess.initial()
    assert initial["patient_first_name"] == "Jean"
    assert initial["patient_postal_code"] == "M5V 3L9"
    assert "insurer_reference" not in initial  # the "claim" was a card number
    assert "policy_number" not in initial  # so was the "policy"
    assert not any(holds_card(v) or "5555" in v for v in initial.values())
    assert [m.last4 for m in guess.card_numbers] == ["1111", "4444", "1111"]
    [note] = [n for n in guess.notes if "card number" in n]
    assert "ending 1111, 4444" in note
    assert not holds_card(guess.body) and not holds_card(guess.subject)


def test_intake_does_not_propose_a_sender_name_that_is_a_card_number():
    raw = (
        b'From: "4111 1111 1111 1111" <claims@maple-assist.example>\r\n'
        b"Subject: New case\r\n\r\nPatient: Jean Tremblay\r\n"
    )
    guess = guess_from_eml(raw)
    assert guess.contact_name == ""
    assert guess.contact_email == "claims@maple-assist.example"
    assert any("ending 1111" in n for n in guess.notes)


def test_pasted_text_with_a_card_number_is_flagged_too():
    guess = guess_from_text(f"Claim {CARD_DIGITS}\nPatient: Jean Tremblay")
    assert "insurer_reference" not in guess.initial()
    assert len(guess.card_numbers) == 1
    assert any("card number" in n for n in guess.notes)


def test_a_message_without_card_numbers_gets_no_card_note():
    guess = guess_from_text("Claim CLM-2026-0042\nPatient: Jean Tremblay\nPhone 416-555-0199")
    assert guess.card_numbers == []
    assert not any("card number" in n for n in guess.notes)


def test_the_intake_page_shows_the_agent_the_warning(client, booking_agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(booking_agent)
    response = client.post(
        reverse("web:staff_booking_new"),
        {"read": "1", "source_file": SimpleUploadedFile("req.eml", EML)},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "This message holds card numbers (ending 1111, 4444)" in page
    assert not any(holds_card(str(v)) for v in response.context["form"].initial.values())
    assert nothing_stored()


def test_a_line_break_in_a_single_line_field_is_refused_on_that_field():
    from medworks.bookings.services import booking_request_clean
    from medworks.core.errors import DomainError
    from tests import factories as f

    for value in ("CLM-1\rBcc: x@example.com", "CLM-1\nnext", "CLM\x07"):
        with pytest.raises(DomainError) as refused:
            booking_request_clean(data=f.booking_request_data(insurer_reference=value))
        assert list(refused.value.fields) == ["insurer_reference"]
    # Free text keeps its lines.
    cleaned = booking_request_clean(data=f.booking_request_data(symptoms="Pain.\nSince Monday."))
    assert cleaned["symptoms"] == "Pain.\nSince Monday."


def test_an_email_subject_is_one_line_whatever_the_data():
    from medworks.notifications.services import email_queue

    message = email_queue(
        to=["a@example.com"],
        template="request_received",
        context={"order_id": "MW-1", "insurer_reference": "A\rB\nC", "services": []},
    )
    assert "\r" not in message.subject and "\n" not in message.subject
