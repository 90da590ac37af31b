"""orders and events: orders, order items, order de-duplication, the event log

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sort and filter indexes of the order list; the id breaks ties.
_ORDER_INDEXES = {
    "ix_orders_tenant_created_at": ["tenant_id", "created_at", "id"],
    "ix_orders_tenant_updated_at": ["tenant_id", "updated_at", "id"],
    "ix_orders_tenant_status": ["tenant_id", "status", "id"],
    "ix_orders_tenant_total": ["tenant_id", "total", "id"],
    "ix_orders_tenant_status_created_at": ["tenant_id", "status", "created_at", "id"],
    "ix_orders_tenant_customer_id_created_at": ["tenant_id", "customer_id", "created_at", "id"],
}

_EVENT_INDEXES = {
    "ix_events_tenant_occurred_at": ["tenant_id", "occurred_at", "id"],
    "ix_events_tenant_type_occurred_at": ["tenant_id", "type", "occurred_at", "id"],
}


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_type", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=False),
        sa.Column("billing_address", sa.JSON(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=True),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax_amount", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("total_devices", sa.Integer(), nullable=False),
        sa.Column("rented_devices", sa.Integer(), nullable=False),
        sa.Column("rental_ids", sa.JSON(), nullable=False),
        sa.Column("payment_status", sa.String(length=20), nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("payment_transaction_id", sa.String(length=200), nullable=True),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("payment_manually_marked", sa.Boolean(), nullable=False),
        sa.Column("billing_group_id", sa.String(length=40), nullable=True),
        sa.Column("tracking_number", sa.String(length=200), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("extension_details", sa.JSON(), nullable=True),
        sa.Column("upgrade_details", sa.JSON(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=1000), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_id"],
            ["customers.tenant_id", "customers.id"],
            name=op.f("fk_orders_tenant_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_orders_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for name, columns in _ORDER_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    op.create_table(
        "order_items",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("variant_id", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("variant_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("contract_length", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("list_price", sa.BigInteger(), nullable=True),
        sa.Column("list_price_source", sa.String(length=20), nullable=False),
        sa.Column("acquisition_cost", sa.BigInteger(), nullable=True),
        sa.Column("acquisition_cost_source", sa.String(length=20), nullable=False),
        sa.Column("setup_fee", sa.BigInteger(), nullable=False),
        sa.Column("rental_ids", sa.JSON(), nullable=False),
        sa.Column("rental_status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["orders.tenant_id", "orders.id"],
            name=op.f("fk_order_items_tenant_id_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_order_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "order_id", "position", name=op.f("pk_order_items")),
    )

    op.create_table(
        "order_fingerprints",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_order_fingerprints_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "fingerprint", name=op.f("pk_order_fingerprints")),
    )
    with op.batch_alter_table("order_fingerprints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_fingerprints_tenant_expires_at", ["tenant_id", "expires_at"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name, columns in _EVENT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        for name in reversed(list(_EVENT_INDEXES)):
            batch_op.drop_index(name)
    op.drop_table("events")
    with op.batch_alter_table("order_fingerprints", schema=None) as batch_op:
        batch_op.drop_index("ix_order_fingerprints_tenant_expires_at")
    op.drop_table("order_fingerprints")
    op.drop_table("order_items")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for name in reversed(list(_ORDER_INDEXES)):
            batch_op.drop_index(name)
    op.drop_table("orders")
