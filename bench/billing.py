"""The billing run over many due subscriptions, beside a baseline of plain bulk inserts.

For each size, a fresh database: ``size`` active subscriptions are bulk-seeded into the
business unit's live tenant with their last order placed more than a month ago, so that
every one of them is due for exactly one period. The run is timed as the job handler
``billing.run_tenant`` does it: ``bill_due`` with ``limit=billing_units_per_job`` in its own
transaction, continued from the cursor in the next one until it returns none. Afterwards
the invoices, lines and payments written are counted: each must be ``size``.

The baseline, measured right after in the same database: the same number of invoice,
invoice-line and payment rows, shaped as the run writes them, inserted with plain
SQLAlchemy Core ``executemany`` (batches of ``bulk.BATCH``, one transaction) into the test
tenant, whose invoice tables are empty. The ratio run ÷ baseline says what billing costs
beyond writing its rows: finding and locking the due subscriptions, computing the periods,
numbering, the ORM, the ``payment.scheduled`` events and the subscriptions' updates.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text

from bench import aio, bulk
from bench.backends import database
from bench.orders import create_catalog
from bench.server import Server, bootstrap
from flexbill.billing.models import Invoice, InvoiceLine, Payment
from flexbill.billing.run import bill_due
from flexbill.config import get_settings
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.tenancy.service import system_context

# Orders placed this long ago: their first month is over, the second has started.
DAYS_AGO = 40


@dataclass(frozen=True)
class BillingResult:
    backend: str
    subscriptions: int
    seconds: float  # the billing run, all its jobs
    jobs: int
    invoices: int
    baseline_seconds: float  # invoice + line + payment rows for as many subscriptions
    baseline_rows: int
    seed_seconds: float

    @property
    def per_second(self) -> float:
        return self.subscriptions / self.seconds

    @property
    def baseline_per_second(self) -> float:
        return self.subscriptions / self.baseline_seconds

    @property
    def ratio(self) -> float:
        return self.per_second / self.baseline_per_second


@dataclass(frozen=True)
class Timed:
    seconds: float
    jobs: int


async def run_billing(url: str, tenant_id: str) -> Timed:
    """Bill the tenant in jobs of ``billing_units_per_job``, one transaction each."""
    db = Database(url)
    now = datetime.now(UTC)
    cursor: str | None = None
    jobs = 0
    try:
        started = time.perf_counter()
        while True:
            async with db.transaction() as session:
                ctx = await system_context(session, tenant_id)
                result = await bill_due(
                    session, ctx, now, limit=get_settings().billing_units_per_job, cursor=cursor
                )
            jobs += 1
            cursor = result.cursor
            if cursor is None:
                return Timed(time.perf_counter() - started, jobs)
    finally:
        await db.dispose()


async def count_billed(url: str, tenant_id: str) -> tuple[int, int, int]:
    """Invoices, invoice lines and payments of the tenant."""
    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            counts = []
            for model in (Invoice, InvoiceLine, Payment):
                statement = select(func.count()).select_from(model)
                counts.append(
                    int(await session.scalar(statement.where(model.tenant_id == tenant_id)) or 0)
                )
            return counts[0], counts[1], counts[2]
    finally:
        await db.dispose()


def _baseline_rows(
    tenant_id: str, customer_ids: Sequence[str], first: int, count: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Invoices, lines and payments of ``count`` one-line bills, as the run shapes them."""
    invoices, lines, payments = [], [], []
    today = now.date()
    period_start = today - timedelta(days=10)
    period_end = period_start + timedelta(days=30)
    due = today + timedelta(days=14)
    stamp = {"tenant_id": tenant_id, "created_at": now, "updated_at": now}
    for number in range(first, first + count):
        invoice_id, rental_id = new_id("inv"), new_id("sub")
        customer_id = customer_ids[number // bulk.DEVICES_PER_ORDER]
        key = f"{rental_id}:{period_start.isoformat()}"
        amount = bulk.MONTHLY_AMOUNT
        invoices.append({
            **stamp, "id": invoice_id, "number": f"INV-{number + 1:06d}", "billing_key": key,
            "status": "open", "customer_id": customer_id, "subscription_id": rental_id,
            "billing_group_id": None, "period_start": period_start, "period_end": period_end,
            "vat_rate": Decimal("0"), "vat_mode": "exclusive", "subtotal": amount,
            "tax_amount": 0, "total": amount, "amount_paid": 0, "issued_at": now,
            "due_date": due,
        })  # fmt: skip
        lines.append({
            "tenant_id": tenant_id, "invoice_id": invoice_id, "position": 1, "kind": "rental",
            "description": f"{bulk.ADDRESS['contactName']} rental {period_start:%Y-%m}",
            "subscription_id": rental_id, "quantity": 1, "unit_amount": amount,
            "amount": amount, "tax_amount": 0, "total": amount, "period_start": period_start,
            "period_end": period_end,
        })  # fmt: skip
        payments.append({
            **stamp, "id": new_id("pay"), "status": "pending", "payment_type": "individual",
            "customer_id": customer_id, "rental_id": rental_id, "billing_group_id": None,
            "invoice_id": invoice_id, "billing_period": f"{period_start:%Y-%m}",
            "period_start": period_start, "amount": amount, "original_amount": amount,
            "late_fee_applied": False, "late_fee_amount": 0, "due_date": due,
            "capture_attempts": 0, "line_items": [_line_item(rental_id, period_start,
            period_end, amount)], "idempotency_key": key, "manually_marked": False,
        })  # fmt: skip
    return invoices, lines, payments


def _line_item(rental_id: str, start: date, end: date, amount: int) -> dict[str, Any]:
    return {
        "description": "rental", "kind": "rental", "rental_id": rental_id,
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "net_amount": amount, "tax_amount": 0, "amount": amount,
    }  # fmt: skip


async def run_baseline(url: str, tenant_id: str, customer_ids: Sequence[str], count: int) -> Timed:
    """Insert ``count`` invoices, lines and payments with ``executemany``; the rows are
    built inside the timing, as the run builds its own."""
    db = Database(url)
    now = datetime.now(UTC)
    try:
        async with db.write_engine.begin() as connection:
            if db.kind == "postgresql":
                # Fresh statistics, so the foreign-key checks use the primary keys (see
                # bulk._analyze); the billing run before has filled these tables.
                for model in (Invoice, InvoiceLine, Payment):
                    await connection.execute(text(f"ANALYZE {model.__tablename__}"))
        started = time.perf_counter()
        async with db.write_engine.begin() as connection:
            for first in range(0, count, bulk.BATCH):
                invoices, lines, payments = _baseline_rows(
                    tenant_id, customer_ids, first, min(bulk.BATCH, count - first), now
                )
                await connection.execute(insert(Invoice), invoices)
                await connection.execute(insert(InvoiceLine), lines)
                await connection.execute(insert(Payment), payments)
        return Timed(time.perf_counter() - started, 1)
    finally:
        await db.dispose()


def bench_billing(backend: str, size: int, scratch: str) -> BillingResult:
    """One size on a fresh database of ``backend``: seed, bill, count, baseline."""
    from pathlib import Path

    with database(backend) as url:
        credentials = bootstrap(url)
        with Server(url, Path(scratch) / f"billing-{size}.log") as server:
            variant = aio.run(create_catalog(server.port, credentials.headers()))
        tenants = aio.run(bulk.tenant_ids(url, credentials.tenant_id))
        started = time.perf_counter()
        aio.run(
            bulk.seed_subscriptions(url, tenants["live"], variant, size, "bill", days_ago=DAYS_AGO)
        )
        customers = aio.run(
            bulk.seed_customers(url, tenants["test"], -(-size // bulk.DEVICES_PER_ORDER), "base")
        )
        seed_seconds = time.perf_counter() - started
        print(f"  billing {size:,}: seeded in {seed_seconds:.1f} s; billing", flush=True)
        billed = aio.run(run_billing(url, tenants["live"]))
        invoices, lines, payments = aio.run(count_billed(url, tenants["live"]))
        if not invoices == lines == payments == size:
            raise RuntimeError(
                f"the run wrote {invoices} invoices, {lines} lines, {payments} payments "
                f"for {size} due subscriptions"
            )
        baseline = aio.run(run_baseline(url, tenants["test"], customers, size))
    result = BillingResult(
        backend=backend, subscriptions=size, seconds=billed.seconds, jobs=billed.jobs,
        invoices=invoices, baseline_seconds=baseline.seconds, baseline_rows=3 * size,
        seed_seconds=seed_seconds,
    )  # fmt: skip
    print(
        f"  billing {size:,}: {result.seconds:.1f} s ({result.per_second:,.0f} subscriptions/s, "
        f"{billed.jobs} jobs) vs baseline {result.baseline_seconds:.1f} s "
        f"({result.baseline_per_second:,.0f}/s) → {result.ratio:.3f}",
        flush=True,
    )
    return result
