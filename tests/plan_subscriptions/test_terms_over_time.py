"""General subscriptions over time: trials, renewals and expiry, driven by the real
billing run while the clock moves a day at a time; every invoice checked to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from flexbill.catalog.plan_models import PeriodUnit
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.plan_subscriptions.models import SubscriptionType, TrialUnit
from tests.plan_subscriptions.support import (
    Price,
    get,
    invoices,
    plan,
    subscribe,
    summary,
    travel,
)
from tests.subscriptions.support import event_counts, events_of
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat


async def test_an_evergreen_plan_with_a_trial(api: Api, database: Database, tenant: Tenant) -> None:
    """14 days free from 5 January: nothing billed in the trial; on its end (19 January)
    the subscription is activated and billed monthly from that day on."""
    with clock.frozen(datetime(2026, 1, 5, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Pro", unit_amount=D("29.00")))
        view = await subscribe(
            database, tenant, customer, prices, trial_period=14, trial_period_unit=TrialUnit.DAYS
        )
        created = view.subscription
        assert (created.status, created.trial_end, created.billing_anchor) == (
            "trial", d("2026-01-19"), d("2026-01-19"),
        )  # fmt: skip
        assert created.next_bill_date == d("2026-01-19")
        await travel(database, d("2026-01-18"))
        assert await invoices(database) == []
        assert (await get(database, tenant, created.id)).subscription.status == "trial"
        await travel(database, d("2026-04-20"))
        after = (await get(database, tenant, created.id)).subscription
    assert summary(await invoices(database)) == [
        ("2026-01-19", "2026-01-19", "2026-02-19", D("29.00")),
        ("2026-02-19", "2026-02-19", "2026-03-19", D("29.00")),
        ("2026-03-19", "2026-03-19", "2026-04-19", D("29.00")),
        ("2026-04-19", "2026-04-19", "2026-05-19", D("29.00")),
    ]
    assert (after.status, after.next_bill_date, after.last_invoice_period_end) == (
        "active", d("2026-05-19"), d("2026-05-19"),
    )  # fmt: skip
    assert [(entry["action"], entry["toStatus"]) for entry in after.history] == [
        ("created", "trial"), ("trial_ended", "active"),
    ]  # fmt: skip
    counts = await event_counts(database)
    assert (counts["subscription.created"], counts["subscription.activated"]) == (1, 1)
    assert counts["payment.scheduled"] == 4
    activated = (await events_of(database, "subscription.activated"))[0]
    assert activated.occurred_at == datetime(2026, 1, 19, 9, tzinfo=UTC)
    assert (activated.data["status"], activated.data["effectiveOn"]) == ("active", "2026-01-19")


async def test_a_termed_plan_renewing_twice(api: Api, database: Database, tenant: Tenant) -> None:
    """Three months from 10 January, renewed automatically for three more months on
    10 April and on 10 July; monthly invoices all along, on the 10th."""
    with clock.frozen(datetime(2026, 1, 10, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, Price("Team", unit_amount=D("10.00")))
        view = await subscribe(
            database, tenant, customer, prices, type=SubscriptionType.TERMED,
            initial_period=3, initial_period_unit=PeriodUnit.MONTH, auto_renew=True,
        )  # fmt: skip
        first = view.subscription
        assert (first.current_term_start, first.current_term_end) == (
            d("2026-01-10"), d("2026-04-10"),
        )  # fmt: skip
        assert (first.renewal_period, first.renewal_period_unit) == (3, "month")
        await travel(database, d("2026-08-01"))
        after = (await get(database, tenant, first.id)).subscription
    assert summary(await invoices(database)) == [
        (f"2026-{m:02}-10", f"2026-{m:02}-10", f"2026-{m + 1:02}-10", D("10.00"))
        for m in range(1, 8)
    ]
    assert (after.status, after.renewal_count) == ("active", 2)
    assert (after.current_term_start, after.current_term_end) == (d("2026-07-10"), d("2026-10-10"))
    assert after.renewed_at == datetime(2026, 7, 10, 9, tzinfo=UTC)
    renewals = await events_of(database, "subscription.renewed")
    assert [(e.data["currentTermStart"], e.data["currentTermEnd"]) for e in renewals] == [
        ("2026-04-10", "2026-07-10"), ("2026-07-10", "2026-10-10"),
    ]  # fmt: skip
    assert [e.data["renewalCount"] for e in renewals] == [1, 2]


async def test_a_termed_plan_expiring_with_a_period_cut_at_its_end(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Two months from 1 January, not renewed: the monthly price bills January and
    February; the price billed every three weeks bills its third period only up to the
    term's end, 17 of its 21 days (21.00 × 17/21 = 17.00). Expired on 1 March, nothing
    billed after."""
    with clock.frozen(datetime(2026, 1, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(
            database, tenant,
            Price("Monthly", unit_amount=D("40.00")),
            Price("Three-weekly", unit_amount=D("21.00"), period=3, unit=PeriodUnit.WEEK),
        )  # fmt: skip
        view = await subscribe(
            database, tenant, customer, prices, type=SubscriptionType.TERMED,
            initial_period=2, initial_period_unit=PeriodUnit.MONTH,
        )  # fmt: skip
        assert view.subscription.billing_end_date == d("2026-03-01")
        await travel(database, d("2026-04-15"))
        after = (await get(database, tenant, view.subscription.id)).subscription
    billed = await invoices(database)
    assert summary(billed) == [
        ("2026-01-01", "2026-01-01", "2026-02-01", D("61.00")),
        ("2026-01-22", "2026-01-22", "2026-02-12", D("21.00")),
        ("2026-02-01", "2026-02-01", "2026-03-01", D("40.00")),
        ("2026-02-12", "2026-02-12", "2026-03-01", D("17.00")),
    ]
    assert billed[3].lines == [
        ("plan", "Three-weekly, 2026-02-12 to 2026-02-28", "2026-02-12", "2026-03-01", D("17.00"))
    ]
    assert (after.status, after.ended_on, after.next_bill_date) == (
        "expired", d("2026-03-01"), None,
    )  # fmt: skip
    expired = await events_of(database, "subscription.expired")
    assert [(e.data["effectiveOn"], e.occurred_at) for e in expired] == [
        ("2026-03-01", datetime(2026, 3, 1, 9, tzinfo=UTC))
    ]
    assert (await event_counts(database))["subscription.renewed"] == 0
