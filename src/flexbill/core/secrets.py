"""The server's signing secret: what makes an expiring file URL or an e-mailed link
unforgeable.

It is ``FLEXBILL_SECRET_KEY`` when configured. Otherwise one is generated the first time
it is needed and stored in ``server_secrets``, so that every API and worker process on
the same database signs and verifies alike, and links keep working after a restart.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.config import get_settings
from flexbill.core import clock
from flexbill.core.models import Base, UTCDateTime

SIGNING = "signing"
_GENERATED_BYTES = 32


class ServerSecret(Base):
    """A secret of the whole server (not of a tenant), generated once."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


async def secret_key(session: AsyncSession) -> bytes:
    """The key that signs and verifies links: the configured ``secret_key``, or the
    database's own, created on first use."""
    configured = get_settings().secret_key
    if configured:
        return configured.encode()
    return (await _stored(session, SIGNING)).encode()


async def _stored(session: AsyncSession, name: str) -> str:
    found = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    if found is not None:
        return found
    # Two processes may both find nothing: each offers a value, the first insert wins, and
    # both read back the winner's.
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    offered = {"name": name, "value": secrets.token_urlsafe(_GENERATED_BYTES)}
    await session.execute(
        insert(ServerSecret)
        .values(**offered, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["name"])
    )
    stored = await session.scalar(select(ServerSecret.value).where(ServerSecret.name == name))
    assert stored is not None
    return stored
