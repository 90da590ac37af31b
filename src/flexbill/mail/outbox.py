"""Queueing e-mails in the caller's transaction.

``send`` renders the e-mail at once and writes it as a row together with the job that
sends it, so that the e-mail exists exactly when the change that caused it is committed,
and what the worker sends later is what the row says, whatever templates or data become.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.jobs import enqueue
from flexbill.mail.models import MailStatus, OutgoingMail
from flexbill.mail.templates import render

SEND = "mail.send"
FALLBACK_DOMAIN = "flexbill.localhost"


def recipient_address(to: str) -> str:
    """``to`` as one valid address, normalized; ``VALIDATION_ERROR`` on path ``to``
    otherwise. A display name (``Ada <ada@example.com>``) is not accepted. An
    internationalized domain is written in its ASCII form, which every SMTP server takes
    (a non-ASCII local part needs a server that offers SMTPUTF8)."""
    try:
        checked = validate_email(to.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed.field("to", str(error), "invalid_string") from None
    return checked.ascii_email or checked.normalized


def message_id(mail_id: str, sender: str) -> str:
    """A Message-ID unique to the e-mail, in the domain of its sender."""
    _name, address = parseaddr(sender)
    domain = address.rpartition("@")[2] if "@" in address else FALLBACK_DOMAIN
    return f"<{mail_id}@{domain}>"


def attempt_key(mail_id: str, attempt: int) -> str:
    """The job of try number ``attempt`` (one job per try, so a key is never reused)."""
    return f"{SEND}:{mail_id}:{attempt}"


async def enqueue_attempt(
    session: AsyncSession, mail: OutgoingMail, attempt: int, *, run_at: datetime
) -> None:
    await enqueue(
        session, SEND, {"mailId": mail.id, "attempt": attempt}, tenant_id=mail.tenant_id,
        run_at=run_at, dedup_key=attempt_key(mail.id, attempt),
    )  # fmt: skip


async def send(
    session: AsyncSession,
    tenant_id: str | None,
    *,
    template: str,
    to: str,
    data: Mapping[str, Any],
) -> str:
    """Queue the e-mail ``template`` rendered with ``data`` to ``to``; its id.

    ``tenant_id`` is the tenant the e-mail is about (``None`` for system e-mail). Raises
    ``TEMPLATE_NOT_FOUND`` for an unknown template, ``VALIDATION_ERROR`` for an invalid
    address and ``ValueError`` for data that does not fit the template (see
    ``mail.templates`` for the fields of each).
    """
    rendered = render(template, data)
    recipient = recipient_address(to)
    sender = get_settings().mail_from
    mail_id = new_id("mail")
    now = clock.now()
    mail = OutgoingMail(
        id=mail_id, tenant_id=tenant_id, template=template, sender=sender,
        recipient=recipient, subject=rendered.subject, text_body=rendered.text,
        html_body=rendered.html, message_id=message_id(mail_id, sender),
        status=MailStatus.QUEUED, attempts=0, next_attempt_at=now, created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.add(mail)
    await session.flush()
    await enqueue_attempt(session, mail, 1, run_at=now)
    return mail_id
