"""General subscriptions (SubscriptionFlow's model, seed 004): a customer's subscription to
one or more plan prices, each an item with a quantity.

A subscription is ``termed`` (a term of ``initial_period`` units from ``term_start``,
renewed or expired at its end) or ``evergreen`` (no end). Dates are calendar dates in
the business unit's books; ``*_end`` dates are exclusive (the first day no longer in).

``next_bill_date`` is the earliest day on which something is due (a period to bill, a
trial or term ending, a scheduled change): the billing run's sweep reads it through an
index, as it does for rentals. A change scheduled for later (suspend, resume, cancel with
an option other than *Today*) is held in ``scheduled_action`` / ``scheduled_on`` /
``scheduled_option`` until the run applies it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime

ID_PREFIX = "psub"
ITEM_ID_PREFIX = "si"


class PlanSubscriptionStatus(StrEnum):
    DRAFT = "draft"  # being prepared: not billed, changes freely
    PENDING = "pending"  # starts on a later date
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"  # not billed and does not renew
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # a termed subscription whose term ended without renewal


class SubscriptionType(StrEnum):
    TERMED = "termed"
    EVERGREEN = "evergreen"


class ChangeOption(StrEnum):
    """When a suspension, resumption or cancellation takes effect (seed 004)."""

    TODAY = "today"
    END_OF_LAST_INVOICE_PERIOD = "end_of_last_invoice_period"
    SPECIFIC_DATE = "specific_date"
    END_OF_CURRENT_TERM = "end_of_current_term"


class ScheduledAction(StrEnum):
    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"


class TrialUnit(StrEnum):
    DAYS = "days"
    MONTHS = "months"


class PlanSubscription(TenantOwned, Timestamped, Base):
    __tablename__ = "plan_subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_plan_subscriptions_tenant_created_at", "tenant_id", "created_at", "id"),
        Index("ix_plan_subscriptions_tenant_updated_at", "tenant_id", "updated_at", "id"),
        Index(
            "ix_plan_subscriptions_tenant_status_created_at",
            *("tenant_id", "status", "created_at", "id"),
        ),
        Index(
            "ix_plan_subscriptions_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
        # What the billing sweep scans: subscriptions with something due.
        Index("ix_plan_subscriptions_tenant_next_bill_date", "tenant_id", "next_bill_date"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    order_date: Mapped[date] = mapped_column(Date)
    # The first day of service (SubscriptionFlow's trigger date); billing is anchored on it,
    # or on the trial's end when there is a trial.
    start_date: Mapped[date] = mapped_column(Date)
    term_start: Mapped[date | None] = mapped_column(Date, default=None)
    initial_period: Mapped[int | None] = mapped_column(Integer, default=None)
    initial_period_unit: Mapped[str | None] = mapped_column(String(10), default=None)
    renewal_type: Mapped[str | None] = mapped_column(String(60), default=None)
    renewal_period: Mapped[int | None] = mapped_column(Integer, default=None)
    renewal_period_unit: Mapped[str | None] = mapped_column(String(10), default=None)
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=False)
    current_term_start: Mapped[date | None] = mapped_column(Date, default=None)
    current_term_end: Mapped[date | None] = mapped_column(Date, default=None)  # exclusive
    renewal_count: Mapped[int] = mapped_column(Integer, default=0)
    trial_period: Mapped[int | None] = mapped_column(Integer, default=None)
    trial_period_unit: Mapped[str | None] = mapped_column(String(10), default=None)
    trial_end: Mapped[date | None] = mapped_column(Date, default=None)  # exclusive
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient_id: Mapped[str | None] = mapped_column(String(40), default=None)
    invoice_separately: Mapped[bool] = mapped_column(Boolean, default=False)
    # The day billing periods are counted from (the start, or the trial's end).
    billing_anchor: Mapped[date | None] = mapped_column(Date, default=None)
    last_invoice_period_end: Mapped[date | None] = mapped_column(Date, default=None)
    next_bill_date: Mapped[date | None] = mapped_column(Date, default=None)
    billing_end_date: Mapped[date | None] = mapped_column(Date, default=None)
    scheduled_action: Mapped[str | None] = mapped_column(String(20), default=None)
    scheduled_option: Mapped[str | None] = mapped_column(String(40), default=None)
    scheduled_on: Mapped[date | None] = mapped_column(Date, default=None)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    suspended_on: Mapped[date | None] = mapped_column(Date, default=None)
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    payment_status: Mapped[str | None] = mapped_column(String(20), default=None)
    total_collected: Mapped[int] = mapped_column(BigInteger, default=0)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    # Every operation, oldest first: {at, action, fromStatus, toStatus, …}.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(80))


class SubscriptionItem(TenantOwned, Timestamped, Base):
    """One plan price on a subscription. ``plan_price_version`` is the version the item
    bills at: a later version of the price does not reprice a running item. An item
    removed or replaced mid-period keeps its row with ``ended_on``."""

    __tablename__ = "subscription_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["plan_subscriptions.tenant_id", "plan_subscriptions.id"],
        ),
        Index("ix_subscription_items_tenant_subscription_id", "tenant_id", "subscription_id"),
        Index(
            "ix_subscription_items_tenant_plan_price_id",
            *("tenant_id", "plan_price_id", "plan_price_version"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str | None] = mapped_column(String(40), default=None)
    plan_price_id: Mapped[str] = mapped_column(String(40))
    plan_price_version: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # Replaces the price's unit amount (major units) for this item only.
    unit_amount_override: Mapped[Decimal | None] = mapped_column(Numeric(24, 6), default=None)
    # The first day this item's next period starts (in advance: not yet billed; in
    # arrears: not yet rated).
    billed_through: Mapped[date | None] = mapped_column(Date, default=None)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, default=None)
    one_time_billed: Mapped[bool] = mapped_column(Boolean, default=False)


class PendingCharge(TenantOwned, Timestamped, Base):
    """An amount waiting for the subscription's next invoice: the credit for the unused
    part of a period or the charge for a changed item's new part (``amount`` in minor
    units, negative for a credit). ``invoice_id`` is set by the invoice that bills it."""

    __tablename__ = "pending_charges"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["plan_subscriptions.tenant_id", "plan_subscriptions.id"],
        ),
        Index(
            "ix_pending_charges_tenant_subscription_id_invoice_id",
            *("tenant_id", "subscription_id", "invoice_id"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[str | None] = mapped_column(String(40), default=None)
    kind: Mapped[str] = mapped_column(String(20))  # proration_credit, proration_charge
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
