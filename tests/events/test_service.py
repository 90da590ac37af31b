"""The event log at service level: rows written in the caller's transaction, payloads in
the shape of FlexPortal's webhooks (seed 000), amounts kept exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.events import service
from flexbill.events.models import Event, EventType
from flexbill.tenancy.context import TenantContext
from tests.orders.support import tenant_context
from tests.support import Tenant, new_tenant

T0 = datetime(2025, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture
async def ctx(database: Database, tenant: Tenant) -> TenantContext:
    return await tenant_context(database, tenant)


def test_the_eleven_event_types_of_the_seed_come_first() -> None:
    assert [t.value for t in EventType][:11] == [
        "order.created", "order.fulfilled", "subscription.created", "subscription.extended",
        "subscription.upgraded", "subscription.ended", "payment.scheduled",
        "payment.succeeded", "payment.failed", "asset.assigned", "asset.returned",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (T0, "2025-01-15T10:30:00Z"),
        (datetime(2025, 1, 15, 10, 30, 0, 123000, tzinfo=UTC), "2025-01-15T10:30:00.123000Z"),
        (datetime.fromisoformat("2025-01-15T12:30:00+02:00"), "2025-01-15T10:30:00Z"),
    ],
)
def test_timestamps_are_rfc3339_utc_with_z(moment: datetime, text: str) -> None:
    assert service.rfc3339(moment) == text


async def test_an_event_is_a_row_with_the_seed_payload(
    database: Database, ctx: TenantContext
) -> None:
    data = {
        "subscriptionId": "sub_abc123", "customerId": "cust_xyz789", "orderId": "ord_def456",
        "monthlyAmount": Decimal("49.90"), "months": 12, "active": True, "note": None,
    }  # fmt: skip
    with clock.frozen(T0):
        async with database.transaction() as session:
            event = await service.emit(session, ctx, EventType.SUBSCRIPTION_CREATED, data)
    assert event.id.startswith("evt_")
    expected = {"event": "subscription.created", "timestamp": "2025-01-15T10:30:00Z", "data": data}
    assert service.payload(event) == expected
    async with database.transaction() as session:
        stored = await session.get(Event, (ctx.tenant_id, event.id))
        assert stored is not None
        reread = service.payload(stored)
    assert reread == expected
    # Exact on the way back too: the same digits, not a float near them.
    assert str(reread["data"]["monthlyAmount"]) == "49.90"
    assert type(reread["data"]["months"]) is int


async def test_an_event_exists_only_if_its_transaction_commits(
    database: Database, ctx: TenantContext
) -> None:
    async def fail_after_emitting() -> None:
        async with database.transaction() as session:
            await service.emit(session, ctx, EventType.ORDER_CREATED, {"orderId": "ord_1"})
            raise RuntimeError("the change that caused the event failed")

    with pytest.raises(RuntimeError):
        await fail_after_emitting()
    async with database.transaction() as session:
        assert (await session.scalars(select(Event))).all() == []


async def test_events_belong_to_their_tenant(database: Database, ctx: TenantContext) -> None:
    other = await tenant_context(database, await new_tenant(database))
    async with database.transaction() as session:
        mine = await service.emit(session, ctx, EventType.ASSET_ASSIGNED, {"serialNumber": "S1"})
        await service.emit(session, other, EventType.ASSET_RETURNED, {"serialNumber": "S2"})
    async with database.transaction() as session:
        rows = (await session.scalars(select(Event).where(Event.tenant_id == ctx.tenant_id))).all()
    assert [row.id for row in rows] == [mine.id]


async def test_data_that_is_not_json_is_refused(database: Database, ctx: TenantContext) -> None:
    async def emit_an_object() -> None:
        async with database.transaction() as session:
            await service.emit(session, ctx, EventType.ORDER_CREATED, {"when": object()})

    with pytest.raises(StatementError, match="not JSON serializable"):
        await emit_an_object()
