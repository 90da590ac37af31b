"""Usage recorded through ``/v1/usage`` is rated by the billing run at the period's end:
the records become ``processed`` by the invoice, and the invoiced period takes no more."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from flexbill.billing.models import Invoice, InvoiceLine, LineKind
from flexbill.core import clock
from flexbill.core.db import Database
from tests.plan_subscriptions.support import travel
from tests.support import Api, Tenant, error_code
from tests.usage.support import PER_UNIT, exact, metered, record


async def test_the_billing_run_rates_recorded_usage_and_closes_the_period(
    api: Api, database: Database, tenant: Tenant
) -> None:
    with clock.frozen(datetime(2026, 1, 1, 9, tzinfo=UTC)):
        subscribed = await metered(api, database, tenant, PER_UNIT)
        batch = [
            record(subscribed, id="jan-1", quantity="1000.5", startDate="2026-01-01"),
            record(
                subscribed,
                id="jan-31",
                quantity="499.5",
                startDate="2026-01-31",
                endDate="2026-01-31",
            ),
            record(
                subscribed, id="feb-1", quantity="7", startDate="2026-02-01", endDate="2026-02-01"
            ),
        ]
        assert (await api.post("/v1/usage/batch", {"records": batch})).json()["created"] == 3
        await travel(database, date(2026, 2, 1))
    async with database.transaction(write=False) as session:
        [invoice] = (await session.scalars(select(Invoice))).all()
        [line] = (
            await session.scalars(select(InvoiceLine).where(InvoiceLine.kind == LineKind.USAGE))
        ).all()
    assert (invoice.period_start, invoice.period_end) == (date(2026, 1, 1), date(2026, 2, 1))
    assert line.usage_quantity == Decimal(1500)
    assert line.amount == 3000  # 1,500 units at 0.02 EUR
    listed = exact(await api.get("/v1/usage", sortDir="asc"))["usageRecords"]
    assert [(u["clientId"], u["status"], u["invoiceId"]) for u in listed] == [
        ("jan-1", "processed", invoice.id),
        ("jan-31", "processed", invoice.id),
        ("feb-1", "pending", None),
    ]
    late = await api.post(
        "/v1/usage",
        record(subscribed, id="jan-late", startDate="2026-01-20", endDate="2026-01-20"),
    )
    assert late.status_code == 409
    assert error_code(late) == "USAGE_PERIOD_CLOSED"
    retry = await api.post("/v1/usage/batch", {"records": batch[:1]})
    assert retry.json()["duplicates"] == 1
