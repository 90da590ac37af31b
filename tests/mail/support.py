"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, the certificates
to speak TLS with it, and a way to point flexbill's settings at it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.core.jobs import Job
from flexbill.mail.models import OutgoingMail

REFUSED_MAILBOX = "nobody@example.com"
"""The one address the test server answers with a final 550."""

Configure = Callable[..., None]
"""Sets ``FLEXBILL_<NAME>`` for each keyword (``None`` unsets it) and re-reads settings."""


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage
    login: str | None

    def part(self, content_type: str) -> str:
        body = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        assert body is not None
        assert body.get_content_type() == content_type
        content: str = body.get_content()
        return content.replace("\r\n", "\n")  # as written, not as on the wire


@dataclass
class Inbox:
    """The server's handler: keeps every message, refuses ``REFUSED_MAILBOX``."""

    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == REFUSED_MAILBOX:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 Message accepted"


def free_port() -> int:
    """A loopback port nothing listens on (until someone starts a server on it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_server(port: int, **smtp_options: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word (the kernel completes the
    handshake from the listen backlog), so a client waits for its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port: int = listener.getsockname()[1]
        yield port


def authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return check


@dataclass(frozen=True)
class Certificates:
    authority: Path  # what clients trust (SSL_CERT_FILE)
    server: ssl.SSLContext


def make_certificates(directory: Path) -> Certificates:
    """A private certificate authority and a server certificate it signed for 127.0.0.1."""
    now = dt.datetime.now(dt.UTC)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
        signer: ec.EllipticCurvePrivateKey, *, authority: bool,
    ) -> x509.Certificate:  # fmt: skip
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
        )
        if authority:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False, data_encipherment=False,
                    key_agreement=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            ).add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )  # fmt: skip
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            ).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )  # fmt: skip
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flexbill test CA")])
    ca = certificate("flexbill test CA", ca_key, ca_name, ca_key, authority=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate("127.0.0.1", server_key, ca_name, ca_key, authority=False)

    authority = directory / "ca.pem"
    authority.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        server.public_bytes(serialization.Encoding.PEM)
        + server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain)
    return Certificates(authority=authority, server=context)


async def mails(database: Database) -> list[OutgoingMail]:
    async with database.transaction() as session:
        statement = select(OutgoingMail).order_by(OutgoingMail.created_at, OutgoingMail.id)
        return list((await session.scalars(statement)).all())


async def mail(database: Database, mail_id: str) -> OutgoingMail:
    async with database.transaction() as session:
        found = await session.get(OutgoingMail, mail_id)
        assert found is not None
        return found


async def jobs(database: Database) -> list[Job]:
    async with database.transaction() as session:
        statement = select(Job).where(Job.kind == "mail.send").order_by(Job.run_at, Job.id)
        return list((await session.scalars(statement)).all())
