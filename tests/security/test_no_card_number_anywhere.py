"""No card number anywhere after a whole pre-payment flow (RULES.md, cards; the issue: "a test
runs a whole payment flow, then scans every database table and column, every log line, every
email in the outbox, every file written and every page rendered for Luhn-valid digit runs of
13-19 digits, and fails on one").

Through the pages, with every log record captured at DEBUG and the documents and the mail
written to this test's own folder: the insurer enters its Visa in its portal (after a refused
try), staff enter a Mastercard for another case on the phone, the booking team prepares the
payment request (paid with the insurer's card), the Chief of Staff reviews it, the CEO
approves it, the Chief of Staff shows the card for the payment call, the booking team records
the payment, finance issues the insurer's invoice and charges the card from the invoice page,
the booking team sends the order to finance, the worker sends every email.

Then everything is searched with the one finder (core/cards.py): every column of every row of
every model, every log record, every outbox message and its attachments, every file written
(as stored, and decrypted), every page rendered. The one page that shows the number is the
reveal's answer: it did show it (so the search is not blind), and it was the only one.
"""

from __future__ import annotations

import io
import json
import logging
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from medworks.accounts.models import RoleCode
from medworks.billing.models import Invoice, InvoiceStatus, PaymentReceived
from medworks.billing.receivables import invoice_balance
from medworks.core.cards import contains_card_number, find_card_numbers
from medworks.documents.services import document_storage
from medworks.network.models import BillingArrangement
from medworks.notifications.models import OutboxMessage
from medworks.notifications.services import _attachment_content, outbox_message_deliver
from medworks.payments.gateway import OfflineGateway
from medworks.payments.models import (
    CardCharge,
    ChargeStatus,
    PaymentRequest,
    PaymentRequestStatus,
    StoredCard,
)
from tests import factories
from tests.billing.invoicing import ready_case
from tests.security.test_card_numbers_everywhere import OPAQUE as OPAQUE_ELSEWHERE
from tests.web.documents_world import document_store  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

VISA, VISA_DIGITS = "4111 1111 1111 1111", "4111111111111111"
MASTERCARD = "5555555555554444"
# What the desk writes itself and nobody types: hashes, keys, tokens (a digit run in random
# hex may pass the Luhn check by chance), on top of those of the other card test.
OPAQUE = OPAQUE_ELSEWHERE | {("payments", "paymentrequest", "fingerprint")}
# Random identifiers inside texts (uuid4 hex, sha256 digests, CSRF tokens): not typed by
# anyone, blanked before the search for the same reason.
_RANDOM = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
    r"|\b(?=[0-9a-f]*[a-f])[0-9a-f]{32,128}\b"
    r'|name="csrfmiddlewaretoken" value="[^"]*"'
)


def holds_card(text) -> bool:
    return contains_card_number(_RANDOM.sub(" ", str(text)))


def where(text: str) -> list[str]:
    text = _RANDOM.sub(" ", text)
    return [f"…{text[max(m.start - 40, 0) : m.start]}[{m.masked}]" for m in find_card_numbers(text)]


# --- What is searched ------------------------------------------------------------------------


class RecordingClient(Client):
    """A test client that keeps every answer it got (redirects followed included)."""

    def __init__(self, pages: list, **kwargs):
        super().__init__(**kwargs)
        self.pages = pages

    def request(self, **request):
        response = super().request(**request)
        self.pages.append((f"{request['REQUEST_METHOD']} {request['PATH_INFO']}", response))
        return response


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _texts_of_bytes(data: bytes):
    """Bytes as 8-bit text and as UTF-8; a PDF as a reader shows it (its text and its
    metadata but its dates: its raw bytes are compressed streams and a table of byte
    offsets, runs of zero-padded digits that are nobody's card, and a date written
    D:YYYYMMDDHHmmSS is 14 digits that pass the Luhn check one time in ten)."""
    if data.startswith(b"%PDF"):
        reader = PdfReader(io.BytesIO(data))
        yield "\n".join(page.extract_text() for page in reader.pages)
        metadata = reader.metadata or {}
        yield " ".join(f"{k} {v}" for k, v in metadata.items() if not k.endswith("Date"))
        return
    yield data.decode("latin-1")
    yield data.decode("utf-8", errors="replace")


