"""The billing run over time: a frozen clock moves day by day for a year while the worker
sweeps, and every invoice, payment and event is checked to the cent; the run is idempotent
(its crashes and concurrent workers: ``test_run_at_scale.py``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from flexbill.billing import invoicing, run
from flexbill.billing.invoicing import price_lines
from flexbill.billing.models import Invoice, Payment
from flexbill.billing.numbering import invoice_number
from flexbill.billing.periods import Period
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.money import to_major
from flexbill.orders.totals import NO_VAT, VatRule
from flexbill.settings.rules import VatMode
from flexbill.settings.service import get_settings
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.periods import add_months
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.billing.run_support import rent, set_status
from tests.orders.support import tenant_context
from tests.subscriptions.support import (
    confirmed_order,
    event_counts,
    events_of,
    exact,
    register,
    subscribe,
)
from tests.support import Api, Tenant

SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)
D = Decimal


@pytest.mark.parametrize(
    ("prices", "vat", "lines", "totals"),
    [
        ([5999], NO_VAT, [(5999, 0, 5999)], (5999, 0, 5999)),
        ([5999], VatRule(D(19), VatMode.EXCLUSIVE), [(5999, 1140, 7139)], (5999, 1140, 7139)),
        ([5999], VatRule(D(19), VatMode.INCLUSIVE), [(5041, 958, 5999)], (5041, 958, 5999)),
        # Tax once on the sum (3 × 0.19 = 0.57 → 1), not per line (0.19 → 0 each); the
        # cent goes to the line with the largest remainder, the earliest on a tie.
        (
            [1, 1, 1],
            VatRule(D(19), VatMode.EXCLUSIVE),
            [(1, 1, 2), (1, 0, 1), (1, 0, 1)],
            (3, 1, 4),
        ),
        (
            [1000, 333, 2],
            VatRule(D("7.5"), VatMode.EXCLUSIVE),  # 1335 × 7.5 % = 100.125 → 100
            [(1000, 75, 1075), (333, 25, 358), (2, 0, 2)],
            (1335, 100, 1435),
        ),
        ([0, 0], VatRule(D(19), VatMode.EXCLUSIVE), [(0, 0, 0)] * 2, (0, 0, 0)),
    ],
)
def test_vat_is_taken_once_per_invoice_and_shared_over_its_lines(
    prices: list[int],
    vat: VatRule,
    lines: list[tuple[int, int, int]],
    totals: tuple[int, int, int],
) -> None:
    priced = price_lines(prices, vat)
    assert [(line.amount, line.tax_amount, line.total) for line in priced.lines] == lines
    assert (priced.subtotal, priced.tax_amount, priced.total) == totals


async def settings(api: Api, body: dict[str, Any]) -> None:
    response = await api.patch("/v1/settings", body)
    assert response.status_code == 200, response.text


async def rental(api: Api, rental_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/subscriptions/{rental_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = exact(response)
    return body


async def travel(database: Database, until: datetime, worker: Worker | None = None) -> None:
    """Move the clock a day at a time to ``until``, the worker sweeping now and at every
    stop."""
    worker = worker or Worker(database, REGISTRY, schedule=SCHEDULE)
    await worker.run_until_idle()
    while clock.now() < until:
        clock.advance(min(timedelta(days=1), until - clock.now()))
        await worker.run_until_idle()


Row = tuple[str, str, str, Decimal, Decimal, Decimal, str]
"""An invoice as the tables below write it: number, period, net, VAT, total, due date."""


@dataclass
class Billed:
    rows: list[Row]
    invoices: list[Invoice]
    payments: list[Payment]


async def billed(database: Database) -> Billed:
    """Every invoice (by number) with its payment and its ``payment.scheduled`` event,
    after checking that the three agree."""
    async with database.transaction() as session:
        invoices = list((await session.scalars(select(Invoice).order_by(Invoice.number))).all())
        payments = {p.invoice_id: p for p in (await session.scalars(select(Payment))).all()}
    scheduled = {
        e.data["paymentId"]: e.data for e in await events_of(database, "payment.scheduled")
    }
    assert len(payments) == len(invoices) == len(scheduled)
    rows = []
    for invoice in invoices:
        payment = payments[invoice.id]
        announced = scheduled[payment.id]
        assert (announced["invoiceId"], announced["amount"], announced["dueDate"]) == (
            invoice.id, to_major(invoice.total, "EUR"), str(invoice.due_date),
        )  # fmt: skip
        assert (announced["billingPeriod"], announced["customerId"]) == (
            payment.billing_period, invoice.customer_id,
        )  # fmt: skip
        assert (announced["rentalId"], announced["billingGroupId"]) == (
            invoice.subscription_id, invoice.billing_group_id,
        )  # fmt: skip
        lines = invoice.lines
        assert (payment.amount, payment.original_amount) == (invoice.total, invoice.total)
        assert payment.idempotency_key == invoice.billing_key
        assert payment.billing_period == invoice.period_start.isoformat()[:7]
        assert (payment.status, invoice.status) == ("pending", "open")
        assert payment.due_date == invoice.due_date
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.tax_amount == sum(line.tax_amount for line in lines)
        assert invoice.total == sum(line.total for line in lines)
        assert [item["amount"] for item in payment.line_items] == [line.total for line in lines]
        net, tax, total = (
            to_major(amount, "EUR")
            for amount in (invoice.subtotal, invoice.tax_amount, invoice.total)
        )
        start, end, due = (
            str(day) for day in (invoice.period_start, invoice.period_end, invoice.due_date)
        )
        rows.append((invoice.number, start, end, net, tax, total, due))
    return Billed(rows, invoices, [payments[invoice.id] for invoice in invoices])


def table(periods: list[tuple[str, str, str, str, str, str]]) -> list[Row]:
    """Rows numbered from 1: (start, end, net, VAT, total, due)."""
    return [
        (invoice_number(n), start, end, D(net), D(tax), D(total), due)
        for n, (start, end, net, tax, total, due) in enumerate(periods, start=1)
    ]


def monthly(starts: list[str], net: str, tax: str, total: str, due_days: int = 0) -> list[Any]:
    """Whole periods between consecutive ``starts``, each due ``due_days`` after it."""
    return [
        (start, end, net, tax, total, str(date.fromisoformat(start) + timedelta(due_days)))
        for start, end in itertools.pairwise(starts)
    ]


async def run_again(database: Database, tenant: Tenant) -> run.RunResult:
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        return await run.bill_due(session, ctx, clock.now())


MONTH_ENDS = [
    "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30",
    "2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31",
    "2026-01-31",
]  # fmt: skip


async def test_a_year_from_the_31st_then_the_contract_ends(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Monthly from the subscription's start on 31 January: billed on the last day of
    short months, no VAT, due at once; auto-terminated after twelve periods."""
    with clock.frozen(datetime(2025, 1, 31, 9, tzinfo=UTC)):
        await settings(api, {"contractEnd": "auto_terminate"})
        laptop = await rent(api, "SN-1")
        await travel(database, datetime(2026, 2, 3, 9, tzinfo=UTC))
        assert (await run_again(database, tenant)).invoices == 0

        result = await billed(database)
        # The laptop's 12-month price has a 25.00 setup fee: on the first invoice only.
        first_period = ("2025-01-31", "2025-02-28", "84.99", "0", "84.99", "2025-01-31")
        assert result.rows == table([first_period, *monthly(MONTH_ENDS[1:], "59.99", "0", "59.99")])
        assert [line.kind for line in result.invoices[0].lines] == ["rental", "setup_fee"]
        assert [line.total for line in result.invoices[0].lines] == [5999, 2500]
        assert {p.rental_id for p in result.payments} == {laptop["rentalId"]}
        assert {p.payment_type for p in result.payments} == {"individual"}
        ended = await rental(api, laptop["rentalId"])
        assert (ended["status"], ended["endDate"], ended["nextBillingDate"]) == (
            "ended_completed", "2026-01-31", None,
        )  # fmt: skip
        assert ended["endedAt"] == "2026-01-31T09:00:00Z"
        assert ended["history"][-1]["action"] == "completed"
        asset = (await api.get("/v1/assets/SN-1")).json()
        assert (asset["status"], asset["rentalId"]) == ("returned", None)
    counts = await event_counts(database)
    assert (counts["payment.scheduled"], counts["subscription.ended"]) == (12, 1)
    assert counts["asset.returned"] == 1
    first = (await events_of(database, "payment.scheduled"))[0]
    assert first.data == {
        "paymentId": result.payments[0].id, "customerId": laptop["customerId"],
        "rentalId": laptop["rentalId"], "subscriptionId": laptop["rentalId"],
        "billingGroupId": None, "invoiceId": result.invoices[0].id, "billingPeriod": "2025-01",
        "amount": D("84.99"), "currency": "EUR", "dueDate": "2025-01-31", "status": "pending",
    }  # fmt: skip
    assert first.occurred_at == datetime(2025, 1, 31, 9, tzinfo=UTC)


