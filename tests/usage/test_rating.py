"""What billing reads of recorded usage: each item's total in a period, exact on both
databases, and marking those records rated by an invoice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.tenancy.service import environment_context
from flexbill.usage import rating, service
from flexbill.usage.models import UsageRecord
from flexbill.usage.rules import NewUsage
from flexbill.usage.service import Outcome
from tests.plan_support import Subscribed
from tests.support import Api, Tenant
from tests.usage.support import PER_UNIT, TIERED, D, metered

JANUARY = (date(2026, 1, 1), date(2026, 2, 1))

Records = Sequence[tuple[int, date, str]]  # (item, start date, quantity)


async def subscribed_with(
    api: Api, database: Database, tenant: Tenant, records: Records
) -> Subscribed:
    """A subscription of three usage-priced items holding ``records``."""
    subscribed = await metered(api, database, tenant, TIERED, PER_UNIT, PER_UNIT)
    batch = [
        NewUsage(subscribed.subscription_id, subscribed.item_ids[item], D(quantity), day, day)
        for item, day, quantity in records
    ]
    async with database.transaction() as session:
        ctx = await environment_context(session, tenant.id, "live")
        for first in range(0, len(batch), service.MAX_BATCH):
            recorded = await service.record_batch(
                session, ctx, batch[first : first + service.MAX_BATCH]
            )
            assert {r.outcome for r in recorded} <= {Outcome.CREATED}
    return subscribed


@pytest.mark.parametrize(
    ("records", "asked", "totals"),
    [
        pytest.param(
            [(0, date(2026, 1, 1), "1.5"), (0, date(2026, 1, 31), "2.25"),
             (0, date(2026, 2, 1), "100")],
            [0], {0: "3.75"}, id="first and last day in, the day after out",
        ),
        pytest.param(
            [(0, date(2026, 1, 10), "1"), (1, date(2026, 1, 10), "2"),
             (1, date(2026, 1, 20), "0.000001"), (2, date(2026, 1, 5), "0")],
            [0, 1, 2], {0: "1", 1: "2.000001", 2: "0"}, id="several items",
        ),
        pytest.param(
            [(0, date(2026, 1, 10), "4"), (1, date(2026, 1, 10), "5")],
            [1], {1: "5"}, id="items not asked for are left out",
        ),
        pytest.param(
            [(0, date(2026, 2, 1), "5"), (1, date(2026, 3, 1), "5")],
            [0, 1], {}, id="none in the period",
        ),
        pytest.param([], [0], {}, id="no records at all"),
        pytest.param(
            [(0, date(2026, 1, 2), "999999999.999999")] * 3,
            [0], {0: "2999999999.999997"}, id="largest quantities, to the last digit",
        ),
        pytest.param(
            [(0, date(2026, 1, 2), "999999999.999999")] * 1000,
            [0], {0: "999999999999.999"}, id="a total past float precision, to the last digit",
        ),
        pytest.param(
            [(0, date(2026, 1, 1 + n % 31), "0.1") for n in range(1000)],
            [0], {0: "100"}, id="a thousand tenths: exact, not a float sum",
        ),
    ],
)  # fmt: skip
async def test_usage_totals_sum_each_item_of_one_period(
    api: Api,
    database: Database,
    tenant: Tenant,
    records: Records,
    asked: list[int],
    totals: dict[int, str],
) -> None:
    subscribed = await subscribed_with(api, database, tenant, records)
    item_ids = [subscribed.item_ids[item] for item in asked]
    async with database.transaction(write=False) as session:
        found = await rating.usage_totals(session, subscribed.tenant_id, item_ids, *JANUARY)
    assert found == {subscribed.item_ids[item]: D(total) for item, total in totals.items()}


async def test_usage_totals_of_no_items_is_empty(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await subscribed_with(api, database, tenant, [(0, date(2026, 1, 3), "1")])
    async with database.transaction(write=False) as session:
        assert await rating.usage_totals(session, subscribed.tenant_id, [], *JANUARY) == {}
        other_tenant = await rating.usage_totals(
            session, "tnl_other", subscribed.item_ids, *JANUARY
        )
    assert other_tenant == {}


async def test_mark_rated_marks_the_pending_records_of_the_period_once(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await subscribed_with(
        api, database, tenant,
        [(0, date(2026, 1, 1), "1"), (0, date(2026, 1, 31), "2"), (1, date(2026, 1, 15), "3"),
         (0, date(2026, 2, 1), "4"), (2, date(2026, 1, 15), "5")],
    )  # fmt: skip
    rated = subscribed.item_ids[:2]
    async with database.transaction() as session:
        marked = await rating.mark_rated(
            session, subscribed.tenant_id, rated, *JANUARY, invoice_id="inv_1"
        )
        assert marked == 3
        again = await rating.mark_rated(
            session, subscribed.tenant_id, rated, *JANUARY, invoice_id="inv_2"
        )
        assert again == 0
        assert await rating.mark_rated(session, subscribed.tenant_id, [], *JANUARY, "inv") == 0
    async with database.transaction(write=False) as session:
        rows = await session.execute(
            select(UsageRecord.quantity, UsageRecord.status, UsageRecord.invoice_id).order_by(
                UsageRecord.quantity
            )
        )
        assert [(D(q), status, invoice) for q, status, invoice in rows] == [
            (D(1), "processed", "inv_1"), (D(2), "processed", "inv_1"),
            (D(3), "processed", "inv_1"), (D(4), "pending", None), (D(5), "pending", None),
        ]  # fmt: skip
        # Rated records still count in their period's total (an upcoming invoice asks too).
        totals = await rating.usage_totals(session, subscribed.tenant_id, rated, *JANUARY)
    assert totals == {subscribed.item_ids[0]: D(3), subscribed.item_ids[1]: D(3)}


async def test_rated_records_read_as_processed_by_their_invoice(
    api: Api, database: Database, tenant: Tenant
) -> None:
    subscribed = await subscribed_with(api, database, tenant, [(0, date(2026, 1, 9), "7")])
    async with database.transaction() as session:
        await rating.mark_rated(
            session, subscribed.tenant_id, subscribed.item_ids, *JANUARY, invoice_id="inv_9"
        )
    [usage] = (await api.get("/v1/usage", status="processed")).json()["usageRecords"]
    assert (usage["status"], usage["invoiceId"], usage["quantity"]) == ("processed", "inv_9", 7)
