"""Workers killed with SIGKILL at random moments, started again, again and again: the
billing run and the collection that follows end with exactly one invoice and one payment
per subscription and period, gapless invoice numbers, and every payment charged once.

The workers are real ``flexbill worker`` processes on the test's database; nothing is
injected into them. A killed worker's transaction is rolled back by the database, its
claimed jobs are taken over once their lease (one second here) runs out, and the sandbox
gateway, whose ledger is a file of its own, remembers the charges a killed worker made
before it could record them.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from flexbill.billing import collection
from flexbill.billing.models import Invoice, Payment
from flexbill.billing.numbering import invoice_number
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.core.jobs import Job, JobStatus, enqueue
from flexbill.customers.models import Customer
from flexbill.events.models import Event
from flexbill.payments.models import PaymentMethod, Transaction
from flexbill.payments.sandbox import default_ledger
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from flexbill.worker.handlers import worker
from tests.billing.factories import rentals
from tests.orders.support import tenant_context
from tests.support import Api, Tenant

SUBSCRIPTIONS = 300
KILLS_PER_PHASE = 4
LEASE_SECONDS = 1


async def _many(api: Api, database: Database, tenant: Tenant, today: date) -> list[str]:
    """``SUBSCRIPTIONS`` copies of one laptop rental, each for its own customer with a
    default test card and auto-charge, started 0–74 days ago (so one to three periods are
    due); their ids."""
    (template,) = await rentals(api)
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        sub = await session.get_one(Subscription, (ctx.tenant_id, template["rentalId"]))
        columns = {c.key: getattr(sub, c.key) for c in Subscription.__table__.columns}
        person = await session.get_one(Customer, (ctx.tenant_id, sub.customer_id))
        people = {c.key: getattr(person, c.key) for c in Customer.__table__.columns}
        await session.delete(sub)
        subscriptions, customers, cards = [], [], []
        for n in range(SUBSCRIPTIONS):
            start = today - timedelta(days=n % 75)
            customer_id = f"cust_k{n:05d}"
            customers.append(
                {**people, "id": customer_id, "email": f"k{n}@example.com", "auto_charge": True}
            )
            cards.append(
                {
                    "tenant_id": ctx.tenant_id, "id": new_id("pm"), "customer_id": customer_id,
                    "gateway": "sandbox", "token": "tok_visa", "brand": "visa",
                    "last4": "4242", "is_default": True, "status": "active",
                    "created_at": clock.now(), "updated_at": clock.now(),
                }
            )  # fmt: skip
            subscriptions.append(
                {
                    **columns, "id": f"sub_k{n:05d}", "customer_id": customer_id,
                    "serial_number": f"KILL-{n:05d}", "monthly_amount": 1000 + n,
                    "start_date": start, "end_date": add_months(start, 12),
                    "next_billing_date": start, "setup_fee": 0,
                }
            )  # fmt: skip
        await session.execute(insert(Customer), customers)
        await session.execute(insert(PaymentMethod), cards)
        await session.execute(insert(Subscription), subscriptions)
    return [row["id"] for row in subscriptions]


async def _working(database: Database, pid: int) -> bool:
    """Whether the worker process ``pid`` holds a job (worker names carry their pid).
    A read, which on SQLite does not wait for the worker's write transaction to end."""
    async with database.transaction(write=False) as session:
        statement = select(func.count()).where(
            Job.status == JobStatus.RUNNING, Job.locked_by.like(f"%:{pid}:%")
        )
        return bool(await session.scalar(statement))


