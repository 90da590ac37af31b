"""foundation: tenancy, api keys, customers, idempotency

Revision ID: 0001
Revises:
Create Date: 2026-11-23 01:29:28.829686
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "business_units",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_business_units_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_units")),
    )
    with op.batch_alter_table("business_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_business_units_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("business_unit_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_unit_id"],
            ["business_units.id"],
            name=op.f("fk_tenants_business_unit_id_business_units"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint(
            "business_unit_id", "mode", name=op.f("uq_tenants_business_unit_id_mode")
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=32), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("allowed_ips", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_api_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_api_keys_secret_digest")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_api_keys_tenant_created_at",
            ["tenant_id", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "customers",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("customer_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("last_billing_address", sa.JSON(), nullable=True),
        sa.Column("last_shipping_address", sa.JSON(), nullable=True),
        sa.Column("total_orders", sa.Integer(), nullable=False),
        sa.Column("total_devices_rented", sa.Integer(), nullable=False),
        sa.Column("total_monthly_revenue", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_collected", sa.BigInteger(), nullable=False),
        sa.Column("total_acquisition_cost", sa.BigInteger(), nullable=False),
        sa.Column("subscriptions_tracked", sa.Integer(), nullable=False),
        sa.Column("order_ids", sa.JSON(), nullable=False),
        sa.Column("rental_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customers_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customers")),
        sa.UniqueConstraint("tenant_id", "email", name=op.f("uq_customers_tenant_id_email")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_tenant_created_at",
            ["tenant_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_first_name",
            ["tenant_id", "first_name", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_last_name",
            ["tenant_id", "last_name", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_status_created_at",
            ["tenant_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_total_devices_rented",
            ["tenant_id", "total_devices_rented", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_total_monthly_revenue",
            ["tenant_id", "total_monthly_revenue", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_customers_tenant_updated_at",
            ["tenant_id", "updated_at", "id"],
            unique=False,
        )

    op.create_table(
        "idempotency_records",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_idempotency_records_tenant_id_tenants"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_index(
        "ix_idempotency_records_tenant_expires_at",
        "idempotency_records",
        ["tenant_id", "expires_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_records_tenant_expires_at", table_name="idempotency_records")
    op.drop_table("idempotency_records")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_tenant_updated_at")
        batch_op.drop_index("ix_customers_tenant_total_monthly_revenue")
        batch_op.drop_index("ix_customers_tenant_total_devices_rented")
        batch_op.drop_index("ix_customers_tenant_status_created_at")
        batch_op.drop_index("ix_customers_tenant_last_name")
        batch_op.drop_index("ix_customers_tenant_first_name")
        batch_op.drop_index("ix_customers_tenant_created_at")

    op.drop_table("customers")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_api_keys_tenant_created_at")

    op.drop_table("api_keys")
    op.drop_table("tenants")
    with op.batch_alter_table("business_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_business_units_organization_id"))

    op.drop_table("business_units")
    op.drop_table("organizations")
