"""A real SMTP server for tests: aiosmtpd on loopback, in plain, STARTTLS or implicit-TLS
mode, with AUTH (PLAIN, LOGIN), a certificate from a CA made for the test run (trusted
through notify-email's `ca-file`), and scripted replies for the failure cases. What it
received is kept as parsed messages with their envelopes."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER, PASSWORD = "ci-bot", "s3cret-app-password"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    auth: str | None  # the login, when the client authenticated

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Script:
    """Replies the server gives instead of accepting: consumed in order."""

    data: list[str] = field(default_factory=list)  # e.g. "421 busy", "550 no"
    rcpt: dict[str, list[str]] = field(default_factory=dict)  # address -> replies


class Handler:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script = Script()
        self.lock = threading.Lock()
        self.rcpt_seen: list[str] = []
        self.mechanisms: list[str] = []  # of the AUTH exchanges, as they came

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        self.mechanisms.append(mechanism)
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USER and \
                auth_data.password.decode() == PASSWORD:
            return AuthResult(success=True, auth_data=USER)
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self.lock:
            self.rcpt_seen.append(address)
            replies = self.script.rcpt.get(address)
            if replies:
                return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.script.data:
                return self.script.data.pop(0)
            login = session.auth_data if session.authenticated else None
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.content, login))
        return "250 Message accepted"


@dataclass
class Certificates:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificates(folder: Path) -> Certificates:
    """A CA and a certificate for localhost and 127.0.0.1 signed by it."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "StackCI test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                       False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """`mode`: plain (no TLS offered), starttls, or ssl (implicit TLS)."""

    def __init__(self, certificates: Certificates, mode: str = "starttls",
                 auth: bool = True, only_mechanism: str = "", port: int = 0) -> None:
        self.handler = Handler()
        self.mode = mode
        self.port = port or free_port()
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port,
                                  "authenticator": self.handler.authenticate if auth else None,
                                  # Over implicit TLS aiosmtpd does not see TLS: it is.
                                  "auth_require_tls": mode == "starttls",
                                  "auth_required": False, "server_hostname": "localhost"}
        if only_mechanism:
            kwargs["auth_exclude_mechanism"] = [m for m in ("PLAIN", "LOGIN")
                                                if m != only_mechanism]
        if mode == "starttls":
            kwargs["tls_context"] = certificates.server_context()
            kwargs["require_starttls"] = False
        elif mode == "ssl":
            kwargs["ssl_context"] = certificates.server_context()
        self.controller = Controller(self.handler, **kwargs)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def script(self) -> Script:
        return self.handler.script

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture(scope="session")
def smtp_certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_server(smtp_certificates: Certificates) -> Iterator[SmtpServer]:
    with SmtpServer(smtp_certificates, "starttls") as server:
        yield server


@pytest.fixture
def team_mail_server(smtp_certificates: Certificates) -> Iterator[SmtpServer]:
    """The example pipelines' mail server: clear text on loopback port 25, no login, as
    their `SMTP_SECURITY: none` variable and notify-email's port for it (none named).
    Another test session on this machine may hold the port for a while: waited for."""
    deadline = time.monotonic() + 120
    while True:
        try:
            server = SmtpServer(smtp_certificates, "plain", auth=False, port=25)
            server.__enter__()
            break
        except OSError as error:
            if time.monotonic() > deadline:
                pytest.fail(f"port 25 on 127.0.0.1 stayed taken for 2 minutes: {error}")
            time.sleep(1)
    try:
        yield server
    finally:
        server.__exit__()
