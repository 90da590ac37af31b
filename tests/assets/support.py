"""Helpers for asset tests: a tenant context for service calls, and renting a unit out
(subscriptions have no HTTP face yet, so tests reach rented_out through the service)."""

from __future__ import annotations

from flexbill.assets import service
from flexbill.core.db import Database
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import authenticate
from tests.catalog.support import pricing, product, variant
from tests.support import Api, Tenant


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


# Every SKU the asset tests register units of; the catalog must know a SKU first.
STOCKED_SKUS = (
    "LAPTOP-16", "MACBOOK-PRO-16-M3-18GB-SILVER", "OTHER", "X", "X-1", "B-SKU", "A-SKU",
    "LAPTOP-PRO-16", "OTHER-SKU", "PHONE-15", "C-SKU", "SKU-0", "SKU-1",
)  # fmt: skip


async def stock(api: Api, *skus: str) -> None:
    """Put variants with these SKUs into the caller's catalog (one product, upserted)."""
    body = product(
        "ASSET-TEST-DEVICES",
        # Whole-number prices are valid in every currency (JPY has no minor unit).
        *(variant(sku, pricing=[pricing(12, 10)]) for sku in skus or STOCKED_SKUS),
        name="Test devices",
    )
    response = await api.post("/v1/products", body)
    assert response.status_code in (200, 201), response.text
