"""Product request and response bodies of the /v1 face (FlexPortal's Products reference)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import V1Model
from flexbill.catalog import models
from flexbill.catalog.csv_import import ImportReport
from flexbill.catalog.models import Grade, Product, Variant, VariantPrice
from flexbill.catalog.pricing import (
    BASIS_POINTS_PER_PERCENT,
    DiscountInput,
    DiscountType,
    PriceInput,
    PriceSource,
)
from flexbill.catalog.upsert import ProductFields, ProductInput, UpsertOutcome, VariantInput
from flexbill.core.money import to_major
from flexbill.tenancy.context import TenantContext

MAX_VARIANTS_PER_REQUEST = 500
MAX_IMAGES = 50

Sku = Annotated[str, Field(min_length=1, max_length=models.MAX_SKU_LENGTH)]
Name = Annotated[str, Field(min_length=1, max_length=models.MAX_NAME_LENGTH)]
Label = Annotated[str, Field(min_length=1, max_length=models.MAX_LABEL_LENGTH)]
OptionalLabel = Annotated[str | None, Field(default=None, max_length=models.MAX_LABEL_LENGTH)]
Images = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=2000)]] | None,
    Field(default=None, max_length=MAX_IMAGES),
]
GradeLetter = Literal["A", "B", "C", "D", "E"]


def _utc(moment: datetime | None) -> datetime | None:
    # A time sent without a zone is taken as UTC, the zone of every time this API returns.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class DiscountWrite(V1Model):
    type: Literal["percentage", "fixed"]
    value: Decimal
    description: Annotated[
        str | None, Field(default=None, max_length=models.MAX_DISCOUNT_DESCRIPTION_LENGTH)
    ] = None


class PricingWrite(V1Model):
    contract_length: int
    monthly_price: Decimal
    setup_fee: Decimal | None = None
    discount: DiscountWrite | None = None
    source: Literal["suggested", "manual"] | None = None
    calculated_at: datetime | None = None
    preset_used: OptionalLabel = None

    def to_domain(self) -> PriceInput:
        discount = self.discount
        return PriceInput(
            contract_length=self.contract_length, monthly_price=self.monthly_price,
            setup_fee=self.setup_fee,
            discount=None if discount is None else DiscountInput(
                DiscountType(discount.type), discount.value, discount.description
            ),
            source=None if self.source is None else PriceSource(self.source),
            calculated_at=_utc(self.calculated_at), preset_used=self.preset_used,
        )  # fmt: skip


class VariantWrite(V1Model):
    variant_id: str | None = None  # accepted for FlexPortal clients; variants match by SKU
    variant_sku: Sku
    variant_name: Name
    grade: GradeLetter
    condition: Annotated[
        str | None, Field(default=None, max_length=models.MAX_CONDITION_LENGTH)
    ] = None
    color_name: OptionalLabel = None
    images: Images = None
    list_price: Decimal | None = None
    acquisition_cost: Decimal | None = None
    pricing: Annotated[list[PricingWrite], Field(min_length=1, max_length=120)]

    def to_domain(self) -> VariantInput:
        return VariantInput(
            sku=self.variant_sku, name=self.variant_name, grade=Grade(self.grade),
            pricing=tuple(price.to_domain() for price in self.pricing),
            condition=self.condition, color_name=self.color_name,
            images=None if self.images is None else tuple(self.images),
            list_price=self.list_price, acquisition_cost=self.acquisition_cost,
        )  # fmt: skip


class ProductWrite(V1Model):
    """The body of ``POST /v1/products`` and ``PUT /v1/products/{productId}``."""

    product_sku: Sku
    name: Name
    specification: Annotated[str, Field(min_length=1, max_length=models.MAX_SPECIFICATION_LENGTH)]
    category: Label
    brand: Label
    description: Annotated[
        str | None, Field(default=None, max_length=models.MAX_DESCRIPTION_LENGTH)
    ] = None
    images: Images = None
    variants: Annotated[
        list[VariantWrite], Field(min_length=1, max_length=MAX_VARIANTS_PER_REQUEST)
    ]

    def to_domain(self) -> ProductInput:
        return ProductInput(
            fields=ProductFields(
                sku=self.product_sku, name=self.name, specification=self.specification,
                category=self.category, brand=self.brand, description=self.description,
                images=None if self.images is None else tuple(self.images),
            ),
            variants=tuple(variant.to_domain() for variant in self.variants),
        )  # fmt: skip


class DiscountBody(V1Model):
    type: Literal["percentage", "fixed"]
    value: Decimal
    description: str | None

    @classmethod
    def of(cls, price: VariantPrice, currency: str) -> DiscountBody | None:
        if price.discount_type is None or price.discount_value is None:
            return None
        if price.discount_type == DiscountType.FIXED:
            value = to_major(price.discount_value, currency)
        else:
            value = Decimal(price.discount_value) / BASIS_POINTS_PER_PERCENT
        return cls(
            type=DiscountType(price.discount_type).value,
            value=value,
            description=price.discount_description,
        )


class PricingBody(V1Model):
    contract_length: int
    monthly_price: Decimal
    setup_fee: Decimal
    discount: DiscountBody | None
    source: Literal["suggested", "manual"] | None
    calculated_at: datetime | None
    preset_used: str | None

    @classmethod
    def of(cls, price: VariantPrice, currency: str) -> PricingBody:
        return cls(
            contract_length=price.contract_length,
            monthly_price=to_major(price.monthly_price, currency),
            setup_fee=to_major(price.setup_fee, currency),
            discount=DiscountBody.of(price, currency),
            source=None if price.source is None else PriceSource(price.source).value,
            calculated_at=price.calculated_at,
            preset_used=price.preset_used,
        )


def _major(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else to_major(amount, currency)


class VariantBody(V1Model):
    variant_id: str
    product_id: str
    product_sku: str
    variant_sku: str
    variant_name: str
    grade: GradeLetter
    condition: str | None
    color_name: str | None
    images: list[str]
    list_price: Decimal | None
    acquisition_cost: Decimal | None
    currency: str
    pricing: list[PricingBody]
    status: Literal["active", "inactive"]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, variant: Variant, product: Product, ctx: TenantContext) -> VariantBody:
        currency = ctx.currency
        return cls(
            variant_id=variant.id, product_id=product.id, product_sku=product.sku,
            variant_sku=variant.sku, variant_name=variant.name, grade=Grade(variant.grade).value,
            condition=variant.condition, color_name=variant.color_name,
            images=list(variant.images),
            list_price=_major(variant.list_price, currency),
            acquisition_cost=_major(variant.acquisition_cost, currency),
            currency=currency,
            pricing=[PricingBody.of(price, currency) for price in variant.prices],
            status=models.VariantStatus(variant.status).value,
            created_at=variant.created_at, updated_at=variant.updated_at,
        )  # fmt: skip


class SyncBody(V1Model):
    """Where the product comes from. flexbill has no shop integrations yet, so every
    product is managed here (``manual``) and always in sync."""

    source: Literal["manual", "shopify", "woocommerce"] = "manual"
    external_id: str | None = None
    last_synced_at: datetime | None = None
    sync_status: Literal["synced", "pending", "error"] = "synced"
    sync_error: str | None = None
    read_only_fields: list[str] = Field(default_factory=list)


class ProductBody(V1Model):
    product_id: str
    tenant_id: str
    product_sku: str
    name: str
    specification: str
    category: str
    brand: str
    description: str | None
    images: list[str]
    status: Literal["active", "discontinued"]
    variants: list[VariantBody]
    sync: SyncBody = Field(alias="_sync")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product, ctx: TenantContext) -> ProductBody:
        return cls(
            product_id=product.id, tenant_id=ctx.business_unit_id, product_sku=product.sku,
            name=product.name, specification=product.specification,
            category=product.category, brand=product.brand, description=product.description,
            images=list(product.images), status=models.ProductStatus(product.status).value,
            variants=[VariantBody.of(variant, product, ctx) for variant in product.variants],
            sync=SyncBody(), created_at=product.created_at, updated_at=product.updated_at,
        )  # fmt: skip


class VariantResultBody(V1Model):
    variant_sku: str
    operation: Literal["create", "update"]


class ProductWriteResult(V1Model):
    success: bool = True
    message: str
    product_id: str
    product_sku: str
    operation: Literal["created", "updated"]
    variant_results: list[VariantResultBody]

    @classmethod
    def of(cls, outcome: UpsertOutcome) -> ProductWriteResult:
        return cls(
            message="Product created successfully" if outcome.created else "Product updated",
            product_id=outcome.product.id,
            product_sku=outcome.product.sku,
            operation="created" if outcome.created else "updated",
            variant_results=[
                VariantResultBody(
                    variant_sku=variant.sku, operation="create" if variant.created else "update"
                )
                for variant in outcome.variants
            ],
        )


class ProductDeleteResult(V1Model):
    success: bool = True
    message: str
    product_id: str
    product: ProductBody


class ProductList(V1Model):
    products: list[ProductBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class VariantList(V1Model):
    variants: list[VariantBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class CsvRowError(V1Model):
    row: int
    error: str


class CsvImportResult(V1Model):
    success: bool = True
    message: str
    created: int
    updated: int
    errors: list[CsvRowError]

    @classmethod
    def of(cls, report: ImportReport) -> CsvImportResult:
        return cls(
            message=(
                f"Imported {report.created + report.updated} variants "
                f"({report.created} created, {report.updated} updated); "
                f"{len(report.errors)} rows skipped"
            ),
            created=report.created,
            updated=report.updated,
            errors=[CsvRowError(row=error.row, error=error.error) for error in report.errors],
        )
