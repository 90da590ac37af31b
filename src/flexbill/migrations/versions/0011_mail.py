"""mail: the outgoing e-mail table

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=True),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("sender", sa.String(length=400), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=400), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outgoing_mails_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
    )
    op.create_index(
        "ix_outgoing_mails_created_at", "outgoing_mails", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_outgoing_mails_recipient_created_at",
        "outgoing_mails",
        ["recipient", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_outgoing_mails_status_created_at",
        "outgoing_mails",
        ["status", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_outgoing_mails_tenant_id_created_at",
        "outgoing_mails",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outgoing_mails_tenant_id_created_at", table_name="outgoing_mails")
    op.drop_index("ix_outgoing_mails_status_created_at", table_name="outgoing_mails")
    op.drop_index("ix_outgoing_mails_recipient_created_at", table_name="outgoing_mails")
    op.drop_index("ix_outgoing_mails_created_at", table_name="outgoing_mails")
    op.drop_table("outgoing_mails")
