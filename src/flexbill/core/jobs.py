"""The one job queue: work to do later, written as rows in the transaction that needs it.

A job is enqueued with ``enqueue`` inside the caller's transaction, so it exists exactly
when the change that asked for it was committed. Workers (``flexbill.worker``) claim due
jobs, run each in its own transaction together with marking it done, and on failure put
it back with a growing delay until its last attempt leaves it ``dead`` (visible, never
silently dropped). A ``dedup_key`` makes enqueueing idempotent: a second job with the same
key is not added while the first exists, unless the first died (a dead job gives its key
up, so that the work can be asked for again).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.core.models import Base, Timestamped, UTCDateTime

DEFAULT_MAX_ATTEMPTS = 8
MAX_ERROR_LENGTH = 2000
DEDUP_KEY_LENGTH = 200


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for its run_at (also after a failed attempt)
    RUNNING = "running"  # claimed by a worker until locked_until
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # failed its last attempt; kept for people to look at


class Job(Timestamped, Base):
    """One unit of background work. Not tenant-owned in its key: periodic jobs belong to
    the system; a tenant's job names its tenant in ``tenant_id``."""

    __tablename__ = "jobs"
    __table_args__ = (
        # What workers scan: due pending jobs, and running ones whose lease ran out.
        Index("ix_jobs_status_run_at", "status", "run_at"),
        Index("ix_jobs_tenant_id_kind", "tenant_id", "kind"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("tenants.id"), default=None
    )
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.PENDING)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_ATTEMPTS)
    locked_by: Mapped[str | None] = mapped_column(String(80), default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Natural idempotency: at most one live or succeeded job per key (``None``: no such
    # guarantee); a dead job's key is renamed (``worker.runner.released_key``).
    dedup_key: Mapped[str | None] = mapped_column(
        String(DEDUP_KEY_LENGTH), default=None, unique=True
    )


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    tenant_id: str | None = None,
    run_at: datetime | None = None,
    dedup_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> str | None:
    """Add a job in the caller's transaction; it runs at ``run_at`` (now by default).

    With a ``dedup_key`` that another job already holds, nothing is added and ``None`` is
    returned; otherwise the new job's id.
    """
    now = clock.now()
    values = {
        "id": new_id("job"), "tenant_id": tenant_id, "kind": kind, "payload": payload or {},
        "status": JobStatus.PENDING, "run_at": run_at or now, "attempts": 0,
        "max_attempts": max_attempts, "dedup_key": dedup_key, "created_at": now,
        "updated_at": now,
    }  # fmt: skip
    if dedup_key is None:
        session.add(Job(**values))
        await session.flush()
        return str(values["id"])
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    result = await session.execute(statement.returning(Job.id))
    added = result.scalar_one_or_none()
    return None if added is None else str(added)


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: 10 s, 40 s, 2.5 min,
    … growing fourfold, capped at six hours."""
    return timedelta(seconds=min(10 * 4 ** max(attempts - 1, 0), 6 * 3600))


async def job_by_key(session: AsyncSession, dedup_key: str) -> Job | None:
    return (await session.scalars(select(Job).where(Job.dedup_key == dedup_key))).one_or_none()
