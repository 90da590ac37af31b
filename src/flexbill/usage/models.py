"""Usage records: what a customer used of a subscription item, with the client's own id.

``client_id`` (the id the client sent, or one made up when it sent none) is unique per
tenant, so a record sent twice is stored once. A record belongs to the billing period that
contains its ``start_date``; it is ``pending`` until the invoice of that period rates it,
then ``processed`` with ``invoice_id`` set. Quantities are decimals (gigabytes, hours).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKeyConstraint, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped

ID_PREFIX = "usage"
MAX_CLIENT_ID_LENGTH = 100


class UsageStatus(StrEnum):
    PENDING = "pending"
    PROCESSED = "processed"


class UsageRecord(TenantOwned, Timestamped, Base):
    __tablename__ = "usage_records"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["plan_subscriptions.tenant_id", "plan_subscriptions.id"],
        ),
        UniqueConstraint("tenant_id", "client_id"),
        Index("ix_usage_records_tenant_created_at", "tenant_id", "created_at", "id"),
        # What rating reads: one item's records of one period.
        Index("ix_usage_records_tenant_item_id_start_date", "tenant_id", "item_id", "start_date"),
        Index(
            "ix_usage_records_tenant_subscription_id_created_at",
            *("tenant_id", "subscription_id", "created_at", "id"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(MAX_CLIENT_ID_LENGTH))
    customer_id: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    quantity: Mapped[Decimal] = mapped_column(Numeric(24, 6))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=UsageStatus.PENDING)
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
