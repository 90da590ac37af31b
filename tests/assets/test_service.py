"""The asset use cases subscriptions will call (assign, release), and the history every
change writes, at service level on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flexbill.assets import service
from flexbill.assets.lifecycle import AssetStatus
from flexbill.assets.service import AssetChanges, NewAsset
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError, InvalidState, ValidationFailed
from flexbill.tenancy.context import TenantContext
from tests.assets.support import stock, tenant_context
from tests.support import Api, Tenant, new_tenant


@pytest.fixture(autouse=True)
async def _catalog(api: Api) -> None:
    await stock(api, "LAPTOP-16")


@pytest.fixture
async def ctx(database: Database, tenant: Tenant) -> TenantContext:
    return await tenant_context(database, tenant)


async def _register(
    database: Database,
    ctx: TenantContext,
    serial: str,
    status: AssetStatus = AssetStatus.AVAILABLE,
) -> None:
    async with database.transaction() as session:
        await service.register_asset(
            session, ctx, NewAsset(serial_number=serial, sku="LAPTOP-16", status=status)
        )


async def _history(database: Database, ctx: TenantContext, serial: str) -> list[tuple[object, ...]]:
    async with database.transaction() as session:
        record = await service.get_asset_with_history(session, ctx, serial)
        return [
            (e.kind, e.from_status, e.to_status, e.rental_id, e.customer_id) for e in record.history
        ]


async def test_assign_rents_out_an_available_unit(database: Database, ctx: TenantContext) -> None:
    await _register(database, ctx, "SN-1")
    async with database.transaction() as session:
        asset = await service.assign(session, ctx, "SN-1", rental_id="sub_9", customer_id="cust_7")
        assert (asset.status, asset.rental_id, asset.customer_id) == (
            "rented_out",
            "sub_9",
            "cust_7",
        )
    assert await _history(database, ctx, "SN-1") == [
        ("registered", None, "available", None, None),
        ("assigned", "available", "rented_out", "sub_9", "cust_7"),
    ]


@pytest.mark.parametrize(
    ("to_status", "kind"),
    [
        ("returned", "returned"),
        ("available", "returned"),
        ("unavailable", "returned"),
        ("sold", "sold"),
    ],
)
async def test_release_forgets_the_rental_but_the_history_keeps_it(
    database: Database, ctx: TenantContext, to_status: service.ReleaseStatus, kind: str
) -> None:
    await _register(database, ctx, "SN-1")
    async with database.transaction() as session:
        await service.assign(session, ctx, "SN-1", rental_id="sub_9", customer_id="cust_7")
    async with database.transaction() as session:
        asset = await service.release(session, ctx, "SN-1", to_status=to_status)
        assert (asset.status, asset.rental_id, asset.customer_id) == (to_status, None, None)
    history = await _history(database, ctx, "SN-1")
    assert history[-1] == (kind, "rented_out", to_status, "sub_9", "cust_7")
    assert len(history) == 3


async def test_release_defaults_to_returned(database: Database, ctx: TenantContext) -> None:
    await _register(database, ctx, "SN-1")
    async with database.transaction() as session:
        await service.assign(session, ctx, "SN-1", rental_id="sub_9", customer_id="cust_7")
        asset = await service.release(session, ctx, "SN-1")
        assert asset.status == AssetStatus.RETURNED


@pytest.mark.parametrize("status", ["unavailable", "rented_out"])
async def test_assign_refuses_a_unit_that_is_not_available(
    database: Database, ctx: TenantContext, status: str
) -> None:
    await _register(database, ctx, "SN-1")
    async with database.transaction() as session:
        if status == "rented_out":
            await service.assign(session, ctx, "SN-1", rental_id="sub_1", customer_id="cust_1")
        else:
            await service.update_asset(
                session, ctx, "SN-1", AssetChanges(status=AssetStatus.UNAVAILABLE)
            )
    async with database.transaction() as session:
        with pytest.raises(InvalidState) as refused:
            await service.assign(session, ctx, "SN-1", rental_id="sub_2", customer_id="cust_2")
    assert refused.value.code == "ASSET_NOT_AVAILABLE"
    async with database.transaction() as session:
        asset = await service.get_asset(session, ctx, "SN-1")
        assert (asset.status, asset.rental_id) == (
            status,
            "sub_1" if status == "rented_out" else None,
        )


async def test_release_refuses_a_unit_that_is_not_rented_out(
    database: Database, ctx: TenantContext
) -> None:
    await _register(database, ctx, "SN-1")
    async with database.transaction() as session:
        with pytest.raises(InvalidState) as refused:
            await service.release(session, ctx, "SN-1", to_status="available")
    assert refused.value.code == "INVALID_STATUS_TRANSITION"
    assert len(await _history(database, ctx, "SN-1")) == 1


async def test_unknown_units_are_asset_not_found(database: Database, ctx: TenantContext) -> None:
    async with database.transaction() as session:
        with pytest.raises(FlexbillError) as assigning:
            await service.assign(session, ctx, "NOPE", rental_id="sub_1", customer_id="cust_1")
        with pytest.raises(FlexbillError) as releasing:
            await service.release(session, ctx, "NOPE")
    assert assigning.value.code == releasing.value.code == "ASSET_NOT_FOUND"


async def test_another_tenants_unit_is_not_found(
    database: Database, ctx: TenantContext, tenant: Tenant
) -> None:
    await _register(database, ctx, "SN-1")
    others = [
        await tenant_context(database, tenant, test_mode=True),
        await tenant_context(database, await new_tenant(database)),
    ]
    for other in others:
        async with database.transaction() as session:
            with pytest.raises(FlexbillError) as refused:
                await service.assign(
                    session, other, "SN-1", rental_id="sub_1", customer_id="cust_1"
                )
        assert refused.value.code == "ASSET_NOT_FOUND"
    async with database.transaction() as session:
        assert (await service.get_asset(session, ctx, "SN-1")).status == "available"


async def test_registration_accepts_only_warehouse_statuses(
    database: Database, ctx: TenantContext
) -> None:
    with pytest.raises(ValidationFailed):
        await _register(database, ctx, "SN-1", status=AssetStatus.RENTED_OUT)
    await _register(database, ctx, "SN-2", status=AssetStatus.UNAVAILABLE)
    async with database.transaction() as session:
        assert (await service.get_asset(session, ctx, "SN-2")).status == "unavailable"
        with pytest.raises(FlexbillError) as missing:
            await service.get_asset(session, ctx, "SN-1")
    assert missing.value.code == "NOT_FOUND"


async def test_history_keeps_its_order_when_events_share_a_timestamp(
    database: Database, ctx: TenantContext
) -> None:
    with clock.frozen(datetime(2025, 1, 15, 10, 30, tzinfo=UTC)):
        await _register(database, ctx, "SN-1")
        async with database.transaction() as session:
            # One update that changes a field and the status: two events, same instant.
            await service.update_asset(
                session,
                ctx,
                "SN-1",
                AssetChanges(status=AssetStatus.UNAVAILABLE, location="Repair shop"),
            )
            await service.update_asset(
                session, ctx, "SN-1", AssetChanges(status=AssetStatus.AVAILABLE)
            )
            await service.assign(session, ctx, "SN-1", rental_id="sub_1", customer_id="cust_1")
            await service.release(session, ctx, "SN-1", to_status="unavailable")
            await service.delete_asset(session, ctx, "SN-1")
        async with database.transaction() as session:
            record = await service.get_asset_with_history(session, ctx, "SN-1")
    assert [(e.revision, e.kind, e.to_status) for e in record.history] == [
        (1, "registered", "available"),
        (2, "updated", None),
        (3, "status_changed", "unavailable"),
        (4, "status_changed", "available"),
        (5, "assigned", "rented_out"),
        (6, "returned", "unavailable"),
        (7, "deleted", "unavailable"),
    ]
    assert {e.at for e in record.history} == {datetime(2025, 1, 15, 10, 30, tzinfo=UTC)}
    assert {e.actor for e in record.history} == {ctx.actor}
    assert record.history[1].note == "Changed location"
    assert record.asset.revision == 7
