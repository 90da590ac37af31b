"""Suspend and resume with each of the four options: a termed subscription (three months
from 1 April, renewed automatically) with a seat billed monthly in advance (30.00) and
support billed monthly in arrears (10.00). April has 30 days, so the parts are easy to
check: a suspension on 11 April bills support's 10 days (3.33) and gives back the seat's
20 unused days (−20.00)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from flexbill.catalog.plan_models import BillingTiming, PeriodUnit
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError
from flexbill.customers.models import Customer
from flexbill.plan_subscriptions import lifecycle
from flexbill.plan_subscriptions.contract import PlanSubscriptionView
from flexbill.plan_subscriptions.models import ChangeOption, SubscriptionType
from tests.plan_subscriptions.support import (
    Price,
    get,
    invoices,
    lifecycle_call,
    plan,
    subscribe,
    summary,
    travel,
)
from tests.subscriptions.support import event_counts
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat
Option = ChangeOption

SEAT = Price("Seat", unit_amount=D("30.00"))
SUPPORT = Price("Support", unit_amount=D("10.00"), timing=BillingTiming.IN_ARREARS)
APRIL = ("2026-04-01", "2026-04-01", "2026-05-01", D("30.00"))
SUSPENDED_11_APRIL = ("2026-04-11:suspend", "2026-04-01", "2026-05-01", D("-16.67"))


async def start(api: Api, database: Database, tenant: Tenant) -> PlanSubscriptionView:
    customer = (await api.create_customer())["customerId"]
    prices = await plan(database, tenant, SEAT, SUPPORT)
    return await subscribe(
        database, tenant, customer, prices, type=SubscriptionType.TERMED, initial_period=3,
        initial_period_unit=PeriodUnit.MONTH, auto_renew=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Case:
    option: ChangeOption
    on: date | None
    scheduled_on: date | None  # None: applied at once
    until: str
    invoices: list[tuple[str, str, str, Decimal]]
    status: str
    anchor: str = "2026-04-01"
    renewals: int = 0
    term: tuple[str, str] = ("2026-04-01", "2026-07-01")
    next_bill_date: str | None = None
    credit: int = 0  # the customer's unapplied credit at the end, minor units


SUSPENSIONS = {
    "today": Case(
        Option.TODAY, None, None, "2026-06-15", [APRIL, SUSPENDED_11_APRIL], "suspended",
        credit=1667,
    ),
    "end of the last invoice period": Case(
        Option.END_OF_LAST_INVOICE_PERIOD, None, d("2026-05-01"), "2026-06-15",
        [APRIL, ("2026-05-01", "2026-04-01", "2026-05-01", D("10.00"))], "suspended",
    ),
    "specific date": Case(
        Option.SPECIFIC_DATE, d("2026-04-21"), d("2026-04-21"), "2026-06-15",
        [APRIL, ("2026-04-21:suspend", "2026-04-01", "2026-05-01", D("-3.33"))], "suspended",
        credit=333,
    ),
    # Suspended on the day the term ends: it is not renewed.
    "end of the current term": Case(
        Option.END_OF_CURRENT_TERM, None, d("2026-07-01"), "2026-08-15",
        [
            APRIL,
            ("2026-05-01", "2026-04-01", "2026-06-01", D("40.00")),
            ("2026-06-01", "2026-05-01", "2026-07-01", D("40.00")),
            ("2026-07-01", "2026-06-01", "2026-07-01", D("10.00")),
        ],
        "suspended",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SUSPENSIONS.values(), ids=SUSPENSIONS.keys())
async def test_suspend(api: Api, database: Database, tenant: Tenant, case: Case) -> None:
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        view = await start(api, database, tenant)
        sid = view.subscription.id
        await travel(database, d("2026-04-11"))
        asked = await lifecycle_call(database, tenant, lifecycle.suspend, sid, case.option, case.on)
        effective = case.scheduled_on or d("2026-04-11")
        if case.scheduled_on is None:
            assert asked.subscription.status == "suspended"
            assert asked.scheduled_change is None
        else:
            assert asked.subscription.status == "active"
            scheduled = asked.scheduled_change
            assert scheduled is not None
            assert (scheduled.action, scheduled.option, scheduled.on) == (
                "suspend", case.option, case.scheduled_on,
            )  # fmt: skip
            with pytest.raises(FlexbillError) as twice:
                await lifecycle_call(
                    database, tenant, lifecycle.cancel, sid, Option.END_OF_CURRENT_TERM
                )
            assert twice.value.code == "CHANGE_ALREADY_SCHEDULED"
        await travel(database, d(case.until))
        after = (await get(database, tenant, sid)).subscription
        customer = await customer_row(database, after.customer_id)
    assert summary(await invoices(database)) == case.invoices
    assert (after.status, after.suspended_on, after.next_bill_date) == (
        case.status, effective, None,
    )  # fmt: skip
    assert after.scheduled_action is None
    assert (after.renewal_count, after.current_term_end) == (case.renewals, d(case.term[1]))
    assert [e["action"] for e in after.history][-1] == "suspend"
    assert after.history[-1]["option"] == case.option.value
    assert after.history[-1]["effectiveOn"] == effective.isoformat()
    assert customer.unapplied_amount == case.credit
    counts = await event_counts(database)
    assert (counts["subscription.suspended"], counts["subscription.renewed"]) == (1, 0)


RESUMPTIONS = {
    "today": Case(
        Option.TODAY, None, None, "2026-06-15",
        [
            APRIL, SUSPENDED_11_APRIL, ("2026-05-06", "2026-05-06", "2026-06-06", D("30.00")),
            ("2026-06-06", "2026-05-06", "2026-07-06", D("40.00")),
        ],
        "active", anchor="2026-05-06", next_bill_date="2026-07-01",
    ),
    # Nothing was invoiced in advance since the suspension: that is today.
    "end of the last invoice period": Case(
        Option.END_OF_LAST_INVOICE_PERIOD, None, None, "2026-06-15",
        [
            APRIL, SUSPENDED_11_APRIL, ("2026-05-06", "2026-05-06", "2026-06-06", D("30.00")),
            ("2026-06-06", "2026-05-06", "2026-07-06", D("40.00")),
        ],
        "active", anchor="2026-05-06", next_bill_date="2026-07-01",
    ),
    "specific date": Case(
        Option.SPECIFIC_DATE, d("2026-05-20"), d("2026-05-20"), "2026-06-15",
        [APRIL, SUSPENDED_11_APRIL, ("2026-05-20", "2026-05-20", "2026-06-20", D("30.00"))],
        "active", anchor="2026-05-20", next_bill_date="2026-06-20",
    ),
    # Resumed when the term ends: a new term from that day.
    "end of the current term": Case(
        Option.END_OF_CURRENT_TERM, None, d("2026-07-01"), "2026-07-15",
        [APRIL, SUSPENDED_11_APRIL, ("2026-07-01", "2026-07-01", "2026-08-01", D("30.00"))],
        "active", anchor="2026-07-01", renewals=1, term=("2026-07-01", "2026-10-01"),
        next_bill_date="2026-08-01",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", RESUMPTIONS.values(), ids=RESUMPTIONS.keys())
async def test_resume(api: Api, database: Database, tenant: Tenant, case: Case) -> None:
    """Suspended on 11 April, asked to resume on 6 May."""
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        view = await start(api, database, tenant)
        sid = view.subscription.id
        await travel(database, d("2026-04-11"))
        await lifecycle_call(database, tenant, lifecycle.suspend, sid, Option.TODAY)
        await travel(database, d("2026-05-06"))
        asked = await lifecycle_call(database, tenant, lifecycle.resume, sid, case.option, case.on)
        assert asked.subscription.status == ("active" if case.scheduled_on is None else "suspended")
        assert asked.subscription.next_bill_date == (
            case.scheduled_on or asked.subscription.next_bill_date
        )
        await travel(database, d(case.until))
        after = (await get(database, tenant, sid)).subscription
    assert summary(await invoices(database)) == case.invoices
    effective = case.scheduled_on or d("2026-05-06")
    resumed_at = datetime(effective.year, effective.month, effective.day, 9, tzinfo=UTC)
    assert (after.status, after.billing_anchor, after.resumed_at) == (
        case.status, d(case.anchor), resumed_at,
    )  # fmt: skip
    assert after.next_bill_date == d(case.next_bill_date or "")
    assert (after.renewal_count, after.current_term_start, after.current_term_end) == (
        case.renewals, d(case.term[0]), d(case.term[1]),
    )  # fmt: skip
    resumed = [e for e in after.history if e["action"] == "resume"]
    assert [(e["option"], e["effectiveOn"], e["fromStatus"]) for e in resumed] == [
        (case.option.value, effective.isoformat(), "suspended")
    ]
    counts = await event_counts(database)
    assert (counts["subscription.resumed"], counts["subscription.renewed"]) == (1, case.renewals)


async def test_what_may_not_be_suspended_resumed_or_scheduled(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 4, 1, 9, tzinfo=UTC)):
        view = await start(api, database, tenant)
        sid = view.subscription.id
        for operation, option, on, code in [
            (lifecycle.resume, Option.TODAY, None, "INVALID_STATUS_TRANSITION"),
            (lifecycle.suspend, Option.SPECIFIC_DATE, d("2026-03-31"), "VALIDATION_ERROR"),
            (lifecycle.suspend, Option.SPECIFIC_DATE, None, "VALIDATION_ERROR"),
            (lifecycle.suspend, Option.TODAY, d("2026-05-01"), "VALIDATION_ERROR"),
        ]:
            with pytest.raises(FlexbillError) as refused:
                await lifecycle_call(database, tenant, operation, sid, option, on)
            assert refused.value.code == code
        await lifecycle_call(database, tenant, lifecycle.cancel, sid, Option.TODAY)
        for operation in (lifecycle.suspend, lifecycle.resume, lifecycle.cancel):
            with pytest.raises(FlexbillError) as refused:
                await lifecycle_call(database, tenant, operation, sid, Option.TODAY)
            assert refused.value.code == "INVALID_STATUS_TRANSITION"


async def customer_row(database: Database, customer_id: str) -> Customer:
    async with database.transaction() as session:
        row = await session.scalar(select(Customer).where(Customer.id == customer_id))
        assert row is not None
        return row
