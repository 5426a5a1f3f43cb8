"""A real HTTP receiver in the test process (http.server on 127.0.0.1, in a thread), an insurer
with an endpoint pointing at it, and a way to read what arrived.

Deliveries in these tests go over a socket to the receiver below, through the same code as in
production. The loopback address is only reachable because the tests turn on
MEDWORKS_WEBHOOKS_ALLOW_PRIVATE (refused in production by settings.py).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode
from medworks.webhooks.services import webhook_endpoint_create
from tests import factories
from tests.factories import act


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """What the receiver answers (a script of statuses, then `then`) and what it got."""

    port: int = 0
    received: list[Request] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    then: int = 200
    answer: bytes = b"ok"
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/medworks"

    def next_status(self) -> int:
        return self.script.pop(0) if self.script else self.then


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.received.append(Request(self.path, headers, body))
            status = receiver.next_status()
            self.send_response(status)
            for name, value in receiver.extra_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.answer)))
            self.end_headers()
            self.wfile.write(receiver.answer)

        def log_message(self, *args):  # quiet
            pass

    return Handler


@pytest.fixture
def receiver():
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.MEDWORKS_WEBHOOKS_ALLOW_PRIVATE = True
    settings.MEDWORKS_WEBHOOKS_TIMEOUT_SECONDS = 2
    settings.MEDWORKS_BASE_URL = "https://desk.medworks.example"


@pytest.fixture
def insurer(db):
    return factories.make_organisation(kind=OrganisationKind.INSURER, name="Maple Assist")


@pytest.fixture
def insurer_admin(insurer):
    return factories.make_user(
        roles=[RoleCode.INSURER_USER],
        organisation=insurer,
        username="maple-admin",
        email="it@maple-assist.example",
    )


ALL_KINDS = None  # every kind the insurer may see


def make_endpoint(*, insurer, actor_user, url: str, kinds=ALL_KINDS):
    from medworks.webhooks.services import wantable_kinds

    kinds = kinds if kinds is not None else [code for code, _words in wantable_kinds()]
    return webhook_endpoint_create(
        insurer=insurer,
        url=url,
        event_kinds=kinds,
        contact_email="it@maple-assist.example",
        description="Claims system",
        actor=act(actor_user),
    )


@pytest.fixture
def endpoint(insurer, insurer_admin, receiver):
    """(endpoint, secret) of the insurer's endpoint at the receiver, wanting every kind."""
    return make_endpoint(insurer=insurer, actor_user=insurer_admin, url=receiver.url)
