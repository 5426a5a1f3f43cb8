"""A real IMAP server for the tests: a private Dovecot (Debian's dovecot-imapd), started once
per test session on 127.0.0.1 and free ports, stopped at the end.

It runs from a config file of its own (nothing of /etc/dovecot is read): a passwd-file user
with a plaintext test password, maildir storage in a temporary folder, and three ways in:
plain IMAP (no TLS, for most tests; STARTTLS offered on the same port) and implicit TLS
(IMAPS), with a certificate signed by a throwaway CA made here with `cryptography`. Tests that
speak TLS trust that CA through SSL_CERT_FILE, as a deployment with a private CA would.

As root (CI, this machine), Dovecot will not run its login processes or mail as root: they
run as the package's own users (dovenull, dovecot), so the folder is created world-traversable
outside pytest's private tmp tree and the maildir belongs to the mail user. As anyone else,
everything runs as that user.

Messages are delivered by IMAP APPEND, as a mail client saving to a folder does: no LDA.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "bookings@medworks.example"
PASSWORD = "test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 and localhost signed by it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("MedWorks test CA"))
        .issuer_name(name("MedWorks test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca.public_bytes(pem))
    cert_file.write_bytes(cert.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


@dataclass
class ImapServer:
    host: str
    port: int  # plain IMAP; STARTTLS offered
    ssl_port: int  # implicit TLS
    user: str
    password: str
    ca_file: Path
    folder: Path

    def session(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        conn.select("INBOX")
        return conn

    def deliver(self, raw: bytes) -> None:
        """Put a message in the INBOX, unread (IMAP APPEND)."""
        conn = self.session()
        try:
            status, _ = conn.append("INBOX", None, None, raw)
            assert status == "OK"
        finally:
            conn.logout()

    def uids(self, criterion: str = "ALL") -> list[str]:
        conn = self.session()
        try:
            _, data = conn.uid("SEARCH", None, criterion)
            return (data[0] or b"").decode().split()
        finally:
            conn.logout()

    def unseen(self) -> list[str]:
        return self.uids("UNSEEN")

    def empty(self) -> None:
        """Remove every message (between tests)."""
        conn = self.session()
        try:
            _, data = conn.uid("SEARCH", None, "ALL")
            if (data[0] or b"").strip():
                conn.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                conn.expunge()
        finally:
            conn.logout()


def _config(folder: Path, *, port: int, ssl_port: int, cert: Path, key: Path) -> str:
    if os.geteuid() == 0:
        login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
        mail = pwd.getpwnam("dovecot")
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        internal_group = grp.getgrgid(os.getgid()).gr_name
        mail = pwd.getpwuid(os.getuid())
    (folder / "mail").mkdir()
    (folder / "home").mkdir()
    for sub in ("mail", "home"):
        os.chown(folder / sub, mail.pw_uid, mail.pw_gid)
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {mail.pw_uid}
last_valid_uid = 0
mail_location = maildir:{folder}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/passwd
  default_fields = uid={mail.pw_uid} gid={mail.pw_gid} home={folder}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def _wait_for(server: ImapServer, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.session().logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.2)
    text = log.read_text(errors="replace") if log.exists() else ""
    process.terminate()
    pytest.fail(f"Dovecot did not start:\n{text[-2000:]}", pytrace=False)


@contextlib.contextmanager
def dovecot_server():
    if not Path(DOVECOT).exists():
        pytest.fail(
            "Dovecot not found: the IMAP tests need Debian's dovecot-imapd "
            "(apt-get install dovecot-imapd)",
            pytrace=False,
        )
    folder = Path(tempfile.mkdtemp(prefix="medworks-dovecot-"))
    folder.chmod(0o755)
    process = None
    try:
        _ca, cert, key = _certificates(folder)
        port, ssl_port = _free_port(), _free_port()
        conf = folder / "dovecot.conf"
        conf.write_text(_config(folder, port=port, ssl_port=ssl_port, cert=cert, key=key))
        process = subprocess.Popen(  # our own test server
            [DOVECOT, "-c", str(conf), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = ImapServer("127.0.0.1", port, ssl_port, USER, PASSWORD, _ca, folder)
        _wait_for(server, process, folder / "dovecot.log")
        yield server
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
