"""Claiming and running jobs.

A worker claims a batch of due jobs in one short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL, so workers on several machines never claim the same job; SQLite has one
writer at a time anyway), leasing each for ``lease``. It then runs each job in its own
transaction, in which the job is also marked done: the work and its completion commit
together or not at all. A worker that dies mid-job leaves the lease to expire, and the
job is claimed again. A failed attempt is put back with a growing delay
(``core.jobs.backoff``); the last one leaves the job ``dead`` and frees its dedup key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.core.jobs import DEDUP_KEY_LENGTH, MAX_ERROR_LENGTH, Job, JobStatus, backoff
from flexbill.worker.registry import Registry
from flexbill.worker.schedule import Periodic, enqueue_due

log = logging.getLogger(__name__)


class UnknownJobKind(LookupError):
    """No handler knows the job: retrying cannot help, so it is dead at once."""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id('w')[-6:]}"


def released_key(job: Job) -> str | None:
    """The key a dead job keeps: its own, renamed, so that the work it stood for (a
    payment's attempt, a tenant's billing) can be asked for again and get a fresh job,
    while people can still see which key died."""
    if job.dedup_key is None:
        return None
    return f"{job.dedup_key}#dead:{job.id}"[-DEDUP_KEY_LENGTH:]


class Worker:
    def __init__(
        self,
        database: Database,
        registry: Registry,
        *,
        schedule: Sequence[Periodic] = (),
        lease: timedelta = timedelta(minutes=5),
        batch: int = 20,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.schedule = tuple(schedule)
        self.lease = lease
        self.batch = batch
        self.name = name or _worker_name()

    async def run_once(self) -> int:
        """Enqueue what the schedule says is due, then claim and run one batch of due jobs;
        the number of jobs run."""
        if self.schedule:
            async with self.database.transaction() as session:
                await enqueue_due(session, self.schedule, clock.now())
        claimed = await self._claim()
        for job_id in claimed:
            await self._run(job_id)
        return len(claimed)

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Run batches until no job is due (tests and ``flexbill worker --once``)."""
        total = 0
        for _ in range(max_rounds):
            ran = await self.run_once()
            total += ran
            if ran == 0:
                return total
        return total

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                ran = await self.run_once()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("worker round failed")
                ran = 0
            if ran == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_seconds)

    async def _claim(self) -> list[str]:
        now = clock.now()
        due = or_(
            and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
            and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),
        )
        statement = select(Job).where(due).order_by(Job.run_at, Job.id).limit(self.batch)
        if self.database.kind == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        async with self.database.transaction() as session:
            jobs = list((await session.scalars(statement)).all())
            for job in jobs:
                job.status = JobStatus.RUNNING
                job.locked_by = self.name
                job.locked_until = now + self.lease
                job.attempts += 1
        return [job.id for job in jobs]

    async def _run(self, job_id: str) -> None:
        try:
            async with self.database.transaction() as session:
                job = await self._still_mine(session, job_id)
                if job is None:
                    return
                handler = self.registry.get(job.kind)
                if handler is None:
                    raise UnknownJobKind(f"no handler for job kind {job.kind!r}")
                await handler(session, job)
                job.status = JobStatus.SUCCEEDED
                job.finished_at = clock.now()
                job.locked_by = job.locked_until = None
                job.last_error = None
        except Exception as error:
            log.warning("job %s failed: %s", job_id, error, exc_info=True)
            await self._fail(job_id, error, final=isinstance(error, UnknownJobKind))

    async def _still_mine(self, session: AsyncSession, job_id: str) -> Job | None:
        job = await session.get(Job, job_id, with_for_update=True, populate_existing=True)
        if job is None or job.status != JobStatus.RUNNING or job.locked_by != self.name:
            return None  # its lease ran out and another worker took it over
        return job

    async def _fail(self, job_id: str, error: Exception, *, final: bool) -> None:
        async with self.database.transaction() as session:
            job = await self._still_mine(session, job_id)
            if job is None:
                return
            job.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            job.locked_by = job.locked_until = None
            if final or job.attempts >= job.max_attempts:
                job.status = JobStatus.DEAD
                job.finished_at = clock.now()
                job.dedup_key = released_key(job)
            else:
                job.status = JobStatus.PENDING
                job.run_at = clock.now() + backoff(job.attempts)
