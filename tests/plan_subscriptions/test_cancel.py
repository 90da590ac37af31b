"""Cancelling: at the end of the term (scheduled, so the term does not renew), and today
in the middle of a period (a final invoice: usage up to today, a credit for the days paid
in advance that will not be used). Drafts are activated, or cancelled before anything is
billed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from flexbill.catalog.plan_models import BillingTiming, ChargeModel, PeriodUnit, PriceCategory
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError
from flexbill.customers.models import Customer
from flexbill.plan_subscriptions import lifecycle
from flexbill.plan_subscriptions.models import ChangeOption, SubscriptionType
from flexbill.usage.models import UsageRecord
from tests.plan_subscriptions.support import (
    Price,
    get,
    invoices,
    lifecycle_call,
    plan,
    record_usage,
    subscribe,
    summary,
    travel,
)
from tests.subscriptions.support import event_counts, events_of
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat


async def test_cancelled_at_the_end_of_the_term(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Three months from 1 January, auto-renewing; on 10 February the customer cancels at
    the term's end: March is the last month billed, and the term is not renewed."""
    with clock.frozen(datetime(2026, 1, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Seat", unit_amount=D("30.00")))
        view = await subscribe(
            database, tenant, customer, prices, type=SubscriptionType.TERMED,
            initial_period=3, initial_period_unit=PeriodUnit.MONTH, auto_renew=True,
        )  # fmt: skip
        sid = view.subscription.id
        await travel(database, d("2026-02-10"))
        asked = await lifecycle_call(
            database, tenant, lifecycle.cancel, sid, ChangeOption.END_OF_CURRENT_TERM
        )
        assert (asked.subscription.status, asked.subscription.scheduled_on) == (
            "active", d("2026-04-01"),
        )  # fmt: skip
        # Dropped and asked again: one scheduled change at a time, visible until its day.
        dropped = await lifecycle_call(database, tenant, lifecycle.unschedule, sid)
        assert dropped.scheduled_change is None
        await lifecycle_call(
            database, tenant, lifecycle.cancel, sid, ChangeOption.END_OF_CURRENT_TERM
        )
        await travel(database, d("2026-05-15"))
        after = (await get(database, tenant, sid)).subscription
    assert summary(await invoices(database)) == [
        (f"2026-{m:02}-01", f"2026-{m:02}-01", f"2026-{m + 1:02}-01", D("30.00")) for m in (1, 2, 3)
    ]
    assert (after.status, after.ended_on, after.next_bill_date, after.renewal_count) == (
        "cancelled", d("2026-04-01"), None, 0,
    )  # fmt: skip
    assert after.cancelled_at == datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert [e["action"] for e in after.history] == [
        "created", "cancel_scheduled", "cancel_unscheduled", "cancel_scheduled", "cancel",
    ]  # fmt: skip
    counts = await event_counts(database)
    assert (counts["subscription.cancelled"], counts["subscription.renewed"]) == (1, 0)
    cancelled = (await events_of(database, "subscription.cancelled"))[0]
    assert (cancelled.data["effectiveOn"], cancelled.data["option"]) == (
        "2026-04-01", "end_of_current_term",
    )  # fmt: skip


async def test_cancelled_today_in_the_middle_of_a_period(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Cancelled on 16 April: the final invoice rates the usage recorded before that day
    (50 × 0.10) and gives back the 15 unused days of April's seat (15/30 × 30.00); the
    −10.00 it comes to is the customer's credit. A setup fee (one-time) was billed once."""
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(
            database, tenant,
            Price("Seat", unit_amount=D("30.00")),
            Price("Calls", ChargeModel.PER_UNIT, D("0.10"), BillingTiming.IN_ARREARS, uom="calls"),
            Price("Setup", unit_amount=D("5.00"), category=PriceCategory.ONE_TIME),
        )  # fmt: skip
        view = await subscribe(database, tenant, customer, prices)
        sid = view.subscription.id
        await record_usage(database, tenant, view, 1, D(50), d("2026-04-03"))
        await record_usage(database, tenant, view, 1, D(30), d("2026-04-20"))
        await travel(database, d("2026-04-16"))
        cancelled = await lifecycle_call(
            database, tenant, lifecycle.cancel, sid, ChangeOption.TODAY
        )
        assert (cancelled.subscription.status, cancelled.subscription.ended_on) == (
            "cancelled", d("2026-04-16"),
        )  # fmt: skip
        await travel(database, d("2026-06-01"))
        after = (await get(database, tenant, sid)).subscription
        async with database.transaction() as session:
            credit = await session.scalar(
                select(Customer.unapplied_amount).where(Customer.id == customer)
            )
            statuses = (
                await session.scalars(select(UsageRecord.status).order_by(UsageRecord.start_date))
            ).all()
    billed = await invoices(database)
    assert summary(billed) == [
        ("2026-04-01", "2026-04-01", "2026-05-01", D("35.00")),
        ("2026-04-16:cancel", "2026-04-01", "2026-05-01", D("-10.00")),
    ]
    assert billed[0].lines == [
        ("one_time", "Setup", "2026-04-01", "2026-04-01", D("5.00")),
        ("plan", "Seat, 2026-04-01 to 2026-04-30", "2026-04-01", "2026-05-01", D("30.00")),
    ]
    assert billed[1].lines == [
        ("usage", "Calls – 50 calls, 2026-04-01 to 2026-04-15", "2026-04-01", "2026-04-16",
         D("5.00")),
        ("proration_credit", "Unused time – Seat, 2026-04-16 to 2026-04-30", "2026-04-16",
         "2026-05-01", D("-15.00")),
    ]  # fmt: skip
    assert billed[1].status == "paid"  # nothing to collect
    assert credit == 1000
    assert list(statuses) == ["processed", "pending"]
    assert (after.status, after.next_bill_date, after.last_invoice_period_end) == (
        "cancelled", None, d("2026-04-16"),
    )  # fmt: skip


async def test_a_draft_is_billed_once_activated_and_a_pending_one_on_its_day(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Seat", unit_amount=D("30.00")))
        draft = await subscribe(database, tenant, customer, prices, draft=True)
        pending = await subscribe(database, tenant, customer, prices, start_date=d("2026-04-10"))
        dropped = await subscribe(database, tenant, customer, prices, draft=True)
        assert (draft.subscription.status, draft.subscription.next_bill_date) == ("draft", None)
        assert (pending.subscription.status, pending.subscription.next_bill_date) == (
            "pending", d("2026-04-10"),
        )  # fmt: skip
        await lifecycle_call(
            database, tenant, lifecycle.cancel, dropped.subscription.id, ChangeOption.TODAY
        )
        await travel(database, d("2026-04-05"))
        assert await invoices(database) == []
        activated = await lifecycle_call(
            database, tenant, lifecycle.activate, draft.subscription.id
        )
        assert (activated.subscription.status, activated.subscription.start_date) == (
            "active", d("2026-04-05"),
        )  # fmt: skip
        with pytest.raises(FlexbillError) as again:
            await lifecycle_call(database, tenant, lifecycle.activate, draft.subscription.id)
        assert again.value.code == "INVALID_STATUS_TRANSITION"
        await travel(database, d("2026-04-12"))
        started = (await get(database, tenant, pending.subscription.id)).subscription
    assert [(i.key.split(":")[0], *i.period, i.total) for i in await invoices(database)] == [
        (draft.subscription.id, "2026-04-05", "2026-05-05", D("30.00")),
        (pending.subscription.id, "2026-04-10", "2026-05-10", D("30.00")),
    ]
    assert (started.status, started.billing_anchor) == ("active", d("2026-04-10"))
    assert (await event_counts(database))["subscription.activated"] == 2
