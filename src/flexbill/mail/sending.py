"""Sending queued e-mails from the worker.

Each attempt is one job (``mail.send`` with the mail and the attempt number), and its
outcome is written on the row in that job's transaction: sent, or failed with its error and
the time of the next attempt, which is then queued as the next job (the job queue's own
backoff: 10 s, 40 s, 2.5 min, … capped at six hours; twelve tries span about a day and a
half). A refusal that no retry can change (a 5xx for the recipient or the content) and the
last try leave the row ``failed``.

Recording failures on the row rather than raising keeps each attempt's error with the
e-mail: a raised error would roll back whatever the handler wrote. Only an unexpected
error (a bug, the database) raises, and the job queue retries that attempt as it does any
job.

Never twice: an attempt runs only on a ``queued`` row whose attempts so far are one fewer
than its number. A worker that dies between the server's answer and the commit makes its
attempt again with the same Message-ID, so a receiver can recognise the copy.

Without an SMTP host (development) nothing is sent: the row is ``kept`` and shown by
``flexbill mail list``.
"""

from __future__ import annotations

import asyncio
import smtplib
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.config import get_settings
from flexbill.core import clock
from flexbill.core.jobs import Job, backoff
from flexbill.mail.models import MailStatus, OutgoingMail
from flexbill.mail.outbox import SEND, enqueue_attempt
from flexbill.mail.smtp import SmtpSettings, SmtpSettingsError, build_message, deliver, is_final
from flexbill.worker.registry import handles
from flexbill.worker.schedule import Periodic

PERIODIC: Final[tuple[Periodic, ...]] = ()

MAX_ATTEMPTS = 12
MAX_ERROR_LENGTH = 1000

DELIVERY_ERRORS = (smtplib.SMTPException, OSError, SmtpSettingsError)
"""What a failed attempt raises: the server's refusal, the network (refused, timed out,
TLS) or settings that cannot work."""


@handles(SEND)
async def send_queued(session: AsyncSession, job: Job) -> None:
    mail = await session.get(
        OutgoingMail, job.payload["mailId"], with_for_update=True, populate_existing=True
    )
    attempt = int(job.payload["attempt"])
    if mail is None or mail.status != MailStatus.QUEUED or mail.attempts != attempt - 1:
        return
    server = SmtpSettings.of(get_settings())
    if server is None:
        mail.status = MailStatus.KEPT
        mail.next_attempt_at = None
        return
    message, recipient, mail_id = build_message(mail), mail.recipient, mail.id
    # An SMTP conversation can last its whole timeout: the transaction ends before it, so
    # that no database lock (on SQLite, the one writer lock every request needs) is held
    # meanwhile. A worker that dies while sending leaves the job to be taken over once its
    # lease runs out, and the e-mail goes again with the same Message-ID (at least once).
    await session.commit()
    try:
        await asyncio.to_thread(deliver, server, message, recipient)
    except DELIVERY_ERRORS as error:
        await _failed(session, await _locked(session, mail_id), attempt, error)
        return
    mail = await _locked(session, mail_id)
    mail.status = MailStatus.SENT
    mail.attempts = attempt
    mail.sent_at = clock.now()
    mail.next_attempt_at = None
    mail.last_error = None


async def _locked(session: AsyncSession, mail_id: str) -> OutgoingMail:
    mail = await session.get(OutgoingMail, mail_id, with_for_update=True, populate_existing=True)
    assert mail is not None, "queued e-mails are never deleted"
    return mail


async def _failed(
    session: AsyncSession, mail: OutgoingMail, attempt: int, error: Exception
) -> None:
    mail.attempts = attempt
    mail.last_error = _describe(error)[:MAX_ERROR_LENGTH]
    if is_final(error) or attempt >= MAX_ATTEMPTS:
        mail.status = MailStatus.FAILED
        mail.next_attempt_at = None
        return
    mail.next_attempt_at = clock.now() + backoff(attempt)
    await enqueue_attempt(session, mail, attempt + 1, run_at=mail.next_attempt_at)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(
            f"{code} {_text(message)}" for code, message in error.recipients.values()
        )
        return f"recipient refused: {answers}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else answer
