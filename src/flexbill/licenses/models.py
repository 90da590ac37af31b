"""License products, their API keys, licenses and the PayPal payments that bought them.

Balances are integers in the product's unit: days (Time limited), credits (Inner credit) or
the minor unit of the product's currency (Currency), never a float.

Three lookups start without a tenant, because the FlexLicense face knows none: a product
API key by its digest, a product by its id (PayPal's ``item_number``) and a trial license
by the digest of its validation token. Each is unique on its own, so an index on it alone
finds the one row, whose ``tenant_id`` then scopes everything else.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime


class LicenseProduct(TenantOwned, Timestamped, Base):
    __tablename__ = "license_products"
    __table_args__ = (
        Index("ix_license_products_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_license_products_id", "id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))  # rules.ProductType
    # "days", the vendor's credit label, or the ISO code of a Currency product.
    unit: Mapped[str] = mapped_column(String(40))
    free_trial: Mapped[int] = mapped_column(BigInteger, default=0)
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    # What one PayPal payment buys, in the product's unit, and what it must cost.
    credit_per_payment: Mapped[int] = mapped_column(BigInteger, default=0)
    paypal_receiver_email: Mapped[str | None] = mapped_column(String(320), default=None)
    payment_amount: Mapped[int | None] = mapped_column(BigInteger, default=None)
    payment_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    # Currency products: the fee percentage, the least a withdrawal costs (minor units) and
    # how many product-currency units one unit of another currency is worth ("1.0825").
    rate_percent: Mapped[Decimal] = mapped_column(Numeric(9, 4), default=Decimal(0))
    min_charge: Mapped[int] = mapped_column(BigInteger, default=0)
    exchange_rates: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Custom products: what the vendor wants e-mailed to a paying client.
    access_information: Mapped[str | None] = mapped_column(Text, default=None)
    max_activations: Mapped[int | None] = mapped_column(Integer, default=None)


class LicenseProductKey(TenantOwned, Timestamped, Base):
    """An API key of one product. Only its SHA-256 digest is stored (see ``ApiKey``)."""

    __tablename__ = "license_product_keys"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "product_id"], ["license_products.tenant_id", "license_products.id"]
        ),
        Index(
            "ix_license_product_keys_tenant_id_product_id",
            "tenant_id",
            "product_id",
            "created_at",
            "id",
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40))
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    display_prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class License(TenantOwned, Timestamped, Base):
    __tablename__ = "licenses"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "product_id"], ["license_products.tenant_id", "license_products.id"]
        ),
        UniqueConstraint("tenant_id", "product_id", "key"),
        Index("ix_licenses_tenant_id_created_at", "tenant_id", "created_at", "id"),
        Index("ix_licenses_tenant_id_product_id_email", "tenant_id", "product_id", "email"),
        Index("ix_licenses_validation_digest", "validation_digest", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(36))  # a UUID, what the client types
    email: Mapped[str] = mapped_column(String(320))
    balance: Mapped[int] = mapped_column(BigInteger)
    verified: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    validation_digest: Mapped[str | None] = mapped_column(String(64), default=None)
    max_activations: Mapped[int | None] = mapped_column(Integer, default=None)


class PaypalPayment(TenantOwned, Timestamped, Base):
    """A completed PayPal transaction that was applied, once (PayPal repeats notifications)."""

    __tablename__ = "license_paypal_payments"
    __table_args__ = (UniqueConstraint("tenant_id", "txn_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(64))
    product_id: Mapped[str] = mapped_column(String(40))
    license_id: Mapped[str | None] = mapped_column(String(40))  # none for a Custom product
    payer_email: Mapped[str] = mapped_column(String(320))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class LicenseActivation(TenantOwned, Timestamped, Base):
    """A machine a license is active on, named by the fingerprint the application sends."""

    __tablename__ = "license_activations"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "license_id"], ["licenses.tenant_id", "licenses.id"]),
        UniqueConstraint("tenant_id", "license_id", "fingerprint"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    license_id: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(200))


class LicenseSigningKey(TenantOwned, Timestamped, Base):
    """The Ed25519 key that signs a tenant's offline license files, made once per tenant
    (with its first license product). The private key never leaves the database."""

    __tablename__ = "license_signing_keys"

    private_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, hex
    public_key: Mapped[str] = mapped_column(String(64))
