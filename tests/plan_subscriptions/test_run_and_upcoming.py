"""General subscriptions in the billing run (batches with a cursor, the sweep's list of
tenants, test clocks) and the upcoming invoice, computed without writing anything."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from flexbill.billing import run
from flexbill.billing.models import Invoice, LineKind
from flexbill.catalog.plan_models import BillingTiming, ChargeModel
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.plan_subscriptions import lifecycle, upcoming
from flexbill.plan_subscriptions.contract import UpcomingInvoice
from flexbill.plan_subscriptions.models import ChangeOption, PendingCharge, TrialUnit
from flexbill.usage.models import UsageRecord
from tests.orders.support import tenant_context
from tests.plan_subscriptions.support import (
    Price,
    in_transaction,
    invoices,
    lifecycle_call,
    plan,
    record_usage,
    subscribe,
    summary,
    travel,
)
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat
SEAT = Price("Seat", unit_amount=D("30.00"))


async def test_the_run_bills_in_limited_batches_and_continues(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 1, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, SEAT)
        for _ in range(3):
            await subscribe(database, tenant, customer, prices)
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        assert await run.tenants_with_due_work(session, d("2026-01-31")) == []
        assert await run.tenants_with_due_work(session, d("2026-02-01")) == [ctx.tenant_id]
    moment = datetime(2026, 2, 1, 9, tzinfo=UTC)
    async with database.transaction() as session:
        first = await run.bill_due(session, ctx, moment, limit=2)
    assert (first.invoices, first.cursor is not None) == (2, True)
    assert str(first.cursor).startswith("plan_subscriptions:")
    async with database.transaction() as session:
        rest = await run.bill_due(session, ctx, moment, limit=2, cursor=first.cursor)
    assert (rest.invoices, rest.cursor) == (1, None)
    async with database.transaction() as session:
        assert (await run.bill_due(session, ctx, moment)).invoices == 0
    assert [row[0] for row in summary(await invoices(database))] == ["2026-01-01"] * 3 + [
        "2026-02-01"
    ] * 3


async def test_a_test_clock_bills_its_customers_subscriptions_on_its_time(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """The real time is 10 January; the customer's clock says 1 March: the subscription
    starts on the clock's day, the sweep leaves it alone, the clock's advance bills it."""
    test_api = api.with_key(tenant.test_key)
    with clock.frozen(datetime(2026, 1, 10, 9, tzinfo=UTC)):
        customer = (await test_api.create_customer())["customerId"]
        response = await test_api.post("/v1/test-clocks", {"frozenTime": "2026-03-01T09:00:00Z"})
        assert response.status_code == 201, response.text
        path = f"/v1/test-clocks/{response.json()['testClock']['testClockId']}"
        attached = await test_api.post(f"{path}/customers", {"customerId": customer})
        assert attached.status_code == 200, attached.text
        prices = await plan(database, tenant, SEAT, test_mode=True)
        view = await subscribe(database, tenant, customer, prices, test_mode=True)
        assert view.subscription.start_date == d("2026-03-01")
        await travel(database, d("2026-04-15"))  # the real time passes the clock's
        assert len(await invoices(database)) == 1
        advanced = await test_api.post(f"{path}/advance", {"frozenTime": "2026-05-02T09:00:00Z"})
        assert advanced.status_code == 200, advanced.text
    assert summary(await invoices(database)) == [
        ("2026-03-01", "2026-03-01", "2026-04-01", D("30.00")),
        ("2026-04-01", "2026-04-01", "2026-05-01", D("30.00")),
        ("2026-05-01", "2026-05-01", "2026-06-01", D("30.00")),
    ]


async def next_invoice(database: Database, tenant: Tenant, sid: str) -> UpcomingInvoice | None:
    return await in_transaction(
        database, tenant, lambda session, ctx: upcoming.next_invoice(session, ctx, sid)
    )


async def test_the_upcoming_invoice(api: Api, database: Database, tenant: Tenant) -> None:
    """On 10 April: the invoice of 1 May will bill April's usage so far (50 × 0.10), May's
    seat and a pending credit, with 19 % VAT on top; nothing is written to see it."""
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        response = await api.patch(
            "/v1/settings", {"vat": {"enabled": True, "rate": 19, "mode": "exclusive"}}
        )
        assert response.status_code == 200, response.text
        customer = (await api.create_customer())["customerId"]
        prices = await plan(
            database, tenant, SEAT,
            Price("Calls", ChargeModel.PER_UNIT, D("0.10"), BillingTiming.IN_ARREARS),
        )  # fmt: skip
        view = await subscribe(database, tenant, customer, prices)
        sid = view.subscription.id
        await record_usage(database, tenant, view, 1, D(50), d("2026-04-03"))
        async with database.transaction() as session:
            session.add(
                PendingCharge(
                    tenant_id=view.subscription.tenant_id, id=new_id("pch"), subscription_id=sid,
                    item_id=view.items[0].id, kind=LineKind.PRORATION_CREDIT,
                    description="Unused time – Seat", quantity=1, amount=-300,
                    period_start=d("2026-04-10"), period_end=d("2026-05-01"),
                )
            )  # fmt: skip
        await travel(database, d("2026-04-10"))
        seen = await next_invoice(database, tenant, sid)
        assert seen is not None
        assert (seen.bill_date, seen.period_start, seen.period_end) == (
            d("2026-05-01"), d("2026-04-01"), d("2026-06-01"),
        )  # fmt: skip
        assert [(line.kind, line.amount, line.tax_amount, line.total) for line in seen.lines] == [
            ("usage", 500, 95, 595), ("plan", 3000, 570, 3570),
            ("proration_credit", -300, -57, -357),
        ]  # fmt: skip
        assert [line.usage_quantity for line in seen.lines] == [D(50), None, None]
        assert (seen.subtotal, seen.tax_amount, seen.total) == (3200, 608, 3808)
        assert (seen.credit_available, seen.amount_due, seen.currency) == (0, 3808, "EUR")
        async with database.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Invoice)) == 1
            assert await session.scalar(select(UsageRecord.status)) == "pending"
        await travel(database, d("2026-05-01"))
        billed = (await invoices(database))[-1]
        assert ([line[4] for line in billed.lines], billed.total) == (
            [D("5.95"), D("35.70"), D("-3.57")], D("38.08"),
        )  # fmt: skip
        # Cancelled when May's seat runs out: the last invoice rates May's usage only.
        await lifecycle_call(
            database, tenant, lifecycle.cancel, sid, ChangeOption.END_OF_CURRENT_TERM
        )
        last = await next_invoice(database, tenant, sid)
        assert last is not None
        assert [(line.kind, line.period_start, line.total) for line in last.lines] == [
            ("usage", d("2026-05-01"), 0)
        ]
        assert last.bill_date == d("2026-06-01")
        await lifecycle_call(database, tenant, lifecycle.unschedule, sid)
        await lifecycle_call(database, tenant, lifecycle.cancel, sid, ChangeOption.TODAY)
        assert await next_invoice(database, tenant, sid) is None


async def test_the_upcoming_invoice_of_a_trial_is_its_first(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, SEAT)
        view = await subscribe(
            database, tenant, customer, prices, trial_period=1, trial_period_unit=TrialUnit.MONTHS
        )
        seen = await next_invoice(database, tenant, view.subscription.id)
    assert seen is not None
    assert (seen.bill_date, seen.total, seen.lines[0].period_end) == (
        d("2026-05-01"), 3000, d("2026-06-01"),
    )  # fmt: skip
