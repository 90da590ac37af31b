"""``price_for``: the price lookup orders will use, through the catalog services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flexbill.catalog import service, upsert
from flexbill.catalog.models import Grade
from flexbill.catalog.pricing import DiscountInput, DiscountType, PriceInput
from flexbill.catalog.upsert import ProductFields, ProductInput, VariantInput
from flexbill.core.db import Database
from flexbill.core.errors import FlexbillError, InvalidState
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import authenticate
from tests.support import Tenant, new_tenant


async def _context(database: Database, tenant: Tenant) -> TenantContext:
    async with database.transaction() as session:
        return await authenticate(
            session, secret=tenant.live_key, business_unit_id=tenant.id, client_ip=None
        )


def _product(sku: str = "IPH-15", variant_sku: str = "IPH-15-BLK") -> ProductInput:
    return ProductInput(
        fields=ProductFields(
            sku=sku, name="iPhone 15", specification="128 GB", category="Phones", brand="Apple"
        ),
        variants=(
            VariantInput(
                sku=variant_sku,
                name="Black",
                grade=Grade.A,
                pricing=(
                    PriceInput(contract_length=12, monthly_price=Decimal("49.99")),
                    PriceInput(
                        contract_length=24,
                        monthly_price=Decimal("39.99"),
                        setup_fee=Decimal("10"),
                        discount=DiscountInput(DiscountType.PERCENTAGE, Decimal("10")),
                    ),
                ),
            ),
        ),
    )


@pytest.fixture
async def ctx(database: Database, tenant: Tenant) -> TenantContext:
    context = await _context(database, tenant)
    async with database.transaction() as session:
        await upsert.upsert_product(session, context, _product())
    return context


async def test_price_of_a_variant_for_a_contract_length(
    database: Database, ctx: TenantContext
) -> None:
    async with database.transaction() as session:
        quote = await service.price_for(session, ctx, "IPH-15-BLK", 24)
    assert (quote.product.sku, quote.variant.sku) == ("IPH-15", "IPH-15-BLK")
    assert (quote.price.contract_length, quote.price.monthly_price, quote.price.setup_fee) == (
        24,
        3999,
        1000,
    )
    assert quote.monthly_price == 3599  # 3999 less 10 %, 3599.1 rounded half up
    async with database.transaction() as session:
        undiscounted = await service.price_for(session, ctx, "IPH-15-BLK", 12)
    assert (undiscounted.discount, undiscounted.monthly_price) == (None, 4999)


async def test_unknown_variant(database: Database, ctx: TenantContext) -> None:
    async with database.transaction() as session:
        with pytest.raises(FlexbillError) as raised:
            await service.price_for(session, ctx, "NOPE", 12)
    assert raised.value.code == "VARIANT_NOT_FOUND"


async def test_contract_length_not_offered(database: Database, ctx: TenantContext) -> None:
    async with database.transaction() as session:
        with pytest.raises(FlexbillError) as raised:
            await service.price_for(session, ctx, "IPH-15-BLK", 36)
    assert raised.value.code == "INVALID_CONTRACT_LENGTH"
    assert "12, 24" in raised.value.message
    assert [d.path for d in raised.value.details] == ["contractLength"]


async def test_discontinued_product_has_inactive_variants(
    database: Database, ctx: TenantContext
) -> None:
    async with database.transaction() as session:
        quote = await service.price_for(session, ctx, "IPH-15-BLK", 12)
        await service.discontinue_product(session, ctx, quote.product.id)
    async with database.transaction() as session:
        with pytest.raises(InvalidState) as raised:
            await service.price_for(session, ctx, "IPH-15-BLK", 12)
    assert raised.value.code == "VARIANT_INACTIVE"
    async with database.transaction() as session:  # sending the product again revives it
        await upsert.upsert_product(session, ctx, _product())
    async with database.transaction() as session:
        assert (await service.price_for(session, ctx, "IPH-15-BLK", 12)).monthly_price == 4999


async def test_another_tenants_variant_is_not_found(database: Database, ctx: TenantContext) -> None:
    other = await _context(database, await new_tenant(database))
    async with database.transaction() as session:
        with pytest.raises(FlexbillError) as raised:
            await service.price_for(session, other, "IPH-15-BLK", 12)
    assert raised.value.code == "VARIANT_NOT_FOUND"
