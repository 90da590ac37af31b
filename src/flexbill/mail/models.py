"""The outgoing e-mail table: one row per e-mail, holding exactly what is sent.

A row is written, already rendered, in the transaction that decides to send it
(``outbox.send``); the worker sends it later (``sending``) and records every attempt on it.
System e-mails (a test e-mail from the CLI) belong to no tenant, so ``tenant_id`` is
nullable and, as in the job queue, not part of the key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, Timestamped, UTCDateTime

MAX_ADDRESS_LENGTH = 320  # RFC 3696 errata: 64 for the local part, @, 255 for the domain


class MailStatus(StrEnum):
    QUEUED = "queued"  # waiting for its next attempt
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # refused for good, or its last attempt failed
    KEPT = "kept"  # no SMTP server configured (development): kept here, never sent


class OutgoingMail(Timestamped, Base):
    __tablename__ = "outgoing_mails"
    __table_args__ = (
        # `flexbill mail list`: newest first, all or one status or one recipient.
        Index("ix_outgoing_mails_created_at", "created_at", "id"),
        Index("ix_outgoing_mails_status_created_at", "status", "created_at", "id"),
        Index("ix_outgoing_mails_recipient_created_at", "recipient", "created_at", "id"),
        Index("ix_outgoing_mails_tenant_id_created_at", "tenant_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("tenants.id"), default=None
    )
    template: Mapped[str] = mapped_column(String(60))
    sender: Mapped[str] = mapped_column(String(400))
    recipient: Mapped[str] = mapped_column(String(MAX_ADDRESS_LENGTH))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    # Chosen when queued, so that every attempt (and a repeat after a worker crash between
    # the SMTP answer and the commit) carries the same Message-ID, which lets receivers
    # recognise a duplicate.
    message_id: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
