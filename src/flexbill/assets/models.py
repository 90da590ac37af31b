"""Assets: physical units by serial number, and the history of each unit."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.assets.lifecycle import AssetStatus
from flexbill.core import clock
from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime


class EventKind(StrEnum):
    REGISTERED = "registered"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    RETURNED = "returned"
    SOLD = "sold"
    DELETED = "deleted"


def _sort_index(column: str) -> Index:
    # The serial number, not the surrogate id, breaks ties: it is what clients know
    # and pass back as a bare ``startAfter``.
    return Index(f"ix_assets_tenant_{column}", "tenant_id", column, "serial_number")


class Asset(TenantOwned, Timestamped, Base):
    """One physical unit. The serial number is its identity towards clients and unique per
    tenant, deleted units included: a soft-deleted unit keeps its serial number.

    ``revision`` counts the events written for the unit; each event carries the revision it
    produced, which orders the history even when two events share a timestamp.
    Money is in minor units of the business unit's currency.
    """

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "serial_number"),
        _sort_index("created_at"),
        _sort_index("updated_at"),
        _sort_index("status"),
        _sort_index("sku"),
        # "available units of this SKU, newest first" is how fulfilment picks a unit.
        Index(
            "ix_assets_tenant_sku_status_created_at",
            "tenant_id", "sku", "status", "created_at", "serial_number",
        ),
        Index(
            "ix_assets_tenant_status_created_at",
            "tenant_id", "status", "created_at", "serial_number",
        ),
        Index("ix_assets_tenant_customer_id", "tenant_id", "customer_id"),
        Index("ix_assets_tenant_rental_id", "tenant_id", "rental_id"),
    )  # fmt: skip

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str] = mapped_column(String(100))
    product_name: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(20), default=AssetStatus.AVAILABLE)
    acquisition_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    acquisition_date: Mapped[date | None] = mapped_column(Date, default=None)
    customer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    rental_id: Mapped[str | None] = mapped_column(String(40), default=None)
    location: Mapped[str | None] = mapped_column(String(200), default=None)
    condition: Mapped[str | None] = mapped_column(String(200), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class AssetEvent(TenantOwned, Base):
    """One entry of an asset's history, written in the transaction of the change."""

    __tablename__ = "asset_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "asset_id"], ["assets.tenant_id", "assets.id"]),
        UniqueConstraint("tenant_id", "asset_id", "revision"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock.now)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    rental_id: Mapped[str | None] = mapped_column(String(40), default=None)
    customer_id: Mapped[str | None] = mapped_column(String(40), default=None)
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(500), default=None)
