"""The subscriptions table: one row per rental contract of one device.

Money columns hold integer minor units of the business unit's currency. The JSON columns
hold the contract's own records (extensions, replacements, the end's details and a
history of every operation); amounts in them are minor units too, and the faces render
them. A subscription copies what it needs from its order item and asset when it starts,
so later catalog or order changes do not rewrite a running contract.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime
from flexbill.customers.models import Customer
from flexbill.subscriptions.lifecycle import SubscriptionStatus

MAX_NOTES_LENGTH = 5000


def _sort_index(column: str) -> Index:
    return Index(f"ix_subscriptions_tenant_{column}", "tenant_id", column, "id")


class Subscription(TenantOwned, Timestamped, Base):
    """A device rented to a customer for ``contract_length`` months from ``start_date``.

    ``status`` is ``active``, ``cancelled`` or ``ended``; an ended subscription says why in
    ``end_reason``. ``original_contract_length`` is the term it started with; extensions
    grow ``contract_length`` and ``end_date``.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "billing_group_id"], ["billing_groups.tenant_id", "billing_groups.id"]
        ),
        _sort_index("created_at"),
        _sort_index("updated_at"),
        _sort_index("start_date"),
        _sort_index("end_date"),
        _sort_index("monthly_amount"),
        _sort_index("status"),
        Index(
            "ix_subscriptions_tenant_status_created_at", "tenant_id", "status", "created_at", "id"
        ),
        Index(
            "ix_subscriptions_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
        Index("ix_subscriptions_tenant_order_id", "tenant_id", "order_id"),
        Index("ix_subscriptions_tenant_serial_number", "tenant_id", "serial_number"),
        Index("ix_subscriptions_tenant_sku_created_at", "tenant_id", "sku", "created_at", "id"),
        Index("ix_subscriptions_tenant_billing_group_id", "tenant_id", "billing_group_id"),
        # What the billing sweep scans: active subscriptions whose next period has come.
        Index(
            "ix_subscriptions_tenant_status_next_billing_date",
            *("tenant_id", "status", "next_billing_date"),
        ),
        # "Is this variant rented?" (catalog/in_use.py) without scanning the tenant's rentals.
        Index("ix_subscriptions_tenant_variant_id_status", "tenant_id", "variant_id", "status"),
        # A device is rented by at most one active subscription, whatever races happen.
        Index(
            "uq_subscriptions_tenant_active_serial_number",
            "tenant_id",
            "serial_number",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=SubscriptionStatus.ACTIVE)
    end_reason: Mapped[str | None] = mapped_column(String(20), default=None)
    customer_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    order_item_position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(100))
    variant_id: Mapped[str] = mapped_column(String(40))
    product_name: Mapped[str] = mapped_column(String(200))
    variant_name: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[str] = mapped_column(String(40))
    serial_number: Mapped[str] = mapped_column(String(100))
    monthly_amount: Mapped[int] = mapped_column(BigInteger)
    original_contract_length: Mapped[int] = mapped_column(Integer)
    contract_length: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    next_billing_date: Mapped[date | None] = mapped_column(Date, default=None)
    billing_group_id: Mapped[str | None] = mapped_column(String(40), default=None)
    upgrade_from_rental_id: Mapped[str | None] = mapped_column(String(40), default=None)
    upgraded_to_rental_id: Mapped[str | None] = mapped_column(String(40), default=None)
    list_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    list_price_source: Mapped[str] = mapped_column(String(20))
    acquisition_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    acquisition_cost_source: Mapped[str] = mapped_column(String(20))
    total_collected: Mapped[int] = mapped_column(BigInteger, default=0)
    # Charged once, on the first invoice that bills the contract (``billing.invoicing``).
    setup_fee: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    setup_fee_invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    extension_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    replacement_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Every operation on the contract, oldest first: {at, action, fromStatus, toStatus, …}.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    buyout_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    early_return_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    cancellation_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(80))

    # Read only, and never loaded behind the caller's back: ``repository.load_customers``
    # puts the customers of a page in the session with one query, and reading this
    # attribute then finds them there. Anything that would need SQL raises instead.
    customer: Mapped[Customer] = relationship(viewonly=True, lazy="raise_on_sql")
