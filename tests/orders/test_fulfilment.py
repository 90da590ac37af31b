"""``record_rental``, the call subscriptions make per device they rent, at service level."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError
from flexbill.core.ids import new_id
from flexbill.events.models import Event
from flexbill.orders.fulfilment import record_rental
from flexbill.orders.models import Order
from flexbill.orders.queries import get_order
from flexbill.tenancy.context import TenantContext
from tests.orders.support import LAPTOP, PHONE, create_catalog, order_body, place, tenant_context
from tests.support import Api, Tenant, new_tenant

TWO_LAPTOPS_AND_A_PHONE = [
    {"sku": LAPTOP, "quantity": 2, "contractLength": 12},
    {"sku": PHONE, "quantity": 1, "contractLength": 12},
]


@pytest.fixture
async def ctx(api: Api, database: Database, tenant: Tenant) -> TenantContext:
    await create_catalog(api)
    return await tenant_context(database, tenant)


async def _order(api: Api, *, confirm: bool = True) -> str:
    # A new e-mail each time: the same e-mail and items would be the same order.
    email = f"{new_id('c')}@example.com"
    order = await place(api, order_body(email, items=TWO_LAPTOPS_AND_A_PHONE))
    if confirm:
        assert (await api.post(f"/v1/orders/{order['orderId']}/confirm", None)).status_code == 200
    order_id: str = order["orderId"]
    return order_id


async def _rent(
    database: Database, ctx: TenantContext, order_id: str, sku: str, rental: str
) -> Order:
    async with database.transaction() as session:
        return await record_rental(session, ctx, order_id, sku, rental)


async def _refusal(
    database: Database, ctx: TenantContext, order_id: str, sku: str, rental: str = "sub_x"
) -> str:
    with pytest.raises(FlexbillError) as refused:
        await _rent(database, ctx, order_id, sku, rental)
    return refused.value.code


async def _event_types(database: Database, ctx: TenantContext) -> list[str]:
    async with database.transaction() as session:
        statement = (
            select(Event.type).where(Event.tenant_id == ctx.tenant_id).order_by(Event.occurred_at)
        )
        return list((await session.scalars(statement)).all())


async def test_renting_every_device_fulfils_the_order(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order_id = await _order(api)
    order = await _rent(database, ctx, order_id, LAPTOP, "sub_1")
    assert (order.status, order.rented_devices) == ("partial", 1)
    assert [(i.rental_status, i.rental_ids) for i in order.items] == [
        ("partial", ["sub_1"]),
        ("pending", []),
    ]
    order = await _rent(database, ctx, order_id, LAPTOP, "sub_2")
    assert order.status == "partial"
    assert order.items[0].rental_status == "completed"
    order = await _rent(database, ctx, order_id, PHONE, "sub_3")
    assert (order.status, order.rented_devices, order.rental_ids) == (
        "fulfilled", 3, ["sub_1", "sub_2", "sub_3"],
    )  # fmt: skip
    assert [item.rental_status for item in order.items] == ["completed", "completed"]
    assert await _event_types(database, ctx) == ["order.created", "order.fulfilled"]

    fetched = (await api.get(f"/v1/orders/{order_id}")).json()
    assert fetched["status"] == "fulfilled"
    assert fetched["rentalProgress"] == {"totalDevices": 3, "rentedDevices": 3}
    assert fetched["items"][0]["rentalIds"] == ["sub_1", "sub_2"]


async def test_order_fulfilled_carries_the_order(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order = await place(api, order_body(items=[{"sku": PHONE, "quantity": 1}]))
    await api.post(f"/v1/orders/{order['orderId']}/confirm", None)
    await _rent(database, ctx, order["orderId"], PHONE, "sub_1")
    async with database.transaction() as session:
        statement = select(Event).where(
            Event.tenant_id == ctx.tenant_id, Event.type == "order.fulfilled"
        )
        event = (await session.scalars(statement)).one()
    assert event.data["orderId"] == order["orderId"]
    assert event.data["status"] == "fulfilled"
    assert event.data["rentalProgress"] == {"totalDevices": 1, "rentedDevices": 1}
    assert event.data["totals"]["total"] == Decimal("19.99")


async def test_recording_a_rental_again_changes_nothing(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order_id = await _order(api)
    await _rent(database, ctx, order_id, LAPTOP, "sub_1")
    order = await _rent(database, ctx, order_id, LAPTOP, "sub_1")
    assert (order.rented_devices, order.items[0].rental_ids) == (1, ["sub_1"])


async def test_refusals(api: Api, database: Database, ctx: TenantContext) -> None:
    pending = await _order(api, confirm=False)
    assert await _refusal(database, ctx, pending, LAPTOP) == "ORDER_NOT_CONFIRMED"
    assert await _refusal(database, ctx, "ord_missing", LAPTOP) == "ORDER_NOT_FOUND"

    order_id = await _order(api)
    assert await _refusal(database, ctx, order_id, "OTHER-SKU") == "SKU_MISMATCH"
    await _rent(database, ctx, order_id, PHONE, "sub_1")
    assert await _refusal(database, ctx, order_id, PHONE, "sub_2") == "ITEM_FULLY_FULFILLED"
    await _rent(database, ctx, order_id, LAPTOP, "sub_3")
    await _rent(database, ctx, order_id, LAPTOP, "sub_4")
    assert await _refusal(database, ctx, order_id, LAPTOP, "sub_5") == "ITEM_FULLY_FULFILLED"


async def test_a_cancelled_order_is_not_confirmed(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order_id = await _order(api)
    assert (await api.post(f"/v1/orders/{order_id}/cancel", {})).status_code == 200
    assert await _refusal(database, ctx, order_id, LAPTOP) == "ORDER_NOT_CONFIRMED"


async def test_another_tenants_order_is_not_found(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order_id = await _order(api)
    other_ctx = await tenant_context(database, await new_tenant(database))
    assert await _refusal(database, other_ctx, order_id, LAPTOP) == "ORDER_NOT_FOUND"


async def test_devices_rented_at_once_are_all_counted(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    order_id = await _order(api)
    await asyncio.gather(
        _rent(database, ctx, order_id, LAPTOP, "sub_1"),
        _rent(database, ctx, order_id, LAPTOP, "sub_2"),
        _rent(database, ctx, order_id, PHONE, "sub_3"),
    )
    async with database.transaction() as session:
        order = await session.get(Order, (ctx.tenant_id, order_id))
        assert order is not None
        assert (order.status, order.rented_devices) == ("fulfilled", 3)
        assert sorted(order.rental_ids) == ["sub_1", "sub_2", "sub_3"]
    assert (await _event_types(database, ctx)).count("order.fulfilled") == 1


async def test_a_rental_counts_from_the_committed_order_not_a_stale_copy(
    api: Api, database: Database, ctx: TenantContext
) -> None:
    """A caller (subscription creation) may hold the order loaded before another rental
    commits; the lock taken by ``record_rental`` must re-read it, or that rental is lost."""
    if database.kind == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time: no copy can go stale")
    order_id = await _order(api)
    async with database.transaction() as session:
        held = await get_order(session, ctx, order_id)
        assert held.rented_devices == 0
        await _rent(database, ctx, order_id, LAPTOP, "sub_1")  # commits meanwhile
        order = await record_rental(session, ctx, order_id, LAPTOP, "sub_2")
        assert (order.rented_devices, order.items[0].rental_ids) == (2, ["sub_1", "sub_2"])
