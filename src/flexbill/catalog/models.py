"""Catalog tables: products, their variants, and each variant's price per contract length.

Money columns hold integer minor units of the business unit's currency (one currency per
business unit, fixed at its creation, so the rows do not repeat it).

Prices are rows of their own rather than a JSON list on the variant: orders look a price up
by (variant, contract length), which the primary key of ``variant_prices`` answers directly.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime

# Lengths shared by the tables, the faces' request models and the CSV import.
MAX_SKU_LENGTH = 100
MAX_NAME_LENGTH = 200
MAX_LABEL_LENGTH = 100  # category, brand, colour, pricing preset
MAX_CONDITION_LENGTH = 50
MAX_DISCOUNT_DESCRIPTION_LENGTH = 500
MAX_SPECIFICATION_LENGTH = 5000
MAX_DESCRIPTION_LENGTH = 20000


class ProductStatus(StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class VariantStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


def _product_index(*columns: str) -> Index:
    return Index(f"ix_products_tenant_{'_'.join(columns)}", "tenant_id", *columns, "id")


def _variant_index(*columns: str) -> Index:
    return Index(f"ix_product_variants_tenant_{'_'.join(columns)}", "tenant_id", *columns, "id")


class Product(TenantOwned, Timestamped, Base):
    """A catalog product; ``sku`` (the client's productSku) is its natural key.

    Products are never deleted: discontinuing keeps them for the orders that refer to them.
    """

    __tablename__ = "products"
    __table_args__ = (
        # Also serves sorting by productSku: the SKU is unique, so (sku) orders like (sku, id).
        UniqueConstraint("tenant_id", "sku"),
        _product_index("created_at"),
        _product_index("updated_at"),
        _product_index("name"),
        _product_index("status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sku: Mapped[str] = mapped_column(String(MAX_SKU_LENGTH))
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    specification: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(MAX_LABEL_LENGTH))
    brand: Mapped[str] = mapped_column(String(MAX_LABEL_LENGTH))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=ProductStatus.ACTIVE)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        order_by=lambda: (Variant.created_at, Variant.sku),
    )


class Variant(TenantOwned, Timestamped, Base):
    """One sellable configuration of a product (grade, colour, …) with its own SKU.

    The SKU is unique across the whole catalog of a tenant, not only within its product:
    orders and assets name a variant by SKU alone.
    """

    __tablename__ = "product_variants"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "product_id"], ["products.tenant_id", "products.id"]),
        # Also serves sorting by sku (unique, so it orders like (sku, id)).
        UniqueConstraint("tenant_id", "sku"),
        _variant_index("created_at"),
        _variant_index("updated_at"),
        _variant_index("status", "created_at"),
        Index("ix_product_variants_tenant_product_id", "tenant_id", "product_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str] = mapped_column(String(MAX_SKU_LENGTH))
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH))
    grade: Mapped[str] = mapped_column(String(1), default=Grade.A)
    condition: Mapped[str | None] = mapped_column(String(MAX_CONDITION_LENGTH), default=None)
    color_name: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH), default=None)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    list_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    acquisition_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    status: Mapped[str] = mapped_column(String(20), default=VariantStatus.ACTIVE)

    product: Mapped[Product] = relationship(back_populates="variants")
    prices: Mapped[list[VariantPrice]] = relationship(
        back_populates="variant",
        cascade="all, delete-orphan",
        order_by=lambda: VariantPrice.contract_length,
    )


class VariantPrice(TenantOwned, Base):
    """The monthly price of a variant for one contract length (in months).

    ``discount_value`` is in minor units when ``discount_type`` is ``fixed`` and in basis
    points (hundredths of a percent) when it is ``percentage``: both stay integers.
    """

    __tablename__ = "variant_prices"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "variant_id"], ["product_variants.tenant_id", "product_variants.id"]
        ),
    )

    variant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contract_length: Mapped[int] = mapped_column(Integer, primary_key=True)
    monthly_price: Mapped[int] = mapped_column(BigInteger)
    setup_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_type: Mapped[str | None] = mapped_column(String(20), default=None)
    discount_value: Mapped[int | None] = mapped_column(BigInteger, default=None)
    discount_description: Mapped[str | None] = mapped_column(
        String(MAX_DISCOUNT_DESCRIPTION_LENGTH), default=None
    )
    source: Mapped[str | None] = mapped_column(String(20), default=None)
    calculated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    preset_used: Mapped[str | None] = mapped_column(String(MAX_LABEL_LENGTH), default=None)

    variant: Mapped[Variant] = relationship(back_populates="prices")
