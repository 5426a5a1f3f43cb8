"""The order to finance (SOP case 2 step 3): at booking with a pre-paid provider, the booking
team sends finance the insurer's contact, the charges, the card on file (masked: none yet), the
patient's name and Canadian address and what is required, with the order as a PDF; both are
kept on the case. Never a card number."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from medworks.billing import order_pdf
from medworks.billing.orders import card_reference, order_send, order_sheet
from medworks.billing.quotes import quote_confirm, quote_dispute, quote_prepare, quote_supersede
from medworks.billing.selectors import prepayment_needed, quote_current
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingEvent, BookingRequest
from medworks.bookings.selectors import insurer_timeline
from medworks.core.cards import contains_card_number
from medworks.core.errors import DomainError, PermissionDenied
from medworks.core.models import AuditEvent
from medworks.documents.models import Document, DocumentKind
from medworks.documents.services import document_open, document_upload
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import outbox_message_deliver
from tests import factories
from tests.factories import act
from tests.notifications.conftest import SMTPServer

pytestmark = pytest.mark.django_db

FINANCE = "finance-desk@medworks.example"
CARD = "4111 1111 1111 1111"  # Luhn-valid: the test Visa number


@pytest.fixture(autouse=True)
def document_store(settings, tmp_path):
    """Documents go to this test's own folder, through the real encrypting storage."""
    root = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "medworks.documents.storage.EncryptedFileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture(autouse=True)
def finance_address(settings):
    settings.MEDWORKS_FINANCE_EMAIL = FINANCE
    return FINANCE


