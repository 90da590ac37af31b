"""billing: indexes for the sweeps and look-ups; a contract's setup fee

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    (
        "subscriptions",
        "ix_subscriptions_tenant_status_next_billing_date",
        ["tenant_id", "status", "next_billing_date"],
    ),
    ("payments", "ix_payments_tenant_invoice_id", ["tenant_id", "invoice_id"]),
    (
        "transactions",
        "ix_transactions_tenant_gateway_reference",
        ["tenant_id", "gateway_reference"],
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("setup_fee", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("setup_fee_invoice_id", sa.String(length=40), nullable=True))
    for table, name, columns in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("setup_fee_invoice_id")
        batch_op.drop_column("setup_fee")
