"""catalog: products, variants, variant pricing

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("specification", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_products_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_products")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_products_tenant_id_sku")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_tenant_created_at", ["tenant_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_products_tenant_name", ["tenant_id", "name", "id"], unique=False)
        batch_op.create_index(
            "ix_products_tenant_status_created_at",
            ["tenant_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_products_tenant_updated_at", ["tenant_id", "updated_at", "id"], unique=False
        )

    op.create_table(
        "product_variants",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=False),
        sa.Column("condition", sa.String(length=50), nullable=True),
        sa.Column("color_name", sa.String(length=100), nullable=True),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("list_price", sa.BigInteger(), nullable=True),
        sa.Column("acquisition_cost", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["products.tenant_id", "products.id"],
            name=op.f("fk_product_variants_tenant_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_product_variants_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_product_variants_tenant_id_sku")),
    )
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_variants_tenant_created_at",
            ["tenant_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_product_variants_tenant_product_id", ["tenant_id", "product_id"], unique=False
        )
        batch_op.create_index(
            "ix_product_variants_tenant_status_created_at",
            ["tenant_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_product_variants_tenant_updated_at",
            ["tenant_id", "updated_at", "id"],
            unique=False,
        )

    op.create_table(
        "variant_prices",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("contract_length", sa.Integer(), nullable=False),
        sa.Column("monthly_price", sa.BigInteger(), nullable=False),
        sa.Column("setup_fee", sa.BigInteger(), nullable=False),
        sa.Column("discount_type", sa.String(length=20), nullable=True),
        sa.Column("discount_value", sa.BigInteger(), nullable=True),
        sa.Column("discount_description", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("calculated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("preset_used", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "variant_id"],
            ["product_variants.tenant_id", "product_variants.id"],
            name=op.f("fk_variant_prices_tenant_id_product_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_variant_prices_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "variant_id", "contract_length", name=op.f("pk_variant_prices")
        ),
    )


def downgrade() -> None:
    op.drop_table("variant_prices")
    with op.batch_alter_table("product_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_product_variants_tenant_updated_at")
        batch_op.drop_index("ix_product_variants_tenant_status_created_at")
        batch_op.drop_index("ix_product_variants_tenant_product_id")
        batch_op.drop_index("ix_product_variants_tenant_created_at")

    op.drop_table("product_variants")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_tenant_updated_at")
        batch_op.drop_index("ix_products_tenant_status_created_at")
        batch_op.drop_index("ix_products_tenant_name")
        batch_op.drop_index("ix_products_tenant_created_at")

    op.drop_table("products")
