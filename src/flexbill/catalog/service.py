"""Catalog use cases other than writing products (``upsert.py``) and importing them
(``csv_import.py``): reading, listing, discontinuing, and the price lookup orders use.

Every function works inside the caller's transaction (flush only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog import errors, in_use
from flexbill.catalog.models import (
    Grade,
    Product,
    ProductStatus,
    Variant,
    VariantPrice,
    VariantStatus,
)
from flexbill.catalog.pricing import Discount, DiscountType, effective_monthly_price
from flexbill.catalog.repository import WITH_VARIANTS, Products, Variants
from flexbill.core import clock
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.tenancy.context import TenantContext

PRODUCT_SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Product.created_at,
        "updatedAt": Product.updated_at,
        "name": Product.name,
        "productSku": Product.sku,
    },
    id_column=Product.id,
)

PRODUCT_FILTERS = FilterSet(
    one_of("status", Product.status, tuple(ProductStatus)),
    equals("category", Product.category),
    equals("brand", Product.brand),
)

VARIANT_SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Variant.created_at,
        "updatedAt": Variant.updated_at,
        "sku": Variant.sku,
    },
    id_column=Variant.id,
)

VARIANT_FILTERS = FilterSet(
    one_of("status", Variant.status, tuple(VariantStatus)),
    equals("productSku", Product.sku),
    one_of("grade", Variant.grade, tuple(Grade)),
    equals("sku", Variant.sku),
    equals("category", Product.category),
)


async def get_product(session: AsyncSession, ctx: TenantContext, product_id: str) -> Product:
    return await Products(session, ctx.tenant_id).get_whole(product_id)


async def list_products(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Product]:
    base = Products(session, ctx.tenant_id).select().options(WITH_VARIANTS)
    return await paginate(session, PRODUCT_FILTERS.apply(base, filters), PRODUCT_SORT_ORDERS, page)


async def list_variants(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Variant]:
    """Variants across all products, each with its product and prices loaded."""
    base = Variants(session, ctx.tenant_id).with_products()
    return await paginate(session, VARIANT_FILTERS.apply(base, filters), VARIANT_SORT_ORDERS, page)


async def discontinue_product(
    session: AsyncSession, ctx: TenantContext, product_id: str
) -> Product:
    """Soft delete: the product becomes ``discontinued`` and all its variants ``inactive``.

    Rows stay, so orders and subscriptions that name them keep their history. Refused with
    ``VARIANT_IN_USE`` while an active subscription rents one of its variants, and with
    ``PRODUCT_HAS_ACTIVE_ORDERS`` while a pending, confirmed or partially fulfilled order
    has an item of one. Discontinuing a product that already is changes nothing and is
    not refused.
    """
    product = await Products(session, ctx.tenant_id).get_whole(product_id, for_update=True)
    already = product.status == ProductStatus.DISCONTINUED and all(
        variant.status == VariantStatus.INACTIVE for variant in product.variants
    )
    if already:
        return product
    await in_use.ensure_discontinuable(session, product)
    now = clock.now()
    if product.status != ProductStatus.DISCONTINUED:
        product.status = ProductStatus.DISCONTINUED
        product.updated_at = now
    for variant in product.variants:
        if variant.status != VariantStatus.INACTIVE:
            variant.status = VariantStatus.INACTIVE
            variant.updated_at = now
    await session.flush()
    return product


@dataclass(frozen=True)
class PriceQuote:
    """What an order line needs to know about a variant at one contract length."""

    product: Product
    variant: Variant
    price: VariantPrice

    @property
    def discount(self) -> Discount | None:
        if self.price.discount_type is None or self.price.discount_value is None:
            return None
        return Discount(
            DiscountType(self.price.discount_type),
            self.price.discount_value,
            self.price.discount_description,
        )

    @property
    def monthly_price(self) -> int:
        """The monthly price after the discount, in minor units."""
        return effective_monthly_price(self.price.monthly_price, self.discount)


async def get_variant(session: AsyncSession, ctx: TenantContext, variant_sku: str) -> Variant:
    """The variant with SKU ``variant_sku``, with its product and prices; ``VARIANT_NOT_FOUND``
    when the tenant's catalog has none."""
    variant = await Variants(session, ctx.tenant_id).by_sku(variant_sku)
    if variant is None:
        raise errors.variant_not_found(variant_sku)
    return variant


async def price_for(
    session: AsyncSession, ctx: TenantContext, variant_sku: str, contract_length: int
) -> PriceQuote:
    """The price of the variant ``variant_sku`` for ``contract_length`` months.

    Raises ``VARIANT_NOT_FOUND``, ``VARIANT_INACTIVE`` (the variant is inactive or its
    product discontinued) or ``INVALID_CONTRACT_LENGTH`` (not offered for that length).
    """
    variant = await get_variant(session, ctx, variant_sku)
    if variant.status != VariantStatus.ACTIVE or variant.product.status != ProductStatus.ACTIVE:
        raise errors.variant_inactive(variant_sku)
    for price in variant.prices:
        if price.contract_length == contract_length:
            return PriceQuote(product=variant.product, variant=variant, price=price)
    offered = [price.contract_length for price in variant.prices]
    raise errors.invalid_contract_length(variant_sku, contract_length, offered)
