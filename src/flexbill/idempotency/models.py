from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, UTCDateTime


class IdempotencyRecord(TenantOwned, Base):
    """The first successful answer to a request sent with an ``Idempotency-Key``.

    The row is written in the same transaction as the request's own changes, so either
    both exist or neither does: a failed request leaves nothing and may be retried.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_tenant_expires_at", "tenant_id", "expires_at"),)

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
