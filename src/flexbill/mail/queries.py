"""Reading the outgoing e-mails (for people: ``flexbill mail``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import NotFound, ValidationFailed
from flexbill.mail.models import MailStatus, OutgoingMail
from flexbill.mail.outbox import recipient_address

MAX_LIMIT = 1000


async def list_mails(
    session: AsyncSession,
    *,
    status: str | None = None,
    to: str | None = None,
    limit: int = 50,
) -> Sequence[OutgoingMail]:
    """The newest e-mails first, of one status and to one address when given."""
    if not 1 <= limit <= MAX_LIMIT:
        code = "too_small" if limit < 1 else "too_big"
        raise ValidationFailed.field("limit", f"Must be between 1 and {MAX_LIMIT}", code)
    statement = select(OutgoingMail)
    if status is not None:
        if status not in set(MailStatus):
            allowed = ", ".join(MailStatus)
            raise ValidationFailed.field("status", f"One of {allowed}", "invalid_enum_value")
        statement = statement.where(OutgoingMail.status == status)
    if to is not None:
        statement = statement.where(OutgoingMail.recipient == recipient_address(to))
    statement = statement.order_by(OutgoingMail.created_at.desc(), OutgoingMail.id.desc())
    return (await session.scalars(statement.limit(limit))).all()


async def get_mail(session: AsyncSession, mail_id: str) -> OutgoingMail:
    mail = await session.get(OutgoingMail, mail_id)
    if mail is None:
        raise NotFound("E-mail", mail_id)
    return mail