async def _kill_workers_repeatedly(
    database: Database, database_url: str, kills: int, chance: random.Random
) -> int:
    """Start a ``flexbill worker``, kill it at a random moment after it took its first job,
    ``kills`` times; how many were killed while holding a job."""
    environment = {**os.environ, "FLEXBILL_DATABASE_URL": database_url}
    killed_at_work = 0
    for _ in range(kills):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from flexbill.cli import main; main()", "worker",
            env=environment, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(600):  # starting (imports, migrations) takes seconds on a busy machine
            if process.returncode is not None or await _working(database, process.pid):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(chance.uniform(0, 0.5))
        # Between two jobs the worker holds none for a moment; a busy machine can stretch
        # that moment, so wait for the next job (while there is work) before killing.
        for _ in range(100):
            if process.returncode is not None or await _working(database, process.pid):
                break
            await asyncio.sleep(0.02)
        if process.returncode is None:
            killed_at_work += await _working(database, process.pid)
            process.send_signal(signal.SIGKILL)
        await process.wait()
        await asyncio.sleep(LEASE_SECONDS)  # the next one may take the killed one's jobs over
    return killed_at_work


async def _finish(database: Database) -> None:
    """What the killed workers left: taken over once their leases ran out."""
    await asyncio.sleep(LEASE_SECONDS + 0.1)
    await worker(database).run_until_idle()


async def _unfinished_jobs(database: Database) -> list[Job]:
    async with database.transaction() as session:
        statement = select(Job).where(Job.status.not_in([JobStatus.SUCCEEDED]))
        return list((await session.scalars(statement)).all())


async def test_killed_workers_bill_and_charge_every_period_once(
    api: Api,
    database: Database,
    tenant: Tenant,
    database_url: str,
    configure: Callable[..., None],
) -> None:
    # Small jobs, so that kills land in different ones and work done before a kill stays.
    configure(worker_lease_seconds=str(LEASE_SECONDS), billing_units_per_job="40")
    today = clock.now().date()
    ids = await _many(api, database, tenant, today)
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)

    # Billing: each kill loses the job in flight, which is billed again.
    killed = await _kill_workers_repeatedly(database, database_url, KILLS_PER_PHASE, chance)
    await _finish(database)  # every period billed before the collection sweep looks
    # Collection of what was billed: a charge whose recording was killed is answered again.
    async with database.transaction() as session:
        await enqueue(session, collection.COLLECT_DUE, {"slot": f"killed-{seed}"})
    killed += await _kill_workers_repeatedly(database, database_url, KILLS_PER_PHASE, chance)
    await _finish(database)
    assert await _unfinished_jobs(database) == [], f"seed {seed}"
    assert killed >= KILLS_PER_PHASE, f"seed {seed}: the workers were mostly killed idle"

    async with database.transaction() as session:
        invoices = (
            await session.execute(
                select(Invoice.subscription_id, Invoice.period_start, Invoice.number)
            )
        ).all()
        payments = list((await session.scalars(select(Payment))).all())
        transactions = list((await session.scalars(select(Transaction))).all())
        events = Counter(
            dict(
                (await session.execute(select(Event.type, func.count()).group_by(Event.type))).all()
            )
        )
    expected: dict[str | None, list[date]] = {}
    for n, rental_id in enumerate(ids):
        first = today - timedelta(days=n % 75)
        expected[rental_id] = [
            add_months(first, k) for k in range(4) if add_months(first, k) <= today
        ]
    periods: dict[str | None, list[date]] = {}
    for billed_id, start, _ in invoices:
        periods.setdefault(billed_id, []).append(start)
    assert {k: sorted(v) for k, v in periods.items()} == expected, f"seed {seed}"
    numbers = sorted(number for *_, number in invoices)
    assert numbers == [invoice_number(n) for n in range(1, len(invoices) + 1)]

    assert len(payments) == len(invoices)
    assert {p.status for p in payments} == {"paid"}
    assert {p.capture_attempts for p in payments} == {1}
    assert Counter(t.payment_id for t in transactions) == Counter({p.id: 1 for p in payments})
    assert {t.status for t in transactions} == {"succeeded"}
    ctx = await tenant_context(database, tenant)
    charged = Counter(c.idempotency_key for c in default_ledger().charges(ctx.tenant_id))
    assert charged == Counter({f"{p.id}:attempt:1": 1 for p in payments}), f"seed {seed}"
    assert events["payment.scheduled"] == events["payment.succeeded"] == len(payments)
