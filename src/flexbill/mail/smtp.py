"""Talking to the SMTP server: the message a row becomes, one blocking delivery (run in a
thread by the worker), and which refusals are final.

TLS is verified against the system's certificate authorities (``SSL_CERT_FILE`` names
another bundle, e.g. a company CA); ``starttls`` never falls back to plain text when the
server does not offer it, and credentials are only sent after TLS unless security is
``none``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from flexbill.config import Settings
from flexbill.mail.models import OutgoingMail

SECURITY_MODES = ("starttls", "tls", "none")


class SmtpSettingsError(Exception):
    """The SMTP settings cannot work (an unknown ``smtp_security``): an attempt fails
    until an operator fixes them."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    timeout_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> SmtpSettings | None:
        """The server to send through, or ``None`` when none is configured."""
        if not settings.smtp_host:
            return None
        return cls(
            host=settings.smtp_host, port=settings.smtp_port,
            security=settings.smtp_security.strip().lower(), username=settings.smtp_username,
            password=settings.smtp_password, timeout_seconds=settings.smtp_timeout_seconds,
        )  # fmt: skip


def build_message(mail: OutgoingMail) -> EmailMessage:
    """The message exactly as the row holds it; dated when it was queued (RFC 5322: when
    it was ready to send), so every attempt sends the same message."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = mail.message_id
    # RFC 3834: vacation responders and the like do not answer automatic e-mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text_body)
    if mail.html_body is not None:
        message.add_alternative(mail.html_body, subtype="html")
    return message


def deliver(settings: SmtpSettings, message: EmailMessage, recipient: str) -> None:
    """Hand ``message`` to the server for ``recipient``; raises ``smtplib.SMTPException``
    or ``OSError`` (refused, timed out, TLS failed) when it does not take it."""
    if settings.security not in SECURITY_MODES:
        raise SmtpSettingsError(
            f"smtp_security must be one of {', '.join(SECURITY_MODES)}, not {settings.security!r}"
        )
    # Loading the certificate authorities takes a while: only for connections that use them.
    context = ssl.create_default_context() if settings.security != "none" else None
    client = (
        smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_seconds, context=context
        )
        if settings.security == "tls"
        else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    )
    with client:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        client.send_message(message, to_addrs=[recipient])


def is_final(error: Exception) -> bool:
    """Whether the server refused this message for good (a 5xx answer to its recipient or
    its content), so that trying again cannot help. A refused sender or login, 4xx answers
    and network errors may pass: they are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False
