"""The job queue and the worker, against a real database: jobs committed with their work,
retried with backoff, dead after the last try, claimed once however many workers run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.jobs import Job, JobStatus, backoff, enqueue
from flexbill.customers.models import Customer
from flexbill.worker.registry import Registry
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic, enqueue_due, slot_start
from tests.orders.support import tenant_context
from tests.support import Tenant

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


class Recorder:
    """Handlers that write a customer row per run (so a rolled-back run leaves no row)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.registry = Registry()
        self.runs: list[str] = []
        self.failures_left = 0
        self.registry.handles("record")(self.record)
        self.registry.handles("flaky")(self.flaky)

    async def record(self, session: AsyncSession, job: Job) -> None:
        self.runs.append(job.payload["name"])
        session.add(
            Customer(
                tenant_id=self.tenant_id, id=f"cust_{job.id}", email=f"{job.id}@example.com",
                first_name="Job", last_name=job.payload["name"], created_by="test",
            )
        )  # fmt: skip
        await asyncio.sleep(0)  # let other workers interleave

    async def flaky(self, session: AsyncSession, job: Job) -> None:
        await self.record(session, job)
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("gateway timed out")


@pytest.fixture
async def recorder(tenant: Tenant, database: Database) -> Recorder:
    ctx = await tenant_context(database, tenant)
    return Recorder(ctx.tenant_id)


async def _jobs(database: Database) -> list[Job]:
    async with database.transaction() as session:
        return list((await session.scalars(select(Job).order_by(Job.id))).all())


async def _customers(database: Database) -> int:
    async with database.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(Customer).where(Customer.last_name != "")
        )
        return int(count or 0)


async def _enqueue(database: Database, kind: str, **kwargs: Any) -> str | None:
    async with database.transaction() as session:
        return await enqueue(session, kind, **kwargs)


async def test_a_job_runs_once_and_commits_with_its_work(
    database: Database, recorder: Recorder
) -> None:
    with clock.frozen(T0):
        await _enqueue(database, "record", payload={"name": "first"})
        worker = Worker(database, recorder.registry)
        assert await worker.run_until_idle() == 1
        assert await worker.run_until_idle() == 0
    (job,) = await _jobs(database)
    assert (job.status, job.attempts, job.finished_at, job.locked_by) == (
        JobStatus.SUCCEEDED, 1, T0, None,
    )  # fmt: skip
    assert recorder.runs == ["first"]
    assert await _customers(database) == 1


async def test_a_job_waits_for_its_time(database: Database, recorder: Recorder) -> None:
    with clock.frozen(T0):
        await _enqueue(
            database, "record", payload={"name": "later"}, run_at=T0 + timedelta(hours=1)
        )
        worker = Worker(database, recorder.registry)
        assert await worker.run_until_idle() == 0
        clock.advance(timedelta(hours=1))
        assert await worker.run_until_idle() == 1
    assert recorder.runs == ["later"]


async def test_a_failed_attempt_rolls_back_and_retries_with_backoff(
    database: Database, recorder: Recorder
) -> None:
    recorder.failures_left = 2
    with clock.frozen(T0):
        await _enqueue(database, "flaky", payload={"name": "flaky"})
        worker = Worker(database, recorder.registry)
        assert await worker.run_until_idle() == 1
        (job,) = await _jobs(database)
        assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
        assert job.run_at == T0 + backoff(1) == T0 + timedelta(seconds=10)
        assert job.last_error == "RuntimeError: gateway timed out"
        assert await _customers(database) == 0  # the failed attempt's row is gone

        clock.advance(timedelta(seconds=10))
        await worker.run_until_idle()
        (job,) = await _jobs(database)
        assert (job.status, job.attempts, job.run_at) == (
            JobStatus.PENDING, 2, T0 + timedelta(seconds=10) + backoff(2),
        )  # fmt: skip
        clock.advance(backoff(2))
        await worker.run_until_idle()
    (job,) = await _jobs(database)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.SUCCEEDED, 3, None)
    assert await _customers(database) == 1


async def test_the_last_failure_leaves_the_job_dead(database: Database, recorder: Recorder) -> None:
    recorder.failures_left = 100
    with clock.frozen(T0):
        await _enqueue(database, "flaky", payload={"name": "doomed"}, max_attempts=3)
        worker = Worker(database, recorder.registry)
        for _ in range(3):
            await worker.run_until_idle()
            clock.advance(timedelta(hours=7))  # past any backoff
        assert await worker.run_until_idle() == 0
    (job,) = await _jobs(database)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 3)
    assert job.last_error == "RuntimeError: gateway timed out"
    assert await _customers(database) == 0


