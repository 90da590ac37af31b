"""Tenant-scoped queries of the catalog, shared by its use cases.

Products are always loaded with their variants and prices: every face renders a product
whole, and loading the three tables in three statements beats lazy loads (which async
sessions do not allow anyway).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from itertools import islice

from sqlalchemy import Select
from sqlalchemy.orm import contains_eager, selectinload

from flexbill.catalog.models import Product, Variant
from flexbill.core.repository import TenantRepository

# Bound parameters per IN list: far below the limits of SQLite (32766) and asyncpg (32767).
_CHUNK = 1000

WITH_VARIANTS = selectinload(Product.variants).selectinload(Variant.prices)


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = iter(sorted(set(values)))
    while chunk := list(islice(ordered, _CHUNK)):
        yield chunk


class Products(TenantRepository[Product]):
    model = Product
    noun = "Product"

    async def get_whole(self, product_id: str, *, for_update: bool = False) -> Product:
        """The product with its variants and their prices."""
        product = await self.session.get(
            Product,
            (self.tenant_id, product_id),
            options=[WITH_VARIANTS],
            with_for_update=for_update or None,
        )
        if product is None:
            return await self.get(product_id)  # raises NOT_FOUND
        return product

    async def by_skus(
        self, skus: Collection[str], *, for_update: bool = False
    ) -> dict[str, Product]:
        """Products by productSku (whole), for the SKUs that exist."""
        found: dict[str, Product] = {}
        for chunk in _chunks(skus):
            statement = self.select().where(Product.sku.in_(chunk)).options(WITH_VARIANTS)
            if for_update:
                statement = statement.with_for_update()
            for product in (await self.session.scalars(statement)).all():
                found[product.sku] = product
        return found

    async def sku_taken(self, sku: str, *, by_other_than: str) -> bool:
        statement = (
            self.select()
            .with_only_columns(Product.id)
            .where(Product.sku == sku, Product.id != by_other_than)
        )
        return (await self.session.scalars(statement)).first() is not None


class Variants(TenantRepository[Variant]):
    model = Variant
    noun = "Variant"

    def with_products(self) -> Select[Variant]:
        """Variants joined to their product (for filters on it), with prices loaded."""
        return (
            self.select()
            .join(Variant.product)
            .options(contains_eager(Variant.product), selectinload(Variant.prices))
        )

    async def by_sku(self, sku: str) -> Variant | None:
        statement = self.with_products().where(Variant.sku == sku)
        return (await self.session.scalars(statement)).unique().one_or_none()

    async def owners(self, skus: Sequence[str]) -> dict[str, str]:
        """variantSku → id of the product that has it, for the SKUs that exist."""
        owners: dict[str, str] = {}
        for chunk in _chunks(skus):
            statement = (
                self.select()
                .with_only_columns(Variant.sku, Variant.product_id)
                .where(Variant.sku.in_(chunk))
            )
            for sku, product_id in await self.session.execute(statement):
                owners[sku] = product_id
        return owners
