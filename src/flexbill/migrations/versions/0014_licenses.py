"""licenses: license products and API keys, licenses, activations, PayPal payments,
signing keys

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "license_paypal_payments",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("license_id", sa.String(length=40), nullable=True),
        sa.Column("payer_email", sa.String(length=320), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_license_paypal_payments_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_license_paypal_payments")),
        sa.UniqueConstraint(
            "tenant_id", "txn_id", name=op.f("uq_license_paypal_payments_tenant_id_txn_id")
        ),
    )
    op.create_table(
        "license_products",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("free_trial", sa.BigInteger(), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("credit_per_payment", sa.BigInteger(), nullable=False),
        sa.Column("paypal_receiver_email", sa.String(length=320), nullable=True),
        sa.Column("payment_amount", sa.BigInteger(), nullable=True),
        sa.Column("payment_currency", sa.String(length=3), nullable=True),
        sa.Column("rate_percent", sa.Numeric(precision=9, scale=4), nullable=False),
        sa.Column("min_charge", sa.BigInteger(), nullable=False),
        sa.Column("exchange_rates", sa.JSON(), nullable=False),
        sa.Column("access_information", sa.Text(), nullable=True),
        sa.Column("max_activations", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_license_products_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_license_products")),
    )
    op.create_index("ix_license_products_id", "license_products", ["id"], unique=True)
    op.create_index(
        "ix_license_products_tenant_id_created_at",
        "license_products",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "license_signing_keys",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_license_signing_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_license_signing_keys")),
    )
    op.create_table(
        "license_product_keys",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=16), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["license_products.tenant_id", "license_products.id"],
            name=op.f("fk_license_product_keys_tenant_id_license_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_license_product_keys_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_license_product_keys")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_license_product_keys_secret_digest")),
    )
    op.create_index(
        "ix_license_product_keys_tenant_id_product_id",
        "license_product_keys",
        ["tenant_id", "product_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "licenses",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("validation_digest", sa.String(length=64), nullable=True),
        sa.Column("max_activations", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["license_products.tenant_id", "license_products.id"],
            name=op.f("fk_licenses_tenant_id_license_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_licenses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_licenses")),
        sa.UniqueConstraint(
            "tenant_id", "product_id", "key", name=op.f("uq_licenses_tenant_id_product_id_key")
        ),
    )
    op.create_index(
        "ix_licenses_tenant_id_created_at",
        "licenses",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_licenses_tenant_id_product_id_email",
        "licenses",
        ["tenant_id", "product_id", "email"],
        unique=False,
    )
    op.create_index("ix_licenses_validation_digest", "licenses", ["validation_digest"], unique=True)
    op.create_table(
        "license_activations",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("license_id", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "license_id"],
            ["licenses.tenant_id", "licenses.id"],
            name=op.f("fk_license_activations_tenant_id_licenses"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_license_activations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_license_activations")),
        sa.UniqueConstraint(
            "tenant_id",
            "license_id",
            "fingerprint",
            name=op.f("uq_license_activations_tenant_id_license_id_fingerprint"),
        ),
    )


def downgrade() -> None:
    op.drop_table("license_activations")
    op.drop_index("ix_licenses_validation_digest", table_name="licenses")
    op.drop_index("ix_licenses_tenant_id_product_id_email", table_name="licenses")
    op.drop_index("ix_licenses_tenant_id_created_at", table_name="licenses")
    op.drop_table("licenses")
    op.drop_index("ix_license_product_keys_tenant_id_product_id", table_name="license_product_keys")
    op.drop_table("license_product_keys")
    op.drop_table("license_signing_keys")
    op.drop_index("ix_license_products_tenant_id_created_at", table_name="license_products")
    op.drop_index("ix_license_products_id", table_name="license_products")
    op.drop_table("license_products")
    op.drop_table("license_paypal_payments")
