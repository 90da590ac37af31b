"""Billing groups: several subscriptions of one business customer billed together."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime


class BillingGroupStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class BillingGroup(TenantOwned, Timestamped, Base):
    """One customer's subscriptions consolidated into one invoice and payment per period,
    on ``billing_day`` (1–28) of each month. Members are the subscriptions whose
    ``billing_group_id`` names the group. A deleted group keeps its row (payments made for
    it still name it) but is gone for clients."""

    __tablename__ = "billing_groups"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_billing_groups_tenant_created_at", "tenant_id", "created_at", "id"),
        Index("ix_billing_groups_tenant_updated_at", "tenant_id", "updated_at", "id"),
        Index(
            "ix_billing_groups_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    group_name: Mapped[str] = mapped_column(String(200))
    billing_day: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=BillingGroupStatus.ACTIVE)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(80))