def _texts_of_email(raw: bytes):
    yield from _texts_of_bytes(raw)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for part in message.walk():
        for _name, value in part.items():
            yield str(value)
        if part.is_multipart():
            continue
        content = part.get_payload(decode=True) or b""
        yield from _texts_of_bytes(content)


def _leaves(value):
    """Each string or number of a JSON value on its own (separate numbers are not joined)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _found_in_database() -> tuple[list[str], int]:
    """Where a card number is stored (model.field and pk), and how many binary values held
    sealed bytes (ciphertext, not text)."""
    found, sealed = [], 0
    tables = set(connection.introspection.table_names())
    for model in apps.get_models():
        if model._meta.db_table not in tables:
            continue
        label = model._meta.app_label, model._meta.model_name
        fields = [f for f in model._meta.concrete_fields if (*label, f.name) not in OPAQUE]
        for row in model._default_manager.values_list("pk", *(f.attname for f in fields)):
            for field, value in zip(fields, row[1:], strict=True):
                if value is None:
                    continue
                if isinstance(field, models.BinaryField):
                    data = bytes(value)
                    try:
                        texts = [data.decode("utf-8")]  # text kept as bytes: searched
                    except UnicodeDecodeError:
                        sealed += 1  # vault ciphertext: what it decodes to is searched
                        texts = [data.decode("utf-8", errors="replace")]
                elif isinstance(field, models.JSONField):
                    texts = list(_leaves(value))
                else:
                    texts = [str(value)]
                if any(holds_card(text) for text in texts):
                    found.append(f"{model._meta.label}.{field.name} (pk {row[0]})")
    return found, sealed


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- The people and the cases ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_gateway():
    OfflineGateway.reset()
    yield
    OfflineGateway.reset()


@pytest.fixture
def chief(db):
    return factories.make_user(
        roles=[RoleCode.CHIEF_OF_STAFF], username="chief", email="chief@medworks.example"
    )


@pytest.fixture
def ceo(db):
    return factories.make_user(roles=[RoleCode.CEO], username="ceo", email="ceo@medworks.example")


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


@pytest.fixture
def cases(insurer_user, booking_agent, finance_user):
    """Two cases of the insurer user's organisation at a clinic pre-paid with the insurer's
    card (clinic cost 120.00, MedWorks cost 60.00, HST 13%), seen and ready for billing."""
    partner = factories.make_partner(
        name="Lakeview Physio",
        accepts_prepayment=True,
        billing_arrangements=[BillingArrangement.INSURER_CARD, BillingArrangement.CREDIT_CARD],
    )
    location = factories.make_location(partner=partner, name="Lakeview Physio Main")
    factories.make_offering(location=location, service_code="XRAY", price="120.00")
    insurer = insurer_user.organisation
    return (
        ready_case(insurer=insurer, location=location, agent=booking_agent),
        ready_case(insurer=insurer, location=location, agent=booking_agent),
    )


def _card(number, code, name="Isabel Insurer"):
    return {
        "card-number": number,
        "card-name_on_card": name,
        "card-expiry_month": "08",
        "card-expiry_year": str(timezone.localdate().year + 2),
        "card-security_code": code,
    }


def _key_of(html: str) -> str:
    section = html.split('data-testid="invoice-card-charge"', 1)[1]
    return re.search(r'name="idempotency_key" value="([^"]+)"', section).group(1)


def test_a_whole_payment_flow_leaves_no_card_number_anywhere(
    caplog,
    document_store,  # noqa: F811
    mail_dir,
    cases,
    insurer_user,
    booking_agent,
    chief,
    ceo,
    finance_user,
):
    caplog.set_level(logging.DEBUG)  # the root logger: every module's records
    for name in list(logging.root.manager.loggerDict):  # and those set quieter by LOGGING
        caplog.set_level(logging.DEBUG, logger=name)
    case, other = cases
    pages: list = []

    def signed_in(user) -> RecordingClient:
        client = RecordingClient(pages)
        client.force_login(user)
        return client

    insurer, agent = signed_in(insurer_user), signed_in(booking_agent)
    boss, top, finance = signed_in(chief), signed_in(ceo), signed_in(finance_user)

    # The insurer enters its card in its portal, first tries refused (a security code too
    # short; the number typed in the security code's box): nothing kept, nothing said back.
    # (The number typed in the name is tested in tests/web/test_card_pages.py: its refusal
    # still says it back, a known bug.)
    insurer.get(reverse("web:portal_request", args=[case.order_id]))
    card_url = reverse("web:portal_card", args=[case.order_id])
    insurer.get(card_url)
    for refused_try in (_card(VISA, "12"), _card("", VISA)):
        refused = insurer.post(card_url, refused_try)
        assert refused.status_code == 400
    assert not StoredCard.objects.exists()
    entered = insurer.post(card_url, _card(VISA, "737"), follow=True)
    assert "Visa ending in 1111 is on file" in entered.content.decode()
    insurer.get(card_url)

    # Staff enter another case's card while on the phone with the insurer.
    agent.get(reverse("web:staff_card", args=[other.order_id]))
    phoned = agent.post(
        reverse("web:staff_card_enter", args=[other.order_id]),
        _card(MASTERCARD, "321"),
        follow=True,
    )
    assert "Mastercard ending in 4444 is on file." in phoned.content.decode()

    # The payment request: prepared from the case's page, reviewed, approved.
    case_page = agent.get(reverse("web:staff_booking_detail", args=[case.order_id]))
    assert "Prepare the payment request" in case_page.content.decode()
    new = reverse("web:payment_request_new") + f"?case={case.order_id}"
    agent.get(new)
    made = agent.post(
        new, {"new-order_ids": case.order_id, "new-method": "insurer_card"}, follow=True
    )
    payment_request = PaymentRequest.objects.get()
    assert made.redirect_chain[-1][0] == reverse(
        "web:payment_request_detail", args=[payment_request.pk]
    )

    def step(name):
        return reverse("web:payment_request_step", args=[payment_request.pk, name])

    agent.post(step("submit"), follow=True)
    boss.get(reverse("web:payment_request_list"))
    boss.post(step("review"), follow=True)
    top.get(reverse("web:payment_request_list"))
    top.post(step("approve"), follow=True)
    payment_request.refresh_from_db()
    assert payment_request.status == PaymentRequestStatus.APPROVED

    # The payment call: the Chief of Staff shows the card (the one page that holds it).
    boss.get(reverse("web:staff_card", args=[case.order_id]))
    reveal = boss.post(
        reverse("web:staff_card_reveal", args=[case.order_id]),
        {"reveal-reason": "Payment call with Lakeview Physio"},
    )
    assert reveal.status_code == 200
    boss.get(reverse("web:staff_card", args=[case.order_id]))

    # The booking team records the payment the clinic took on the insurer's card.
    paid = agent.post(
        reverse("web:payment_made", args=[payment_request.pk]),
        {
            "paid-paid_on": timezone.localdate().isoformat(),
            "paid-amount": "120.00",
            "paid-participants": "Alex, Chris (Chief of Staff), Dana at the clinic",
            "paid-confirmation": "AUTH-5521",
        },
        follow=True,
    )
    assert "confirmation AUTH-5521" in re.sub(r"\s+", " ", paid.content.decode())
    payment_request.refresh_from_db()
    assert payment_request.status == PaymentRequestStatus.PAID

    # The clinic's charge is authorised: the security code is destroyed; the number stays
    # sealed for MedWorks' charge of what the insurer still owes (the fee and tax).
    first = StoredCard.objects.get(case=case)
    assert first.security_code_sealed is None and first.number_sealed is not None

    # Finance issues the insurer's invoice and charges the card from the invoice page.
    finance.get(reverse("web:staff_booking_detail", args=[case.order_id]))
    drafted = finance.post(reverse("web:invoice_draft_for_case", args=[case.order_id]), follow=True)
    invoice = Invoice.objects.get()
    assert drafted.redirect_chain[-1][0] == reverse("web:invoice_detail", args=[invoice.pk])
    finance.post(reverse("web:invoice_issue", args=[invoice.pk]), follow=True)
    detail = finance.get(reverse("web:invoice_detail", args=[invoice.pk]))
    key = _key_of(detail.content.decode())
    charged = finance.post(
        reverse("web:invoice_card_charge", args=[invoice.pk]),
        {"idempotency_key": key},
        follow=True,
    )
    assert "Visa ending in 1111 charged" in charged.content.decode()
    charge = CardCharge.objects.get()
    assert charge.status == ChargeStatus.SUCCEEDED
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice_balance(invoice) == 0
    assert PaymentReceived.objects.filter(method="card").exists()
    finance.get(reverse("web:invoice_pdf_download", args=[invoice.pk]))
    insurer.get(reverse("web:portal_invoice", args=[invoice.pk]))

    # The booking team sends the order to finance: its email and PDF hold the card masked.
    sent = agent.post(reverse("web:staff_order_send", args=[case.order_id]), follow=True)
    assert "The order is sent to finance" in sent.content.decode()
    order = OutboxMessage.objects.get(template="order_to_finance")
    assert "Visa ending in 1111" in order.body
    order_pdf = _attachment_content(order.attachments[0][2])
    assert "Visa ending in 1111" in re.sub(r"\s+", " ", _pdf_text(order_pdf))

    # The worker sends every email; the file backend writes each one.
    for pk in OutboxMessage.objects.values_list("pk", flat=True):
        assert outbox_message_deliver(message_id=pk) == "sent"
    mail_files = _files_under(mail_dir)
    assert mail_files

    # The vault still holds the other case's card, sealed; this case's is gone.
    assert StoredCard.objects.get(case=other).number_sealed is not None
    assert not StoredCard.objects.filter(case=case, number_sealed__isnull=False).exists()

    # --- Now search everything ---------------------------------------------------------------

    # The database: every column of every row of every model.
    found, sealed = _found_in_database()
    assert found == []
    assert sealed >= 2  # the Mastercard's number and security code, as ciphertext

    # Every log record: its message, its arguments, whatever it was given besides.
    records = caplog.records
    assert records
    standard = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        assert not holds_card(text), (record.name, where(text))
        assert not any(holds_card(leaf) for leaf in _leaves(record.args)), record.name
        extra = {k: v for k, v in vars(record).items() if k not in standard}
        leaves = _leaves(json.loads(json.dumps(extra, default=str)))
        assert not any(holds_card(leaf) for leaf in leaves), record.name

    # Every email in the outbox, its attachments read as they are sent.
    messages = list(OutboxMessage.objects.all())
    assert {"order_to_finance", "payment_request_review"} <= {m.template for m in messages}
    for message in messages:
        texts = [message.subject, message.body, *message.to]
        for _filename, _type, content in message.attachments:
            body = _attachment_content(content)
            texts += [body] if isinstance(body, str) else list(_texts_of_bytes(body))
        assert not any(holds_card(text) for text in texts), (
            message.template,
            [where(text) for text in texts],
        )

    # Every file written: the mail files (each part decoded, PDFs read), the documents as
    # stored and as the storage gives them back decrypted.
    for path in mail_files:
        for text in _texts_of_email(path.read_bytes()):
            assert not holds_card(text), (str(path), where(text))
    stored = _files_under(document_store)
    assert stored  # the order's PDF at least
    storage = document_storage()
    for path in stored:
        for text in _texts_of_bytes(path.read_bytes()):
            assert not holds_card(text), str(path)
        with storage.open(str(path.relative_to(document_store))) as opened:
            for text in _texts_of_bytes(opened.read()):
                assert not holds_card(text), str(path)

    # Every page rendered: only the reveal's answer holds the number, and it does.
    holding = []
    for label, response in pages:
        content = response.content
        texts = list(_texts_of_bytes(content))
        if any(holds_card(text) for text in texts):
            holding.append((label, response))
    assert [response for _label, response in holding] == [reveal], [
        label for label, _response in holding
    ]
    assert VISA_DIGITS in reveal.content.decode()
    assert len(pages) > 30
