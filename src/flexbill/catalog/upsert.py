"""Creating and updating products with their variants and prices (upsert by productSku).

Shared by the JSON operations and the CSV import: a request is first turned into a plan
(amounts checked and converted to minor units, nothing read or written), then the plan is
applied to the product it names, which is created when it does not exist yet. Variants are
matched by their SKU; variants a request does not name are left as they are, and every
named one becomes active. An upsert therefore never deactivates or removes a variant, and
needs none of the in-use checks of ``in_use.py``: only discontinuing a product does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog.errors import duplicate_sku
from flexbill.catalog.models import (
    Grade,
    Product,
    ProductStatus,
    Variant,
    VariantPrice,
    VariantStatus,
)
from flexbill.catalog.pricing import PriceInput, PriceTerms, PricingCheck
from flexbill.catalog.repository import Products, Variants
from flexbill.core import clock
from flexbill.core.errors import ErrorDetail
from flexbill.core.ids import new_id
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class ProductFields:
    """A product's own fields. ``None`` for description or images keeps the stored value
    (on a new product: none)."""

    sku: str
    name: str
    specification: str
    category: str
    brand: str
    description: str | None = None
    images: tuple[str, ...] | None = None


@dataclass(frozen=True)
class VariantInput:
    """A variant as a client states it, amounts in major units. ``None`` for an optional
    field keeps the stored value (on a new variant: none)."""

    sku: str
    name: str
    grade: Grade
    pricing: tuple[PriceInput, ...]
    condition: str | None = None
    color_name: str | None = None
    images: tuple[str, ...] | None = None
    list_price: Decimal | None = None
    acquisition_cost: Decimal | None = None


@dataclass(frozen=True)
class ProductInput:
    fields: ProductFields
    variants: tuple[VariantInput, ...]


@dataclass(frozen=True)
class VariantPlan:
    """A checked variant, amounts in minor units; its price list replaces the stored one."""

    sku: str
    name: str
    grade: Grade
    prices: tuple[PriceTerms, ...]
    condition: str | None = None
    color_name: str | None = None
    images: tuple[str, ...] | None = None
    list_price: int | None = None
    acquisition_cost: int | None = None


@dataclass(frozen=True)
class VariantOutcome:
    sku: str
    created: bool


@dataclass(frozen=True)
class UpsertOutcome:
    product: Product
    created: bool
    variants: list[VariantOutcome]


def plan_variants(variants: Sequence[VariantInput], currency: str) -> list[VariantPlan]:
    """Check every variant's amounts and price list; raise ``INVALID_PRICING`` naming each
    problem (``variants.0.pricing.1.monthlyPrice``), then ``DUPLICATE_SKU`` for a variant
    SKU named twice."""
    check = PricingCheck(currency)
    plans = [
        VariantPlan(
            sku=variant.sku, name=variant.name, grade=variant.grade,
            prices=tuple(check.price_list(variant.pricing, f"variants.{index}.pricing")),
            condition=variant.condition, color_name=variant.color_name, images=variant.images,
            list_price=check.optional_amount(variant.list_price, f"variants.{index}.listPrice"),
            acquisition_cost=check.optional_amount(
                variant.acquisition_cost, f"variants.{index}.acquisitionCost"
            ),
        )
        for index, variant in enumerate(variants)
    ]  # fmt: skip
    check.raise_if_invalid()
    first_index: dict[str, int] = {}
    repeated: list[ErrorDetail] = []
    for index, plan in enumerate(plans):
        if plan.sku in first_index:
            repeated.append(
                ErrorDetail(
                    path=f"variants.{index}.variantSku",
                    message=f"'{plan.sku}' is also the SKU of variants.{first_index[plan.sku]}",
                    code="duplicate",
                )
            )
        first_index.setdefault(plan.sku, index)
    if repeated:
        raise duplicate_sku("A variant SKU appears more than once in the request", repeated)
    return plans


def set_product_fields(product: Product, fields: ProductFields) -> None:
    product.sku = fields.sku
    product.name = fields.name
    product.specification = fields.specification
    product.category = fields.category
    product.brand = fields.brand
    if fields.description is not None:
        product.description = fields.description or None
    if fields.images is not None:
        product.images = list(fields.images)
    # Sending a discontinued product again puts it back on sale.
    product.status = ProductStatus.ACTIVE


def new_product(ctx: TenantContext, fields: ProductFields) -> Product:
    product = Product(id=new_id("prod"), tenant_id=ctx.tenant_id, images=[], variants=[])
    set_product_fields(product, fields)
    return product


def _replace_prices(variant: Variant, terms: Sequence[PriceTerms]) -> None:
    # Rows are changed in place, never deleted and re-inserted: the unit of work inserts
    # before it deletes, so re-inserting a kept contract length would collide with itself.
    stored = {price.contract_length: price for price in variant.prices}
    wanted = {term.contract_length for term in terms}
    for obsolete in [p for p in variant.prices if p.contract_length not in wanted]:
        variant.prices.remove(obsolete)
    for term in terms:
        price = stored.get(term.contract_length)
        if price is None:
            price = VariantPrice(
                tenant_id=variant.tenant_id, variant_id=variant.id,
                contract_length=term.contract_length,
            )  # fmt: skip
            variant.prices.append(price)
        price.monthly_price = term.monthly_price
        price.setup_fee = term.setup_fee
        price.discount_type = term.discount.type if term.discount else None
        price.discount_value = term.discount.value if term.discount else None
        price.discount_description = term.discount.description if term.discount else None
        price.source = term.source
        price.calculated_at = term.calculated_at
        price.preset_used = term.preset_used
    variant.prices.sort(key=lambda price: price.contract_length)


def _set_variant_fields(variant: Variant, plan: VariantPlan) -> None:
    variant.sku = plan.sku
    variant.name = plan.name
    variant.grade = plan.grade
    variant.status = VariantStatus.ACTIVE
    for name in ("condition", "color_name", "list_price", "acquisition_cost"):
        value = getattr(plan, name)
        if value is not None:
            setattr(variant, name, value)
    if plan.images is not None:
        variant.images = list(plan.images)
    _replace_prices(variant, plan.prices)


def apply_variants(product: Product, plans: Sequence[VariantPlan]) -> list[VariantOutcome]:
    """Update the product's variants named by SKU, add the others (in memory: flush after).

    The caller has made sure no other product owns one of these SKUs.
    """
    stored = {variant.sku: variant for variant in product.variants}
    now = clock.now()
    outcomes = []
    for plan in plans:
        variant = stored.get(plan.sku)
        if variant is None:
            variant = Variant(
                id=new_id("var"), tenant_id=product.tenant_id, product_id=product.id,
                images=[], prices=[],
            )  # fmt: skip
            product.variants.append(variant)
            outcomes.append(VariantOutcome(sku=plan.sku, created=True))
        else:
            # Reported as updated, so its time moves even when only its price rows (which
            # have no time of their own) changed.
            variant.updated_at = now
            outcomes.append(VariantOutcome(sku=plan.sku, created=False))
        _set_variant_fields(variant, plan)
    return outcomes


async def _ensure_variant_skus_free(
    session: AsyncSession, ctx: TenantContext, product_id: str, plans: Sequence[VariantPlan]
) -> None:
    owners = await Variants(session, ctx.tenant_id).owners([plan.sku for plan in plans])
    taken = [
        ErrorDetail(
            path=f"variants.{index}.variantSku",
            message=f"'{plan.sku}' is a variant of another product",
            code="duplicate",
        )
        for index, plan in enumerate(plans)
        if owners.get(plan.sku, product_id) != product_id
    ]
    if taken:
        raise duplicate_sku("A variant SKU belongs to another product", taken)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent request took one of the SKUs between our check and our write.
        raise duplicate_sku("A product or variant SKU was taken by a concurrent request") from None


async def _apply(
    session: AsyncSession, ctx: TenantContext, product: Product, new: ProductInput,
    plans: Sequence[VariantPlan],
) -> UpsertOutcome:  # fmt: skip
    await _ensure_variant_skus_free(session, ctx, product.id, plans)
    set_product_fields(product, new.fields)
    product.updated_at = clock.now()
    outcomes = apply_variants(product, plans)
    await _flush(session)
    return UpsertOutcome(product=product, created=False, variants=outcomes)


async def _try_create(
    session: AsyncSession, ctx: TenantContext, new: ProductInput, plans: Sequence[VariantPlan]
) -> UpsertOutcome | None:
    """Insert the product; ``None`` when a concurrent request inserted the same productSku
    first (the savepoint keeps our transaction usable to update that product instead)."""
    product = new_product(ctx, new.fields)
    await _ensure_variant_skus_free(session, ctx, product.id, plans)
    outcomes = apply_variants(product, plans)
    try:
        async with session.begin_nested():
            session.add(product)
            await session.flush()
    except IntegrityError:
        return None
    return UpsertOutcome(product=product, created=True, variants=outcomes)


async def upsert_product(
    session: AsyncSession, ctx: TenantContext, new: ProductInput
) -> UpsertOutcome:
    """Create the product, or update the one with the same productSku."""
    plans = plan_variants(new.variants, ctx.currency)
    products = Products(session, ctx.tenant_id)
    sku = new.fields.sku
    product = (await products.by_skus([sku], for_update=True)).get(sku)
    if product is None:
        created = await _try_create(session, ctx, new, plans)
        if created is not None:
            return created
        product = (await products.by_skus([sku], for_update=True)).get(sku)
        if product is None:  # the conflict was a variant SKU, not the product's
            raise duplicate_sku("A variant SKU was taken by a concurrent request")
    return await _apply(session, ctx, product, new, plans)


async def update_product(
    session: AsyncSession, ctx: TenantContext, product_id: str, new: ProductInput
) -> UpsertOutcome:
    """Update the product ``product_id``; its productSku may change if no other has it."""
    plans = plan_variants(new.variants, ctx.currency)
    products = Products(session, ctx.tenant_id)
    product = await products.get_whole(product_id, for_update=True)
    if new.fields.sku != product.sku and await products.sku_taken(
        new.fields.sku, by_other_than=product.id
    ):
        raise duplicate_sku(
            f"Another product has the productSku '{new.fields.sku}'",
            [ErrorDetail(path="productSku", message="already in use", code="duplicate")],
        )
    return await _apply(session, ctx, product, new, plans)
