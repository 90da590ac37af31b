"""subscriptions and billing groups

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BILLING_GROUP_INDEXES = {
    "ix_billing_groups_tenant_created_at": ["tenant_id", "created_at", "id"],
    "ix_billing_groups_tenant_updated_at": ["tenant_id", "updated_at", "id"],
    "ix_billing_groups_tenant_customer_id_created_at": [
        "tenant_id", "customer_id", "created_at", "id",
    ],
}  # fmt: skip

# Sort and filter indexes of the subscription list; the id breaks ties.
_SUBSCRIPTION_INDEXES = {
    "ix_subscriptions_tenant_created_at": ["tenant_id", "created_at", "id"],
    "ix_subscriptions_tenant_updated_at": ["tenant_id", "updated_at", "id"],
    "ix_subscriptions_tenant_start_date": ["tenant_id", "start_date", "id"],
    "ix_subscriptions_tenant_end_date": ["tenant_id", "end_date", "id"],
    "ix_subscriptions_tenant_monthly_amount": ["tenant_id", "monthly_amount", "id"],
    "ix_subscriptions_tenant_status": ["tenant_id", "status", "id"],
    "ix_subscriptions_tenant_status_created_at": ["tenant_id", "status", "created_at", "id"],
    "ix_subscriptions_tenant_customer_id_created_at": [
        "tenant_id", "customer_id", "created_at", "id",
    ],
    "ix_subscriptions_tenant_order_id": ["tenant_id", "order_id"],
    "ix_subscriptions_tenant_serial_number": ["tenant_id", "serial_number"],
    "ix_subscriptions_tenant_sku_created_at": ["tenant_id", "sku", "created_at", "id"],
    "ix_subscriptions_tenant_billing_group_id": ["tenant_id", "billing_group_id"],
}  # fmt: skip

_ONE_ACTIVE_PER_DEVICE = "uq_subscriptions_tenant_active_serial_number"


def upgrade() -> None:
    op.create_table(
        "billing_groups",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("billing_day", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_billing_groups_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_billing_groups_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_billing_groups")),
    )
    with op.batch_alter_table("billing_groups", schema=None) as batch_op:
        for name, columns in _BILLING_GROUP_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("order_item_position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("variant_name", sa.String(length=200), nullable=False),
        sa.Column("asset_id", sa.String(length=40), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("monthly_amount", sa.BigInteger(), nullable=False),
        sa.Column("original_contract_length", sa.Integer(), nullable=False),
        sa.Column("contract_length", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("next_billing_date", sa.Date(), nullable=True),
        sa.Column("billing_group_id", sa.String(length=40), nullable=True),
        sa.Column("upgrade_from_rental_id", sa.String(length=40), nullable=True),
        sa.Column("upgraded_to_rental_id", sa.String(length=40), nullable=True),
        sa.Column("list_price", sa.BigInteger(), nullable=True),
        sa.Column("list_price_source", sa.String(length=20), nullable=False),
        sa.Column("acquisition_cost", sa.BigInteger(), nullable=True),
        sa.Column("acquisition_cost_source", sa.String(length=20), nullable=False),
        sa.Column("total_collected", sa.BigInteger(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("extension_history", sa.JSON(), nullable=False),
        sa.Column("replacement_history", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("buyout_details", sa.JSON(), nullable=True),
        sa.Column("early_return_details", sa.JSON(), nullable=True),
        sa.Column("cancellation_details", sa.JSON(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_subscriptions_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            name=op.f("fk_subscriptions_tenant_id_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "billing_group_id"],
            ["billing_groups.tenant_id", "billing_groups.id"],
            name=op.f("fk_subscriptions_tenant_id_billing_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_subscriptions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_subscriptions")),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        for name, columns in _SUBSCRIPTION_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_index(
            _ONE_ACTIVE_PER_DEVICE,
            ["tenant_id", "serial_number"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(_ONE_ACTIVE_PER_DEVICE)
        for name in reversed(list(_SUBSCRIPTION_INDEXES)):
            batch_op.drop_index(name)
    op.drop_table("subscriptions")
    with op.batch_alter_table("billing_groups", schema=None) as batch_op:
        for name in reversed(list(_BILLING_GROUP_INDEXES)):
            batch_op.drop_index(name)
    op.drop_table("billing_groups")
