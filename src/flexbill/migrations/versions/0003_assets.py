"""assets: units by serial number and their history

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Sort and filter indexes of the asset list; the serial number breaks ties.
_ASSET_INDEXES = {
    "ix_assets_tenant_created_at": ["tenant_id", "created_at", "serial_number"],
    "ix_assets_tenant_updated_at": ["tenant_id", "updated_at", "serial_number"],
    "ix_assets_tenant_status": ["tenant_id", "status", "serial_number"],
    "ix_assets_tenant_sku": ["tenant_id", "sku", "serial_number"],
    "ix_assets_tenant_sku_status_created_at": [
        "tenant_id", "sku", "status", "created_at", "serial_number",
    ],
    "ix_assets_tenant_status_created_at": ["tenant_id", "status", "created_at", "serial_number"],
    "ix_assets_tenant_customer_id": ["tenant_id", "customer_id"],
    "ix_assets_tenant_rental_id": ["tenant_id", "rental_id"],
}  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("acquisition_cost", sa.BigInteger(), nullable=True),
        sa.Column("acquisition_date", sa.Date(), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("rental_id", sa.String(length=40), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("condition", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_assets_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_assets")),
        sa.UniqueConstraint(
            "tenant_id", "serial_number", name=op.f("uq_assets_tenant_id_serial_number")
        ),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        for name, columns in _ASSET_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    op.create_table(
        "asset_events",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("asset_id", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("rental_id", sa.String(length=40), nullable=True),
        sa.Column("customer_id", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "asset_id"],
            ["assets.tenant_id", "assets.id"],
            name=op.f("fk_asset_events_tenant_id_assets"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_asset_events_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_asset_events")),
        sa.UniqueConstraint(
            "tenant_id",
            "asset_id",
            "revision",
            name=op.f("uq_asset_events_tenant_id_asset_id_revision"),
        ),
    )


def downgrade() -> None:
    op.drop_table("asset_events")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        for name in reversed(list(_ASSET_INDEXES)):
            batch_op.drop_index(name)
    op.drop_table("assets")
