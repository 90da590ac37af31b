"""Who owns what: organizations own business units; each business unit has two tenants.

A *tenant* is one environment of a business unit (live or test, seed 001's PRODUCTION and
TRAINING). Every business row carries the tenant's id, so live and test data never meet
although both answer to the same ``Tenant-ID`` header (the business unit's id).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, Timestamped, UTCDateTime


class Mode(StrEnum):
    LIVE = "live"
    TEST = "test"


class RateTier(StrEnum):
    STARTER = "starter"
    GROWTH = "growth"
    ENTERPRISE = "enterprise"


class Organization(Timestamped, Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class BusinessUnit(Timestamped, Base):
    __tablename__ = "business_units"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(20))
    # One currency per business unit, fixed at creation (FlexPortal: no conversion).
    currency: Mapped[str] = mapped_column(String(3))


class Tenant(Timestamped, Base):
    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("business_unit_id", "mode"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_unit_id: Mapped[str] = mapped_column(ForeignKey("business_units.id"))
    mode: Mapped[str] = mapped_column(String(4))


class ApiKey(Timestamped, Base):
    """An API key. The secret is shown once; only its SHA-256 digest is stored.

    SHA-256 rather than a slow password hash: the secret is 190 random bits, so it cannot
    be guessed from its digest, and authenticating every request must stay cheap.
    """

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_created_at", "tenant_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, enough for a person to recognise it in a list.
    display_prefix: Mapped[str] = mapped_column(String(32))
    permissions: Mapped[list[str]] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(20))
    allowed_ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
