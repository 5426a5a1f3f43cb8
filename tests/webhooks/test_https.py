"""The production path: HTTPS to the address checked at delivery time, the certificate verified
for the URL's host name (a receiver with a certificate made here, trusted for this test)."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from http.server import ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook

from medworks.webhooks import services
from medworks.webhooks.models import WebhookDelivery
from tests import factories

from .conftest import Receiver, _handler, make_endpoint

pytestmark = pytest.mark.django_db

HOST = "hooks.maple-assist.example"


def _certificate(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch, request):
    name = getattr(request, "param", HOST)
    cert_file, key_file = _certificate(tmp_path, name)
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    real_getaddrinfo = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    # The receiver's certificate is the one trusted authority of this test.
    real_context = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: real_context(cafile=cert_file))
    yield state
    server.shutdown()
    server.server_close()


def test_a_delivery_goes_over_https_to_the_checked_address_with_the_host_names_certificate(
    insurer, insurer_admin, tls_receiver
):
    _endpoint, secret = make_endpoint(
        insurer=insurer, actor_user=insurer_admin, url=f"https://{HOST}:{tls_receiver.port}/in"
    )
    factories.make_booking_request(insurer=insurer)
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_deliver(delivery_id=delivery.pk) == "delivered"
    (request,) = tls_receiver.received
    assert request.path == "/in"
    assert request.headers["host"] == f"{HOST}:{tls_receiver.port}"
    Webhook(secret).verify(request.body, request.headers)


@pytest.mark.parametrize("tls_receiver", ["someone-else.example"], indirect=True)
def test_a_certificate_for_another_name_is_refused_and_retried(
    insurer, insurer_admin, tls_receiver
):
    make_endpoint(
        insurer=insurer, actor_user=insurer_admin, url=f"https://{HOST}:{tls_receiver.port}/in"
    )
    factories.make_booking_request(insurer=insurer)
    delivery = WebhookDelivery.objects.get()
    assert services.webhook_delivery_deliver(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error == "SSLCertVerificationError"
    assert tls_receiver.received == []
