"""The billing run over many subscriptions: it survives crashes at random points inside its
jobs, and two workers give what one gives."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import run
from flexbill.billing.models import Invoice, Payment
from flexbill.billing.numbering import invoice_number
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.jobs import Job, JobStatus, enqueue
from flexbill.customers.models import Customer
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from flexbill.tenancy.context import TenantContext
from flexbill.worker.registry import REGISTRY, Registry
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.billing.run_support import rent, set_status
from tests.orders.support import tenant_context
from tests.subscriptions.support import events_of
from tests.support import Api, Tenant

SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)


async def clone(database: Database, ctx: TenantContext, template_id: str, count: int) -> list[str]:
    """``count`` copies of a subscription, for as many customers, bulk-inserted, starting on
    days 5–28 of January 2025 at various monthly amounts; their ids."""
    async with database.transaction() as session:
        template = await session.get_one(Subscription, (ctx.tenant_id, template_id))
        columns = {c.key: getattr(template, c.key) for c in Subscription.__table__.columns}
        customer = await session.get_one(Customer, (ctx.tenant_id, template.customer_id))
        people = {c.key: getattr(customer, c.key) for c in Customer.__table__.columns}
        subscriptions, customers = [], []
        for n in range(count):
            start = date(2025, 1, 5 + n % 24)
            customers.append({**people, "id": f"cust_bulk{n:05d}", "email": f"b{n}@example.com"})
            subscriptions.append(
                {
                    **columns, "id": f"sub_bulk{n:05d}", "customer_id": f"cust_bulk{n:05d}",
                    "serial_number": f"BULK-{n:05d}", "monthly_amount": 1000 + n,
                    "start_date": start, "end_date": add_months(start, 12),
                    "next_billing_date": start, "setup_fee": 0,
                }
            )  # fmt: skip
        await session.execute(insert(Customer), customers)
        await session.execute(insert(Subscription), subscriptions)
    return [row["id"] for row in subscriptions]


async def check_billed_once(database: Database, ids: list[str], months: int) -> None:
    """Each subscription has exactly ``months`` invoices and payments, of its first
    ``months`` periods at its own price; invoice numbers run 1…N without a gap; one
    ``payment.scheduled`` per payment."""
    async with database.transaction() as session:
        rows = (
            await session.execute(
                select(Invoice.subscription_id, Invoice.period_start, Invoice.total, Invoice.number)
            )
        ).all()
        payments = Counter((await session.scalars(select(Payment.rental_id))).all())
        scheduled = await session.scalar(select(func.count()).select_from(Payment))
        nexts = dict(
            (await session.execute(select(Subscription.id, Subscription.next_billing_date))).all()
        )
    numbers = sorted(number for *_, number in rows)
    assert numbers == [invoice_number(n) for n in range(1, len(rows) + 1)]
    assert len(await events_of(database, "payment.scheduled")) == scheduled == len(rows)
    periods: dict[str | None, list[date]] = {}
    for subscription_id, start, total, _ in rows:
        periods.setdefault(subscription_id, []).append(start)
        assert total == 1000 + int(str(subscription_id)[-5:])
    for n, rental_id in enumerate(ids):
        start = date(2025, 1, 5 + n % 24)
        expected = [add_months(start, k) for k in range(months)]
        assert sorted(periods[rental_id]) == expected, rental_id
        assert payments[rental_id] == months
        assert nexts[rental_id] == add_months(start, months)


async def test_a_crashing_run_bills_every_period_exactly_once(
    api: Api,
    database: Database,
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    configure: Callable[..., None],
) -> None:
    """2,000 subscriptions billed over three months by a worker whose database statements
    fail at random inside the billing jobs (a crash at any point rolls the job back); the
    jobs are retried until everything is billed: exactly one invoice and one payment per
    subscription and period, and gapless numbers."""
    monkeypatch.setattr(run, "BATCH", 50)
    configure(billing_units_per_job="300")
    chaos = random.Random(20250301)
    armed = False

    def crash(*_: Any) -> None:
        if armed and chaos.random() < 1 / 150:
            raise ConnectionError("the worker died")

    async def flaky(handler: Any, session: AsyncSession, job: Job) -> None:
        nonlocal armed
        armed = True
        try:
            await handler(session, job)
        finally:
            armed = False

    async def sweep(session: AsyncSession, job: Job) -> None:
        await flaky(run.sweep, session, job)

    async def run_tenant(session: AsyncSession, job: Job) -> None:
        await flaky(run.run_tenant, session, job)

    registry = Registry()
    registry.handles(run.SWEEP)(sweep)
    registry.handles(run.RUN_TENANT)(run_tenant)
    event.listen(database.write_engine.sync_engine, "before_cursor_execute", crash)
    ctx = await tenant_context(database, tenant)
    with clock.frozen(datetime(2025, 1, 5, 0, 5, tzinfo=UTC)):
        laptop = await rent(api, "SN-1")
        ids = await clone(database, ctx, laptop["rentalId"], 2000)
        await set_status(database, laptop["rentalId"], "cancelled")
        worker = Worker(database, registry, schedule=SCHEDULE, batch=5)
        for day in (date(2025, 1, 28), date(2025, 2, 28), date(2025, 3, 29)):
            clock.advance(datetime.combine(day, time(0, 5), UTC) - clock.now())
            await drain(database, worker)
        failures = await session_count(database, Job.attempts > 1)
    event.remove(database.write_engine.sync_engine, "before_cursor_execute", crash)
    assert failures > 3  # the chaos did strike
    await check_billed_once(database, ids, months=3)


async def drain(database: Database, worker: Worker) -> None:
    """Run jobs until none is left to retry, moving the clock to each retry's time."""
    while True:
        await worker.run_until_idle()
        async with database.transaction() as session:
            waiting = await session.scalar(
                select(func.min(Job.run_at)).where(Job.status == JobStatus.PENDING)
            )
        if waiting is None:
            return
        clock.advance(max(waiting - clock.now(), timedelta(seconds=1)))


async def session_count(database: Database, condition: Any) -> int:
    async with database.transaction() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Job).where(condition)) or 0
        )


async def test_two_workers_on_one_tenant_bill_as_one_would(
    api: Api, database: Database, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers run two billing jobs of the same tenant at the same time (on
    PostgreSQL truly at once): every period is billed once, numbers stay gapless."""
    monkeypatch.setattr(run, "BATCH", 20)
    ctx = await tenant_context(database, tenant)
    with clock.frozen(datetime(2025, 1, 5, 9, tzinfo=UTC)):
        laptop = await rent(api, "SN-1")
        ids = await clone(database, ctx, laptop["rentalId"], 300)
        await set_status(database, laptop["rentalId"], "cancelled")
        clock.advance(timedelta(days=24))
        async with database.transaction() as session:
            for copy in ("a", "b"):
                await enqueue(session, run.RUN_TENANT, {"slot": copy}, tenant_id=ctx.tenant_id)
        workers = [Worker(database, REGISTRY, batch=1, name=f"w{n}") for n in (1, 2)]
        await asyncio.gather(*(w.run_until_idle() for w in workers))
    assert await session_count(database, Job.status != JobStatus.SUCCEEDED) == 0
    await check_billed_once(database, ids, months=1)
