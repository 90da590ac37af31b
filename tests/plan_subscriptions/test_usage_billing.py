"""Usage prices billed in arrears over three periods: a tiered price with included units
and a volume price, usage recorded on the periods' first and last days, a period without
usage; each line shows the quantity, the tiers used and the amount, to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from flexbill.billing.models import LineKind
from flexbill.catalog.plan_models import BillingTiming, ChargeModel
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.usage.models import UsageRecord
from tests.plan_subscriptions.support import (
    Price,
    invoices,
    plan,
    record_usage,
    subscribe,
    summary,
    travel,
)
from tests.support import Api, Tenant

D = Decimal
d = date.fromisoformat

API_CALLS = Price(
    "API calls", ChargeModel.TIERED, timing=BillingTiming.IN_ARREARS, uom="calls",
    tiers=[(D(1000), D("0.01"), D(0)), (None, D("0.005"), D(0))], included_units=D(100),
)  # fmt: skip
STORAGE = Price(
    "Storage", ChargeModel.VOLUME, timing=BillingTiming.IN_ARREARS, uom="GB",
    tiers=[(D(10), D("1.00"), D(0)), (D(100), D("0.80"), D("5.00")), (None, D("0.50"), D(0))],
)  # fmt: skip


def tier(
    number: int, first: str, up_to: str | None, quantity: str, unit: str, flat: str, amount: str
) -> dict[str, Any]:
    return {
        "tier": number, "firstUnit": first, "upTo": up_to, "quantity": quantity,
        "unitAmount": unit, "flatAmount": flat, "amount": amount,
    }  # fmt: skip


async def test_tiered_and_volume_usage_over_three_periods(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 1, 1, 9, tzinfo=UTC)):
        customer = (await api.create_customer())["customerId"]
        prices = await plan(database, tenant, API_CALLS, STORAGE)
        view = await subscribe(database, tenant, customer, prices)
        assert await invoices(database) == []  # nothing in advance
        usage = [
            (0, "500", "2026-01-01"), (0, "700", "2026-01-31"), (1, "8", "2026-01-15"),
            # February: no API calls at all.
            (1, "20", "2026-02-01"), (1, "30", "2026-02-28"),
            # March: no storage.
            (0, "2000", "2026-03-01"), (0, "1", "2026-03-31"),
            (0, "999", "2026-04-01"),  # April's, not billed yet
        ]  # fmt: skip
        for item, quantity, day in usage:
            await record_usage(database, tenant, view, item, D(quantity), d(day))
        await travel(database, d("2026-04-15"))
    billed = await invoices(database)
    assert summary(billed) == [
        ("2026-02-01", "2026-01-01", "2026-02-01", D("18.00")),
        ("2026-03-01", "2026-02-01", "2026-03-01", D("45.00")),
        ("2026-04-01", "2026-03-01", "2026-04-01", D("14.01")),
    ]
    assert [invoice.lines for invoice in billed] == [
        [
            ("usage", "API calls – 1,200 calls, 2026-01-01 to 2026-01-31", "2026-01-01",
             "2026-02-01", D("10.00")),
            ("usage", "Storage – 8 GB, 2026-01-01 to 2026-01-31", "2026-01-01", "2026-02-01",
             D("8.00")),
        ],
        [
            ("usage", "API calls – 0 calls, 2026-02-01 to 2026-02-28", "2026-02-01",
             "2026-03-01", D("0.00")),
            ("usage", "Storage – 50 GB, 2026-02-01 to 2026-02-28", "2026-02-01", "2026-03-01",
             D("45.00")),
        ],
        [
            # 900 × 0.01 + 1,001 × 0.005 = 14.005, rounded half up once.
            ("usage", "API calls – 2,001 calls, 2026-03-01 to 2026-03-31", "2026-03-01",
             "2026-04-01", D("14.01")),
            ("usage", "Storage – 0 GB, 2026-03-01 to 2026-03-31", "2026-03-01", "2026-04-01",
             D("0.00")),
        ],
    ]  # fmt: skip
    rows = [row for invoice in billed for row in invoice.rows]
    assert {(row.kind, row.quantity, row.plan_price_version) for row in rows} == {
        (LineKind.USAGE, 1, 1)
    }
    assert [row.usage_quantity for row in rows] == [D(1200), D(8), D(0), D(50), D(2001), D(0)]
    assert [row.plan_price_id for row in rows] == prices * 3
    assert [row.item_id for row in rows] == [item.id for item in view.items] * 3
    assert [row.details for row in rows] == [
        {
            "tiers": [
                tier(1, "0", "1000", "900", "0.01", "0", "9"),
                tier(2, "1000", None, "200", "0.005", "0", "1"),
            ],
            "includedUnits": "100", "billableQuantity": "1100",
        },
        {"tiers": [tier(1, "0", "10", "8", "1", "0", "8")], "includedUnits": "0",
         "billableQuantity": "8"},
        {"tiers": [], "includedUnits": "100", "billableQuantity": "0"},
        {"tiers": [tier(2, "10", "100", "50", "0.8", "5", "45")], "includedUnits": "0",
         "billableQuantity": "50"},
        {
            "tiers": [
                tier(1, "0", "1000", "900", "0.01", "0", "9"),
                tier(2, "1000", None, "1001", "0.005", "0", "5.005"),
            ],
            "includedUnits": "100", "billableQuantity": "1901",
        },
        {"tiers": [], "includedUnits": "0", "billableQuantity": "0"},
    ]  # fmt: skip
    async with database.transaction() as session:
        records = (
            await session.scalars(select(UsageRecord).order_by(UsageRecord.start_date))
        ).all()
        by_invoice = [(r.start_date.isoformat(), r.status, r.invoice_id) for r in records]
    ids = [invoice.rows[0].invoice_id for invoice in billed]
    assert by_invoice == [
        ("2026-01-01", "processed", ids[0]), ("2026-01-15", "processed", ids[0]),
        ("2026-01-31", "processed", ids[0]), ("2026-02-01", "processed", ids[1]),
        ("2026-02-28", "processed", ids[1]), ("2026-03-01", "processed", ids[2]),
        ("2026-03-31", "processed", ids[2]), ("2026-04-01", "pending", None),
    ]  # fmt: skip
