"""Helpers for asset tests: a tenant context for service calls, and renting a unit out
(subscriptions have no HTTP face yet, so tests reach rented_out through the service)."""

from __future__ import annotations

from flexbill.assets import service
from flexbill.core.db import Database
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import authenticate
from tests.support import Tenant


async def tenant_context(
    database: Database, tenant: Tenant, *, test_mode: bool = False
) -> TenantContext:
    async with database.transaction() as session:
        return await authenticate(
            session,
            secret=tenant.test_key if test_mode else tenant.live_key,
            business_unit_id=tenant.id,
            client_ip=None,
        )


async def rent_out(
    database: Database,
    tenant: Tenant,
    serial_number: str,
    *,
    rental_id: str = "sub_1",
    customer_id: str = "cust_1",
) -> None:
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await service.assign(
            session, ctx, serial_number, rental_id=rental_id, customer_id=customer_id
        )


async def give_back(
    database: Database, tenant: Tenant, serial_number: str, to_status: service.ReleaseStatus
) -> None:
    ctx = await tenant_context(database, tenant)
    async with database.transaction() as session:
        await service.release(session, ctx, serial_number, to_status=to_status)