@pytest.fixture
def finance_inbox(settings):
    """A real SMTP server (aiosmtpd, tests/notifications/conftest.py) for finance's mail."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


def provider(*, is_affiliate=False, accepts_prepayment=True, arrangements=("credit_card",)):
    """A provider in Sudbury (ON: HST 13%), an X-ray at $200 and an ultrasound at $150."""
    partner = factories.make_partner(
        name="Northern Imaging",
        is_affiliate=is_affiliate,
        accepts_prepayment=accepts_prepayment,
        billing_arrangements=list(arrangements),
        contact_email="billing@northern.example",
    )
    location = factories.make_location(
        partner=partner,
        name="Northern Imaging Sudbury",
        address="12 Elm Street",
        city="Sudbury",
        postal_code="P3E 1A1",
        phone="705-555-0123",
    )
    factories.make_offering(location=location, service_code="XRAY", price="200.00")
    factories.make_offering(location=location, service_code="ULTRASOUND", price="150.00")
    return location


def book(case, agent, insurer_user):
    """The insurer confirms the charges (a pre-paid provider's date waits for it), then its
    date is approved: booked."""
    quote = quote_current(case=case)
    if quote is not None:
        quote_confirm(quote=quote, actor=act(insurer_user))
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(agent)
    )
    bookings.availability_offer_approve(slot=offer.slots.get(), actor=act(agent))
    case.refresh_from_db()
    return case


def awaiting(location, insurer_user, agent):
    return factories.make_case_awaiting_dates(
        insurer=insurer_user.organisation,
        location=location,
        agent=agent,
        services=["XRAY", "ULTRASOUND"],
    )


@pytest.fixture
def prepaid_case(insurer_user, booking_agent):
    """Maple Assist's case (X-ray and ultrasound) booked with a pre-paid provider."""
    return book(awaiting(provider(), insurer_user, booking_agent), booking_agent, insurer_user)


def nothing_sent(case):
    assert not Document.objects.filter(request=case, kind=DocumentKind.ORDER).exists()
    assert not OutboxMessage.objects.filter(template="order_to_finance").exists()
    assert not BookingEvent.objects.filter(request=case, kind="order_sent").exists()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def stored(version, agent) -> bytes:
    data, content_type, _name = document_open(version=version, actor=act(agent))
    assert content_type == "application/pdf"
    return data


# --- Sent ----------------------------------------------------------------------------------------


def test_the_order_email_goes_to_finance_with_the_sops_contents(prepaid_case, booking_agent):
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    message = sent.message
    assert message.to == [FINANCE] and message.template == "order_to_finance"
    assert message.language == "en"
    assert message.subject == f"Order {prepaid_case.order_id}: pre-payment to Northern Imaging"
    body = message.body
    # The insurance partner's contact details
    for text in (
        "Insurer: Maple Assist",
        "Contact: Ines Adjuster",
        "Email: adjuster@maple-assist.example",
        "Phone: 416-555-0100",
        f"Insurer's reference: {prepaid_case.insurer_reference}",
        "Policy number: POL-778812",
    ):
        assert text in body, text
    # The confirmation of charges: the quote table, the tax, the total
    assert "Quote version 1: confirmed. Confirmed by the insurer: $593.25," in body
    assert "X-ray: clinic cost $200.00, MedWorks cost $100.00, total $300.00" in body
    assert "Ultrasound: clinic cost $150.00, MedWorks cost $75.00, total $225.00" in body
    assert "Subtotal: clinic cost $350.00, MedWorks cost $175.00, total $525.00" in body
    assert "HST (13%): $68.25" in body
    assert "Total to bill the insurer: $593.25" in body
    # The card: none on file yet, and never a number
    assert "Card on file: none yet" in body
    # The patient's name and Canadian address
    assert "Jean Tremblay\n300 Front Street West\nToronto ON M5V 3L9" in body
    # What is required, with the insurer's symptoms
    assert "Services: Ultrasound, X-ray" in body
    assert "Wrist X-ray, two views." in body
    assert "Symptoms reported by the insurer:\nPain in the left wrist after a fall." in body
    # The provider to pre-pay and the appointment
    assert "Provider: Northern Imaging" in body
    assert "Northern Imaging Sudbury, 12 Elm Street, Sudbury ON P3E 1A1" in body
    assert "Provider outside the network; Pre-payment by credit card" in body
    assert "When: " in body and "(E" in body  # the clinic's time, its zone written out
    assert f"/staff/bookings/{prepaid_case.order_id}/" in body
    assert "{{" not in body and "{%" not in body
    # The PDF, attached by reference to the version stored on the case
    version = sent.version
    assert message.attachments == [
        [
            f"{prepaid_case.order_id}-order.pdf",
            "application/pdf",
            {"source": "document_version", "ref": str(version.uuid)},
        ]
    ]


def test_the_pdf_is_stored_on_the_case_and_reads_back_as_the_order(prepaid_case, booking_agent):
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    version = sent.version
    document = version.document
    assert (document.kind, document.request_id, version.number) == (
        DocumentKind.ORDER,
        prepaid_case.pk,
        1,
    )
    assert (version.content_type, version.uploaded_by, version.uploaded_by_party) == (
        "application/pdf",
        booking_agent,
        "staff",
    )
    data = stored(version, booking_agent)
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == version.sha256
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == f"Order {prepaid_case.order_id}"
    assert "Tremblay" not in str(dict(reader.metadata))  # no patient in the metadata
    text = pdf_text(data)
    for expected in (
        f"Order {prepaid_case.order_id}",
        "Insurance partner",
        "Maple Assist",
        "Ines Adjuster",
        "adjuster@maple-assist.example",
        "416-555-0100",
        "POL-778812",
        "Service Requested",
        "Clinic Cost",
        "MedWorks Cost",
        "Total Cost (Clinic Cost + MedWorks Cost)",
        "X-ray $200.00 $100.00 $300.00",
        "Ultrasound $150.00 $75.00 $225.00",
        "Subtotal $350.00 $175.00 $525.00",
        "HST (13%) $68.25",
        "Total to bill the insurer $593.25",
        "Card on file: none yet",
        "Jean Tremblay",
        "300 Front Street West Toronto ON M5V 3L9",
        "Wrist X-ray, two views.",
        "Pain in the left wrist after a fall.",
        "Northern Imaging Sudbury, 12 Elm Street",
        "Pre-payment by credit card",
        f"order {prepaid_case.order_id} · page 1",
    ):
        assert expected in text, expected


def test_the_send_is_an_event_on_the_staff_timeline_only_and_an_audit_row(
    prepaid_case, booking_agent
):
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    event = sent.event
    assert (event.kind, event.actor, event.label) == (
        "order_sent",
        booking_agent,
        "Order sent to finance",
    )
    assert event.payload["version_id"] == sent.version.pk
    assert event.payload["outbox_id"] == sent.message.pk
    assert (event.payload["quote_version"], event.payload["total"]) == (1, "593.25")
    assert event.payload["to"] == [FINANCE]
    assert AuditEvent.objects.filter(action="order.sent", object_id=str(sent.version.pk)).exists()
    # The insurer's timeline tells neither the order nor its stored PDF.
    assert prepaid_case.events.filter(kind="document_uploaded", payload__kind="order").exists()
    kinds = {entry.kind for entry in insurer_timeline(case=prepaid_case)}
    assert "quote_confirmed" in kinds  # the insurer's timeline is there, without the order
    assert "order_sent" not in kinds and "document_uploaded" not in kinds


def test_sending_again_after_the_quote_changed_makes_version_2_and_a_second_email(
    prepaid_case, booking_agent
):
    first = order_send(case=prepaid_case, actor=act(booking_agent))
    revise(prepaid_case, booking_agent)

    second = order_send(case=prepaid_case, actor=act(booking_agent))

    assert second.version.document_id == first.version.document_id
    assert second.version.number == 2
    assert Document.objects.filter(request=prepaid_case, kind=DocumentKind.ORDER).count() == 1
    emails = list(OutboxMessage.objects.filter(template="order_to_finance").order_by("pk"))
    assert [m.pk for m in emails] == [first.message.pk, second.message.pk]
    # 220 + 110 + 150 + 75 = 555.00; HST 72.15; 627.15
    # The revised charges are told as not confirmed yet.
    assert "Quote version 2: awaiting confirmation." in emails[1].body
    assert "Total to bill the insurer: $627.15" in emails[1].body
    assert "$627.15" in pdf_text(stored(second.version, booking_agent))
    # The first order stays, as it was sent.
    assert "$593.25" in pdf_text(stored(first.version, booking_agent))
    assert prepaid_case.events.filter(kind="order_sent").count() == 2


def revise(case, agent, xray_cost="220.00"):
    """The clinic's X-ray cost changes after booking: quote version 2, awaiting confirmation."""
    xray = factories.service("XRAY")
    return quote_prepare(case=case, actor=act(agent), clinic_costs={xray.pk: Decimal(xray_cost)})


def test_the_order_pdf_arrives_intact_through_a_real_smtp_server(
    prepaid_case, booking_agent, finance_inbox
):
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    assert outbox_message_deliver(message_id=sent.message.pk) == "sent"

    (received,) = finance_inbox.received
    assert received.rcpt_tos == [FINANCE]
    assert received.subject == sent.message.subject
    assert "Total to bill the insurer: $593.25" in received.body
    attachment = next(received.message.iter_attachments())
    assert attachment.get_filename() == f"{prepaid_case.order_id}-order.pdf"
    assert attachment.get_content_type() == "application/pdf"
    data = attachment.get_content()
    assert hashlib.sha256(data).hexdigest() == sent.version.sha256
    assert f"Order {prepaid_case.order_id}" in pdf_text(data)


# --- Refused -----------------------------------------------------------------------------------


def test_a_case_not_booked_yet_gets_no_order(insurer_user, booking_agent):
    case = awaiting(provider(), insurer_user, booking_agent)

    with pytest.raises(DomainError) as caught:
        order_send(case=case, actor=act(booking_agent))

    assert caught.value.code == "order_not_booked"
    assert "once the appointment is booked" in caught.value.message
    nothing_sent(case)


def test_a_provider_that_bills_directly_gets_no_order(insurer_user, booking_agent):
    direct = provider(is_affiliate=True, accepts_prepayment=True, arrangements=["direct_billing"])
    case = book(awaiting(direct, insurer_user, booking_agent), booking_agent, insurer_user)

    with pytest.raises(DomainError) as caught:
        order_send(case=case, actor=act(booking_agent))

    assert caught.value.code == "order_not_prepaid"
    nothing_sent(case)


def test_a_cancelled_case_gets_no_order(prepaid_case, booking_agent):
    bookings.booking_request_cancel(
        case=prepaid_case, actor=act(booking_agent), cancelled_by="insurer", note="Not needed."
    )
    prepaid_case.refresh_from_db()

    with pytest.raises(DomainError) as caught:
        order_send(case=prepaid_case, actor=act(booking_agent))

    assert caught.value.code == "order_case_ended"
    nothing_sent(prepaid_case)


def test_a_case_without_a_quote_gets_no_order(prepaid_case, booking_agent):
    quote_supersede(case=prepaid_case, actor=act(booking_agent), reason="clinic_changed")
    assert quote_current(case=prepaid_case) is None

    with pytest.raises(DomainError) as caught:
        order_send(case=prepaid_case, actor=act(booking_agent))

    assert caught.value.code == "order_quote_missing"
    nothing_sent(prepaid_case)


def test_a_disputed_quote_is_revised_before_the_order(prepaid_case, booking_agent, insurer_user):
    revised = revise(prepaid_case, booking_agent)
    quote_dispute(quote=revised, actor=act(insurer_user), note="Too high")

    with pytest.raises(DomainError) as caught:
        order_send(case=prepaid_case, actor=act(booking_agent))

    assert caught.value.code == "order_quote_disputed"
    assert "version 2" in caught.value.message
    nothing_sent(prepaid_case)


@pytest.mark.parametrize("persona", ["finance_user", "insurer_user", "clinic_user", None])
def test_only_the_booking_team_sends_the_order(request, prepaid_case, persona):
    actor = act(request.getfixturevalue(persona) if persona else None)

    with pytest.raises(PermissionDenied) as caught:
        order_send(case=prepaid_case, actor=actor)

    assert caught.value.code == "order_forbidden"
    nothing_sent(prepaid_case)


@pytest.mark.parametrize(
    ("is_affiliate", "accepts_prepayment", "arrangements", "needed"),
    [
        (False, False, [], True),  # outside the network: found to be pre-paid
        (False, True, ["direct_billing"], True),
        (True, True, ["credit_card", "eft"], True),
        (True, True, ["credit_card", "direct_billing"], False),  # billing wins (SOP case 4)
        (True, False, ["direct_billing"], False),
        (True, False, [], False),
    ],
)
def test_prepayment_needed_is_one_rule_on_the_provider(
    insurer_user, booking_agent, is_affiliate, accepts_prepayment, arrangements, needed
):
    location = provider(
        is_affiliate=is_affiliate, accepts_prepayment=accepts_prepayment, arrangements=arrangements
    )
    case = awaiting(location, insurer_user, booking_agent)

    assert prepayment_needed(case) is needed


def test_no_clinic_yet_no_prepayment(insurer_user):
    case = factories.make_booking_request(insurer=insurer_user.organisation)

    assert prepayment_needed(case) is False


# --- Cards ---------------------------------------------------------------------------------------


def test_no_card_number_or_security_code_is_in_the_email_or_the_pdf(prepaid_case, booking_agent):
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    assert card_reference(prepaid_case) is None
    text = pdf_text(stored(sent.version, booking_agent))
    for part in (sent.message.subject, sent.message.body, text):
        assert not contains_card_number(part)
        assert "Card on file: none yet" in part or part == sent.message.subject


def test_a_card_number_left_in_the_symptoms_refuses_the_order_and_stores_nothing(
    prepaid_case, booking_agent, document_store
):
    # Written past the intake's own card guard (as old data or a careless import would be).
    BookingRequest.objects.filter(pk=prepaid_case.pk).update(
        symptoms=f"Wrist pain. Pay with card {CARD}, exp 12/29, CVV 123."
    )

    with pytest.raises(DomainError) as caught:
        order_send(case=prepaid_case, actor=act(booking_agent))

    assert caught.value.code == "email_contains_card_number"
    nothing_sent(prepaid_case)
    assert [p for p in document_store.rglob("*") if p.is_file()] == []  # no orphan file


def test_the_pdf_scans_every_text_it_draws_for_a_card_number(prepaid_case, booking_agent):
    sheet = order_sheet(
        case=prepaid_case,
        quote=quote_current(case=prepaid_case),
        actor=act(booking_agent),
        sent_at=timezone.now(),
    )
    assert order_pdf.render(sheet).startswith(b"%PDF-")
    # A field only the PDF's provider block shows, with the number typed with dots.
    careless = dataclasses.replace(sheet, provider_contact="4111.1111.1111.1111")

    with pytest.raises(DomainError) as caught:
        order_pdf.render(careless)

    assert caught.value.code == "email_contains_card_number"


def test_data_never_becomes_pdf_markup(prepaid_case, booking_agent):
    sheet = order_sheet(
        case=prepaid_case,
        quote=quote_current(case=prepaid_case),
        actor=act(booking_agent),
        sent_at=timezone.now(),
    )
    tricky = dataclasses.replace(sheet, summary="<b>bold</b> & <font size=40>big</font>")

    assert "<b>bold</b> & <font size=40>big</font>" in pdf_text(order_pdf.render(tricky))


# --- Staff only ----------------------------------------------------------------------------------


def test_insurers_and_clinics_never_see_the_order_document(
    prepaid_case, booking_agent, insurer_user
):
    clinic_user = factories.make_user(
        roles=["clinic_user"], organisation=factories.make_organisation(kind="affiliate")
    )
    location = prepaid_case.location
    location.partner.organisation = clinic_user.organisation
    location.partner.save()
    sent = order_send(case=prepaid_case, actor=act(booking_agent))

    for user in (insurer_user, clinic_user):
        assert not Document.objects.for_user(user).filter(pk=sent.version.document_id).exists()
    assert Document.objects.for_user(booking_agent).filter(pk=sent.version.document_id).exists()


def test_nobody_uploads_an_order_by_hand(prepaid_case, booking_agent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.documents import samples

    with pytest.raises(PermissionDenied) as caught:
        document_upload(
            case=prepaid_case,
            kind=DocumentKind.ORDER,
            file=SimpleUploadedFile("order.pdf", samples.pdf("Fake order")),
            filename="order.pdf",
            actor=act(booking_agent),
        )

    assert caught.value.code == "document_kind_forbidden"
    assert "stored when the order is sent" in caught.value.message