async def test_an_unknown_kind_is_dead_at_once(database: Database, recorder: Recorder) -> None:
    with clock.frozen(T0):
        await _enqueue(database, "nobody.handles.this")
        await Worker(database, recorder.registry).run_until_idle()
    (job,) = await _jobs(database)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 1)
    assert "no handler" in (job.last_error or "")


async def test_a_dedup_key_enqueues_once(database: Database, recorder: Recorder) -> None:
    first = await _enqueue(
        database, "record", payload={"name": "a"}, dedup_key="bill:sub_1:2025-03"
    )
    second = await _enqueue(
        database, "record", payload={"name": "b"}, dedup_key="bill:sub_1:2025-03"
    )
    assert first is not None
    assert second is None
    assert [job.payload["name"] for job in await _jobs(database)] == ["a"]


async def test_a_dead_job_gives_its_dedup_key_up(database: Database, recorder: Recorder) -> None:
    """The work a dead job stood for can be asked for again (the sweep that found a
    payment due finds it again) and then gets a fresh job."""
    recorder.failures_left = 1
    with clock.frozen(T0):
        await _enqueue(database, "flaky", payload={"name": "ada"}, dedup_key="k:1", max_attempts=1)
        await Worker(database, recorder.registry).run_until_idle()
        (dead,) = await _jobs(database)
        assert (dead.status, dead.dedup_key) == (JobStatus.DEAD, f"k:1#dead:{dead.id}")
        again = await _enqueue(database, "flaky", payload={"name": "ada"}, dedup_key="k:1")
        assert again is not None
        assert await _enqueue(database, "flaky", payload={"name": "ada"}, dedup_key="k:1") is None
        await Worker(database, recorder.registry).run_until_idle()
    assert sorted((job.status, job.dedup_key) for job in await _jobs(database)) == sorted(
        [(JobStatus.DEAD, f"k:1#dead:{dead.id}"), (JobStatus.SUCCEEDED, "k:1")]
    )
    assert await _customers(database) == 1


async def test_a_job_whose_worker_died_is_taken_over(
    database: Database, recorder: Recorder
) -> None:
    """A worker claims a job and dies before finishing it: once its lease runs out another
    worker runs the job; the dead worker can no longer complete it."""
    with clock.frozen(T0):
        await _enqueue(database, "record", payload={"name": "orphan"})
        dying = Worker(database, recorder.registry, name="dying", lease=timedelta(minutes=5))
        assert await dying._claim() != []
        survivor = Worker(database, recorder.registry, name="survivor")
        assert await survivor.run_until_idle() == 0  # still leased
        clock.advance(timedelta(minutes=6))
        assert await survivor.run_until_idle() == 1
        (job,) = await _jobs(database)
        await dying._run(job.id)  # too late: nothing happens
    (job,) = await _jobs(database)
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert recorder.runs == ["orphan"]


async def test_periodic_jobs_are_enqueued_once_per_slot(
    database: Database, recorder: Recorder
) -> None:
    """Every worker enqueues the schedule's jobs; each slot still runs once."""
    schedule = (Periodic("record", timedelta(hours=1)),)
    with clock.frozen(T0 + timedelta(minutes=20)):
        for _ in range(3):
            async with database.transaction() as session:
                assert await enqueue_due(session, schedule, clock.now()) in (0, 1)
        (job,) = await _jobs(database)
        assert job.run_at == slot_start(clock.now(), timedelta(hours=1)) == T0
        assert job.payload == {"slot": T0.isoformat()}
        clock.advance(timedelta(hours=1))
        async with database.transaction() as session:
            assert await enqueue_due(session, schedule, clock.now()) == 1
    assert len(await _jobs(database)) == 2


async def test_workers_side_by_side_run_each_job_once(
    database: Database, recorder: Recorder
) -> None:
    """Three workers drain 60 jobs at the same time: every job runs exactly once (on
    PostgreSQL they skip each other's locked rows; on SQLite they take turns)."""
    with clock.frozen(T0):
        async with database.transaction() as session:
            for index in range(60):
                await enqueue(session, "record", {"name": f"job-{index}"})
        workers = [Worker(database, recorder.registry, batch=7, name=f"w{i}") for i in range(3)]
        ran = await asyncio.gather(*(worker.run_until_idle() for worker in workers))
    assert sum(ran) == 60
    assert sorted(recorder.runs) == sorted(f"job-{index}" for index in range(60))
    assert {job.status for job in await _jobs(database)} == {JobStatus.SUCCEEDED}
    assert await _customers(database) == 60
