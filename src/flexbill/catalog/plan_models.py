"""Plans and their prices (SubscriptionFlow's plans and plan prices, seed 004).

A plan groups prices; a subscription item names one price. A price is versioned: its id
is stable and ``version`` counts the changes. A version that an invoice has billed is
never changed in place (``catalog/plans.py`` writes a new version instead), so every
invoice line can always be explained by the price it names (``plan_price_id`` +
``plan_price_version``).

Amounts per currency live in ``amounts`` (``charge_models.PriceBook`` as JSON: decimal
strings in major units, because unit prices may need sub-minor precision; amounts are
rounded to minor units once per line when billed).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
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

MAX_PLAN_NAME_LENGTH = 200


class PlanStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ChargeModel(StrEnum):
    FLAT_FEE = "flat_fee"
    PER_UNIT = "per_unit"
    TIERED = "tiered"  # each unit priced by the tier it falls in
    VOLUME = "volume"  # every unit priced by the tier the total reaches


class PriceCategory(StrEnum):
    RECURRING = "recurring"
    ONE_TIME = "one_time"  # billed once, on the subscription's first invoice


class BillingTiming(StrEnum):
    IN_ADVANCE = "in_advance"  # a period is billed when it starts, for the item's quantity
    # A period is billed when it ends; per-unit, tiered and volume prices are then rated
    # from the usage recorded for the period (``usage/rating.py``).
    IN_ARREARS = "in_arrears"


class PeriodUnit(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Plan(TenantOwned, Timestamped, Base):
    """A set of prices sold together. Available for new subscriptions while ``active`` and
    between ``effective_start_date`` and ``effective_end_date`` (exclusive)."""

    __tablename__ = "plans"
    __table_args__ = (
        Index("ix_plans_tenant_created_at", "tenant_id", "created_at", "id"),
        Index("ix_plans_tenant_updated_at", "tenant_id", "updated_at", "id"),
        Index("ix_plans_tenant_name", "tenant_id", "name", "id"),
        Index("ix_plans_tenant_status_created_at", "tenant_id", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_PLAN_NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.ACTIVE)
    effective_start_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    effective_end_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False)
    # Catalog products the plan is sold with (SubscriptionFlow's link-product-plan).
    product_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(80))


class PlanPrice(TenantOwned, Timestamped, Base):
    """One version of a plan price. The current version of ``id`` is the one whose
    ``superseded_at`` is empty; older versions stay for the invoices and items naming them.
    """

    __tablename__ = "plan_prices"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "plan_id"], ["plans.tenant_id", "plans.id"]),
        Index("ix_plan_prices_tenant_plan_id", "tenant_id", "plan_id", "id", "version"),
        Index("ix_plan_prices_tenant_created_at", "tenant_id", "created_at", "id", "version"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    plan_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(MAX_PLAN_NAME_LENGTH))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(20), default=PlanStatus.ACTIVE)
    category: Mapped[str] = mapped_column(String(20), default=PriceCategory.RECURRING)
    charge_model: Mapped[str] = mapped_column(String(20))
    billing_timing: Mapped[str] = mapped_column(String(20), default=BillingTiming.IN_ADVANCE)
    billing_period: Mapped[int] = mapped_column(Integer, default=1)
    billing_period_unit: Mapped[str] = mapped_column(String(10), default=PeriodUnit.MONTH)
    # {currency: PriceBook} — see charge_models.PriceBook.from_json.
    amounts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    included_units: Mapped[Decimal] = mapped_column(Numeric(24, 6), default=Decimal(0))
    default_quantity: Mapped[int] = mapped_column(Integer, default=1)
    uom: Mapped[str | None] = mapped_column(String(60), default=None)
    # Held for the SubscriptionFlow face, which reads and writes them as they are.
    list_price_base: Mapped[str | None] = mapped_column(String(60), default=None)
    trigger_condition: Mapped[str | None] = mapped_column(String(60), default=None)
    end_date: Mapped[date | None] = mapped_column(Date, default=None)
    billing_period_alignment: Mapped[str | None] = mapped_column(String(60), default=None)
    usage_records_rating_option: Mapped[str | None] = mapped_column(String(60), default=None)
    accounting_account_code: Mapped[str | None] = mapped_column(String(60), default=None)
    billing_month: Mapped[int | None] = mapped_column(Integer, default=None)
    billing_day_type: Mapped[int | None] = mapped_column(Integer, default=None)
    billing_week_day: Mapped[int | None] = mapped_column(Integer, default=None)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(80))
