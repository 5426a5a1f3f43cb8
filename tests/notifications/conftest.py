"""A real SMTP server in the test process (aiosmtpd), and a booked case to write about.

Mail in these tests goes through Django's SMTP backend over a socket to the server below;
tests read what arrived (envelope and parsed message), and stop and restart the server to
play an outage.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller

from medworks.bookings import services
from tests import factories
from tests.factories import act


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        # Django folds a long encoded subject onto a continuation line; the whitespace left
        # by unfolding is not part of the subject (RFC 5322 2.2.3), as mail clients show it.
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def attachment(self, filename: str) -> str:
        for part in self.message.iter_attachments():
            if part.get_filename() == filename:
                return part.get_content()
        raise KeyError(filename)


@dataclass
class _Collector:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SMTPServer:
    """One aiosmtpd server on 127.0.0.1 and a fixed free port; stop() and start() again."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.collector = _Collector()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def start(self) -> None:
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server, and Django's SMTP backend pointed at it."""
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


@pytest.fixture
def clinic_location(db):
    location = factories.make_location(
        name="Harbour Clinic King West",
        address="500 King Street West",
        city="Toronto",
        phone="416-555-0142",
        email="front@harbour.example",
    )
    factories.make_offering(location=location, service_code="XRAY", price="95.00")
    return location


@pytest.fixture
def offered(db, insurer_user, booking_agent, clinic_location):
    """A case whose clinic has offered two dates to the insurer."""
    case = factories.make_booking_request(insurer=insurer_user.organisation)
    services.booking_request_take(case=case, actor=act(booking_agent))
    services.booking_request_select_clinic(
        case=case, location=clinic_location, actor=act(booking_agent)
    )
    offer = services.availability_offer_record(
        case=case,
        slots=[factories.slot_data(days=4), factories.slot_data(days=5, hour=14)],
        actor=act(booking_agent),
    )
    return case, offer


@pytest.fixture
def booked(offered, insurer_user):
    """A booked case and its appointment (the insurer approved the first date)."""
    case, offer = offered
    appointment = services.availability_offer_approve(
        slot=offer.slots.order_by("starts_at").first(), actor=act(insurer_user)
    )
    case.refresh_from_db()
    return case, appointment