async def test_fixed_day_prorated_with_exclusive_vat_renewing_monthly(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Billed on the 1st, the first payment prorated (22 of March's 31 days), 19 % VAT on
    top, net 14; at its end the contract renews month by month, billing on."""
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        await settings(
            api,
            {
                "billingCycle": {"type": "fixed_day", "dayOfMonth": 1},
                "firstPayment": "prorated", "paymentTerms": "net_14",
                "vat": {"enabled": True, "rate": 19, "mode": "exclusive"},
                "contractEnd": "auto_renew_monthly",
            },
        )  # fmt: skip
        laptop = await rent(api, "SN-1")
        await travel(database, datetime(2026, 4, 15, 9, tzinfo=UTC))
        assert (await run_again(database, tenant)).invoices == 0
        renewed = await rental(api, laptop["rentalId"])
    firsts = [add_months(date(2025, 4, 1), n).isoformat() for n in range(14)]
    # 22/31 of 59.99 = 42.57 and the 25.00 setup fee; 19 % VAT once on 67.57 = 12.84.
    expected = [("2025-03-10", "2025-04-01", "67.57", "12.84", "80.41", "2025-03-24")]
    expected += monthly(firsts, "59.99", "11.40", "71.39", due_days=14)
    assert (await billed(database)).rows == table(expected)
    assert (renewed["status"], renewed["contractLength"], renewed["endDate"]) == (
        "active", 14, "2026-05-10",
    )  # fmt: skip
    assert renewed["nextBillingDate"] == "2026-05-01"
    renewals = [entry for entry in renewed["history"] if entry["action"] == "renewed"]
    assert [(e["at"], e["oldEndDate"], e["newEndDate"], e["renewalMonths"]) for e in renewals] == [
        ("2026-03-10T09:00:00Z", "2026-03-10", "2026-04-10", 1),
        ("2026-04-10T09:00:00Z", "2026-04-10", "2026-05-10", 1),
    ]
    assert renewed["extensionHistory"] == []  # a renewal is not an extension
    counts = await event_counts(database)
    assert (counts["payment.scheduled"], counts["subscription.ended"]) == (14, 0)


async def test_every_30_days_with_inclusive_vat_until_the_end_then_waiting(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """30-day cycles, VAT contained in the price; a 6-month contract (181 days) ends with
    a one-day period; with "require action" it stays active and nothing more is billed."""
    with clock.frozen(datetime(2025, 1, 1, 9, tzinfo=UTC)):
        await settings(
            api,
            {
                "billingCycle": {"type": "every_30_days"}, "contractEnd": "require_action",
                "vat": {"enabled": True, "rate": 19, "mode": "inclusive"},
            },
        )  # fmt: skip
        laptop = await rent(api, "SN-1", months=6)
        await travel(database, datetime(2025, 9, 1, 9, tzinfo=UTC))
        assert (await run_again(database, tenant)).invoices == 0
        waiting = await rental(api, laptop["rentalId"])
    starts = ["2025-01-01", "2025-01-31", "2025-03-02", "2025-04-01", "2025-05-01", "2025-05-31",
              "2025-06-30"]  # fmt: skip
    expected = monthly(starts, "67.22", "12.77", "79.99")  # 79.99 × 19/119 = 12.7715…
    expected.append(("2025-06-30", "2025-07-01", "2.24", "0.43", "2.67", "2025-06-30"))
    assert (await billed(database)).rows == table(expected)  # 79.99 / 30 = 2.6663…
    assert (waiting["status"], waiting["endDate"], waiting["nextBillingDate"]) == (
        "active", "2025-07-01", "2025-07-01",
    )  # fmt: skip
    assert (await event_counts(database))["subscription.ended"] == 0


@pytest.mark.parametrize(
    ("rule", "status", "length", "end", "invoices", "action"),
    [
        ("auto_terminate", "ended_completed", 6, "2025-07-10", 6, "completed"),
        ("auto_renew_monthly", "active", 7, "2025-08-10", 7, "renewed"),
        ("auto_renew_same_term", "active", 12, "2026-01-10", 7, "renewed"),
        ("require_action", "active", 6, "2025-07-10", 6, "created"),
    ],
)
async def test_the_contract_end_rule(
    api: Api, database: Database, rule: str, status: str, length: int, end: str,
    invoices: int, action: str,
) -> None:  # fmt: skip
    """A contract started in January (on the books two days before its end: the first run
    catches up on its six months at once) reaches its end on 10 July."""
    with clock.frozen(datetime(2025, 7, 8, 9, tzinfo=UTC)):
        await settings(api, {"contractEnd": rule})
        laptop = await rent(api, "SN-1", months=6, startDate="2025-01-10")
        await travel(database, datetime(2025, 7, 12, 9, tzinfo=UTC))
        after = await rental(api, laptop["rentalId"])
    assert (after["status"], after["contractLength"], after["endDate"]) == (status, length, end)
    assert after["history"][-1]["action"] == action
    rows = (await billed(database)).rows
    assert [(row[1], row[5], row[6]) for row in rows] == [
        (str(add_months(date(2025, 1, 10), n)), D("79.99"), "2025-07-08" if n < 6 else "2025-07-10")
        for n in range(invoices)
    ]
    assert (await event_counts(database))["subscription.ended"] == (status != "active")


async def test_a_billing_group_gets_one_invoice_per_period(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Two laptops billed together on the 15th: the first invoice also covers the five
    days before it (5/28 of February's cycle); a third laptop joins in April and is billed
    from its start on the next billing day."""
    with clock.frozen(datetime(2025, 3, 10, 9, tzinfo=UTC)):
        order = await confirmed_order(api)  # two laptops for 12 months
        await register(api, "SN-1")
        await register(api, "SN-2")
        first = await subscribe(api, order, "SN-1")
        second = await subscribe(api, order, "SN-2")
        response = await api.post(
            "/v1/billing-groups",
            {
                "customerId": first["customerId"], "groupName": "Office", "billingDay": 15,
                "rentalIds": [first["rentalId"], second["rentalId"]],
            },
        )  # fmt: skip
        assert response.status_code == 201, response.text
        group_id = response.json()["billingGroup"]["billingGroupId"]
        await travel(database, datetime(2025, 4, 20, 9, tzinfo=UTC))
        third = await rent(api, "SN-3", catalog=False, billingGroupId=group_id)
        await travel(database, datetime(2025, 6, 20, 9, tzinfo=UTC))
        assert (await run_again(database, tenant)).invoices == 0
    result = await billed(database)
    assert result.rows == table(
        [
            ("2025-03-15", "2025-04-15", "191.40", "0", "191.40", "2025-03-15"),
            ("2025-04-15", "2025-05-15", "119.98", "0", "119.98", "2025-04-15"),
            ("2025-05-15", "2025-06-15", "254.96", "0", "254.96", "2025-05-15"),
            ("2025-06-15", "2025-07-15", "179.97", "0", "179.97", "2025-06-15"),
        ]
    )
    ids = [first["rentalId"], second["rentalId"], third["rentalId"]]
    lines = [
        [(line.subscription_id, line.kind, str(line.period_start), line.total) for line in i.lines]
        for i in result.invoices
    ]
    assert lines == [
        [
            (ids[0], "proration", "2025-03-10", 7070), (ids[0], "setup_fee", "2025-03-10", 2500),
            (ids[1], "proration", "2025-03-10", 7070), (ids[1], "setup_fee", "2025-03-10", 2500),
        ],
        [(ids[0], "rental", "2025-04-15", 5999), (ids[1], "rental", "2025-04-15", 5999)],
        [
            (ids[0], "rental", "2025-05-15", 5999), (ids[1], "rental", "2025-05-15", 5999),
            (ids[2], "proration", "2025-04-20", 10998),  # 59.99 × (25/30 + 1)
            (ids[2], "setup_fee", "2025-04-20", 2500),
        ],
        [(i, "rental", "2025-06-15", 5999) for i in ids],
    ]  # fmt: skip
    payment = result.payments[2]
    assert (payment.payment_type, payment.rental_id, payment.billing_group_id) == (
        "consolidated", None, group_id,
    )  # fmt: skip
    assert [item["rental_id"] for item in payment.line_items] == [ids[0], ids[1], ids[2], ids[2]]
    assert {i.customer_id for i in result.invoices} == {first["customerId"]}
    assert (await events_of(database, "payment.scheduled"))[0].data["billingGroupId"] == group_id
    assert (await rental(api, ids[2]))["nextBillingDate"] == "2025-07-15"


async def test_a_suspended_subscription_is_not_billed_until_active_again(
    api: Api, database: Database
) -> None:
    with clock.frozen(datetime(2025, 1, 10, 9, tzinfo=UTC)):
        laptop = await rent(api, "SN-1")
        await travel(database, datetime(2025, 1, 11, 9, tzinfo=UTC))
        await set_status(database, laptop["rentalId"], "suspended")
        await travel(database, datetime(2025, 3, 20, 9, tzinfo=UTC))
        assert len((await billed(database)).rows) == 1
        await set_status(database, laptop["rentalId"], "active")
        await travel(database, datetime(2025, 3, 20, 9, 10, tzinfo=UTC))  # the next sweep
    rows = (await billed(database)).rows
    assert [(row[1], row[6]) for row in rows] == [
        ("2025-01-10", "2025-01-10"), ("2025-02-10", "2025-03-20"), ("2025-03-10", "2025-03-20"),
    ]  # fmt: skip


async def test_a_test_clock_bills_its_customers_on_its_own_time(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """In the test environment a customer attached to a test clock is left alone by the
    real-time run and billed, day by day, as the clock advances."""
    test_api = api.with_key(tenant.test_key)
    with clock.frozen(datetime(2025, 1, 31, 9, tzinfo=UTC)):
        laptop = await rent(test_api, "SN-T")
        response = await test_api.post("/v1/test-clocks", {"frozenTime": "2025-01-31T09:00:00Z"})
        assert response.status_code == 201, response.text
        path = f"/v1/test-clocks/{response.json()['testClock']['testClockId']}"
        attached = await test_api.post(f"{path}/customers", {"customerId": laptop["customerId"]})
        assert attached.status_code == 200, attached.text
        await travel(database, datetime(2025, 2, 2, 9, tzinfo=UTC))
        assert (await billed(database)).rows == []  # the real time is not its time
        advanced = await test_api.post(f"{path}/advance", {"frozenTime": "2025-03-01T09:00:00Z"})
        assert advanced.status_code == 200, advanced.text
    assert (await billed(database)).rows == table(
        [
            ("2025-01-31", "2025-02-28", "84.99", "0", "84.99", "2025-02-01"),  # + setup fee
            ("2025-02-28", "2025-03-31", "59.99", "0", "59.99", "2025-02-28"),
        ]
    )


async def test_a_second_attempt_for_a_key_writes_nothing(
    api: Api, database: Database, tenant: Tenant
) -> None:
    """Issuing the same subscription and period again (a retry that missed the first
    attempt's commit) is answered with nothing written: no invoice, number or event."""
    ctx = await tenant_context(database, tenant)
    with clock.frozen(datetime(2025, 1, 10, 9, tzinfo=UTC)):
        laptop = await rent(api, "SN-1")
        for attempt in range(2):
            async with database.transaction() as session:
                subscription = await session.get_one(
                    Subscription, (ctx.tenant_id, laptop["rentalId"])
                )
                period = Period(date(2025, 1, 10), date(2025, 2, 10), 5999, whole=True)
                bill = invoicing.subscription_bill(subscription, period)
                settings_now = await get_settings(session, ctx)
                issued = await invoicing.issue(session, ctx, settings_now, [bill], now=clock.now())
                assert (issued[0] is None) == (attempt == 1)
    result = await billed(database)
    assert result.rows == table([("2025-01-10", "2025-02-10", "84.99", "0", "84.99", "2025-01-10")])
    assert result.invoices[0].billing_key == f"{laptop['rentalId']}:2025-01-10"
