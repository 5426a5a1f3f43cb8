"""No patient data in the logs (the issue: "never a patient's name, a card number or a
document's content; a test runs a whole case with logging captured and scans it").

Every record at DEBUG, from every logger, is written through the production JSON formatter
into a string while one case goes the whole way, mostly through the pages: the insurer
submits it (after refused tries, one with a card number typed in the notes), staff find it by
the patient's name, take it and choose the clinic, the insurer approves the date and uploads
the GOP, the clinic uploads the signed forms after the visit, staff download them, complete
the case and send it to billing, finance issues the invoice and downloads its PDF, the worker
sends every email. Then the text is searched for the patient's names, date of birth, address,
phone and email, for any card number, and for the documents' content; the records' own
messages (before the formatter's card redaction) are searched for card numbers too.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from medworks.billing.models import Invoice
from medworks.billing.quotes import quote_confirm
from medworks.billing.selectors import quote_current
from medworks.bookings import services as bookings
from medworks.bookings.models import BookingRequest, BookingStatus
from medworks.core.cards import find_card_numbers
from medworks.core.logs import JsonFormatter, LogContextFilter
from medworks.documents.models import DocumentVersion
from medworks.notifications.models import OutboxMessage, OutboxStatus
from tests import factories
from tests.documents import samples
from tests.factories import act
from tests.web.documents_world import (  # noqa: F401 (fixtures)
    clinic_location,
    document_store,
    gop_post,
    upload,
)

# Transactional: the worker's loop closes its connection between tasks, as requests do.
pytestmark = pytest.mark.django_db(transaction=True)

PATIENT = {
    "patient_first_name": "Zephyrine",
    "patient_last_name": "Quillfeather",
    "patient_date_of_birth": "1961-03-17",
    "patient_phone": "613-555-0147",
    "patient_email": "zephyrine.q@example.org",
    "patient_address": "742 Evergreen Terrace",
    "patient_city": "Toronto",
    "patient_province": "ON",
    "patient_postal_code": "M5V 3L9",
}
FORBIDDEN = [
    "Zephyrine",
    "Quillfeather",
    "1961-03-17",
    "1961/03/17",
    "17/03/1961",
    "March 17, 1961",
    "17 March 1961",
    "17 mars 1961",
    "742 Evergreen",
    "Evergreen Terrace",
    "613-555-0147",
    "6135550147",
    "555-0147",
    "zephyrine.q@example.org",
    "zephyrine.q",
]
# What the uploaded documents say inside (a reader would find it in their text).
GOP_TEXT = "GOP for claim lumbar-osmium-4471"
SIGNED_TEXT = "Findings: haemoglobin indigo-walrus-9183"
VISA = "4111 1111 1111 1111"
# Random ids in lines (request ids: uuid4 hex) are nobody's card: a digit run inside one may
# pass the Luhn check by chance.
_RANDOM = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{32,128}\b|\b[0-9a-f-]{36}\b")


class Capture(logging.Handler):
    """Each record as the production formatter writes it, and the record itself."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = io.StringIO()
        self.records: list[logging.LogRecord] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(LogContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.stream.write(self.format(record) + "\n")


@pytest.fixture
def everything_logged(settings):
    """The root logger and every logger known at DEBUG, into one Capture; levels restored.

    All but those settings.LOGGING pins (django.db.backends, axes, django.template): they
    stay at their level, as in production with LOG_LEVEL=DEBUG. Pinned because at DEBUG they
    write SQL parameters, usernames typed, a template's whole context.
    """
    capture = Capture()
    root = logging.getLogger()
    pinned = set(settings.LOGGING["loggers"])
    assert "django.template" in pinned
    loggers = [root] + [
        logging.getLogger(name)
        for name, known in logging.root.manager.loggerDict.items()
        if isinstance(known, logging.Logger) and name not in pinned
    ]
    levels = [(logger, logger.level) for logger in loggers]
    root.addHandler(capture)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    for logger, level in levels:
        logger.setLevel(level)


def _portal_form(**overrides) -> dict:
    data = factories.booking_request_data(**{**PATIENT, **overrides})
    data["preferred_dates"] = ",".join(data["preferred_dates"])
    data["notify_patient"] = "on"
    data["paperwork_required"] = "on"
    data["results_delivery"] = "via_paperwork"
    return data


def test_a_whole_case_logs_no_patient_data_card_number_or_document_content(
    everything_logged,
    document_store,  # noqa: F811
    clinic_location,  # noqa: F811
    insurer_user,
    clinic_user,
    booking_agent,
    finance_user,
):
    from django.test import Client

    def signed_in(user) -> Client:
        c = Client()
        c.force_login(user)
        return c

    insurer, agent = signed_in(insurer_user), signed_in(booking_agent)
    clinic, finance = signed_in(clinic_user), signed_in(finance_user)
    requests = 0

    def get(c, url, **kw):
        nonlocal requests
        requests += 1
        return c.get(url, **kw)

    def post(c, url, data=None, **kw):
        nonlocal requests
        requests += 1
        return c.post(url, data or {}, **kw)

    # The insurer submits: a date of birth in the future and a card typed in the notes
    # are refused, with what was typed shown back; then the request is made.
    new = reverse("web:portal_request_new")
    get(insurer, new)
    refused = post(insurer, new, _portal_form(patient_date_of_birth="2999-01-01"))
    assert refused.status_code == 200 and "Zephyrine" in refused.content.decode()
    with_card = post(insurer, new, _portal_form(scheduling_notes=f"Card {VISA}"))
    assert with_card.status_code in (200, 400)
    assert not BookingRequest.objects.exists()
    made = post(insurer, new, _portal_form())
    assert made.status_code == 302
    case = BookingRequest.objects.get()
    assert case.patient.last_name == "Quillfeather" and case.paperwork_required
    get(insurer, reverse("web:portal_request", args=[case.order_id]))

    # Staff find it by the patient's name, take it, choose the clinic.
    get(agent, reverse("web:staff_booking_queue"))
    found = post(agent, reverse("web:staff_booking_search"), {"q": "Quillfeather"})
    assert case.order_id in found.content.decode()
    detail = reverse("web:staff_booking_detail", args=[case.order_id])
    get(agent, detail)
    post(agent, reverse("web:staff_booking_take", args=[case.order_id]))
    post(
        agent,
        reverse("web:staff_booking_select_clinic", args=[case.order_id]),
        {"location": clinic_location.pk},
    )
    case.refresh_from_db()
    assert case.status == BookingStatus.AWAITING_AVAILABILITY

    # The clinic's dates (staff enter them), the charges confirmed, the insurer approves.
    offer = bookings.availability_offer_record(
        case=case, slots=[factories.slot_data(days=5)], actor=act(booking_agent)
    )
    quote_confirm(quote=quote_current(case=case), actor=act(booking_agent), note="By phone.")
    get(insurer, reverse("web:portal_request", args=[case.order_id]))
    post(
        insurer,
        reverse("web:portal_request_approve", args=[case.order_id]),
        {"slot": offer.slots.get().pk},
    )
    case.refresh_from_db()
    assert case.status == BookingStatus.BOOKED

    # The insurer uploads the GOP (its file named after the patient).
    gop = post(
        insurer,
        reverse("web:portal_document_new", args=[case.order_id]),
        {
            "kind": "gop",
            "file": upload(samples.pdf(GOP_TEXT), "Quillfeather GOP.pdf"),
            **gop_post(case),
        },
    )
    assert gop.status_code == 302

    # After the visit the clinic uploads the signed forms.
    factories.appointment_time_passes(case)
    get(clinic, reverse("web:clinic_request", args=[case.order_id]))
    signed = post(
        clinic,
        reverse("web:clinic_document_signed", args=[case.order_id]),
        {
            "signed-file": upload(samples.pdf(SIGNED_TEXT), "Zephyrine results.pdf"),
            "signed-signed_by": "Dr. Anne Roy",
            "signed-signed_on": timezone.localdate().isoformat(),
            "signed-attested": "on",
        },
    )
    assert signed.status_code == 302

    # Staff open the case and download every document, complete it, send it to billing.
    get(agent, detail)
    versions = list(DocumentVersion.objects.filter(document__request=case))
    assert len(versions) == 2
    for version in versions:
        download = get(
            agent, reverse("web:staff_document_download", args=[case.order_id, version.pk])
        )
        assert download.status_code == 200
        assert b"".join(download.streaming_content if download.streaming else [download.content])
    for step in ("complete", "mark_ready_for_billing"):
        post(agent, reverse("web:staff_booking_step", args=[case.order_id, step]))
    case.refresh_from_db()
    assert case.status == BookingStatus.READY_FOR_BILLING, case.status

    # Finance invoices the insurer.
    post(finance, reverse("web:invoice_draft_for_case", args=[case.order_id]))
    invoice = Invoice.objects.get()
    post(finance, reverse("web:invoice_issue", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.number
    pdf = get(finance, reverse("web:invoice_pdf_download", args=[invoice.pk]))
    assert pdf.status_code == 200

    # The worker sends every email (to the patient too: their name is in it).
    call_command("worker", "--batch", "--no-startup-delay", "--interval=0", verbosity=2)
    messages = OutboxMessage.objects.all()
    assert messages.count() >= 5
    assert set(messages.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert any("Zephyrine" in m.body or "Quillfeather" in m.body for m in messages)

    # --- What was logged -----------------------------------------------------------------------
    text = everything_logged.stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    # Something was captured: a line per request, with its id, and the worker's per task.
    request_lines = [line for line in lines if line["logger"] == "medworks.request"]
    assert len(request_lines) == requests
    assert all(line["request_id"] for line in request_lines)
    task_lines = [line for line in lines if line.get("task")]
    delivered = [line for line in task_lines if line["task"].endswith("deliver_outbox_message")]
    assert len({line["request_id"] for line in delivered}) == messages.count()

    lowered = text.lower()
    for forbidden in FORBIDDEN:
        assert forbidden.lower() not in lowered, forbidden
    for document in (GOP_TEXT, SIGNED_TEXT):
        for part in (document, *document.split(": ")[-1:], document.split()[-1]):
            assert part.lower() not in lowered, part
    raw_pdf = samples.pdf(SIGNED_TEXT).decode("latin-1")
    assert raw_pdf[:60] not in text and "indigo-walrus" not in text

    # No card number: neither in the lines written nor in the records' own messages (so the
    # formatter's redaction is a safety net, not what makes this pass).
    assert find_card_numbers(_RANDOM.sub(" ", text)) == []
    for record in everything_logged.records:
        message = record.getMessage()
        if record.exc_info:
            message += logging.Formatter().formatException(record.exc_info)
        assert find_card_numbers(_RANDOM.sub(" ", message)) == [], record.name
