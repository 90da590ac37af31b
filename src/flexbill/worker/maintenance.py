"""The worker's own housekeeping jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.jobs import Job, JobStatus
from flexbill.worker.registry import handles

PRUNE_JOBS = "jobs.prune"
KEEP_SUCCEEDED = timedelta(days=7)


@handles(PRUNE_JOBS)
async def prune_jobs(session: AsyncSession, job: Job) -> None:
    """Forget jobs that succeeded a week ago (dead ones stay until people look at them)."""
    cutoff = clock.now() - KEEP_SUCCEEDED
    await session.execute(
        delete(Job).where(Job.status == JobStatus.SUCCEEDED, Job.finished_at < cutoff)
    )
