"""The booking inbox's world: a real IMAP server (imap_server.py), the insurers whose people
write to the desk, and the messages real mail clients send (fixtures/mail/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medworks.accounts.models import OrganisationKind, RoleCode
from tests import factories

from .imap_server import ImapServer, dovecot_server

MAIL = Path(__file__).parent / "fixtures" / "mail"


def message(name: str) -> bytes:
    return (MAIL / name).read_bytes()


@pytest.fixture(scope="session")
def imap_server():
    with dovecot_server() as server:
        yield server


@pytest.fixture
def mailbox(imap_server: ImapServer, settings) -> ImapServer:
    """An empty INBOX, and the desk's settings pointing at it (plain IMAP on 127.0.0.1)."""
    imap_server.empty()
    settings.MEDWORKS_IMAP_HOST = imap_server.host
    settings.MEDWORKS_IMAP_PORT = imap_server.port
    settings.MEDWORKS_IMAP_USER = imap_server.user
    settings.MEDWORKS_IMAP_PASSWORD = imap_server.password
    settings.MEDWORKS_IMAP_MAILBOX = "INBOX"
    settings.MEDWORKS_IMAP_TLS = "none"
    return imap_server


def _insurer(name: str, email: str):
    org = factories.make_organisation(kind=OrganisationKind.INSURER, name=name)
    factories.make_user(roles=[RoleCode.INSURER_USER], organisation=org, email=email)
    return org


@pytest.fixture
def maple(db):
    return _insurer("Maple Assist Insurance", "desk@maple-assist.example")


@pytest.fixture
def birch(db):
    return _insurer("Birch Assistance", "claims@birch-assistance.example")


@pytest.fixture
def erable(db):
    return _insurer("Assurances Érable", "reservations@assurances-erable.example")


@pytest.fixture
def insurers(maple, birch, erable):
    return {"maple": maple, "birch": birch, "erable": erable}
