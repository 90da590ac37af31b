from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime


class CustomerType(StrEnum):
    INDIVIDUAL = "individual"
    BUSINESS = "business"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


def _sort_index(column: str) -> Index:
    return Index(f"ix_customers_tenant_{column}", "tenant_id", column, "id")


class Customer(TenantOwned, Timestamped, Base):
    """A customer of one tenant. E-mail is the natural key (orders match customers by it).

    The counters and id lists are maintained by the orders and subscriptions domains; they
    are stored rather than computed so that lists can sort by them through an index.
    Money counters are in minor units of the business unit's currency.
    """

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        _sort_index("created_at"),
        _sort_index("updated_at"),
        _sort_index("first_name"),
        _sort_index("last_name"),
        _sort_index("total_monthly_revenue"),
        _sort_index("total_devices_rented"),
        Index("ix_customers_tenant_status_created_at", "tenant_id", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200), default=None)
    phone: Mapped[str | None] = mapped_column(String(50), default=None)
    customer_type: Mapped[str] = mapped_column(String(20), default=CustomerType.INDIVIDUAL)
    status: Mapped[str] = mapped_column(String(20), default=CustomerStatus.ACTIVE)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    last_shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    total_orders: Mapped[int] = mapped_column(Integer, default=0)
    total_devices_rented: Mapped[int] = mapped_column(Integer, default=0)
    total_monthly_revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_collected: Mapped[int] = mapped_column(BigInteger, default=0)
    total_acquisition_cost: Mapped[int] = mapped_column(BigInteger, default=0)
    subscriptions_tracked: Mapped[int] = mapped_column(Integer, default=0)
    order_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    rental_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the customer owes on open invoices, and the credit it holds (credit notes not
    # yet allocated, overpayments); every change is a ``CustomerLedgerEntry``.
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    unapplied_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Due payments are charged to the default payment method without being asked.
    auto_charge: Mapped[bool] = mapped_column(Boolean, default=False)
    # A test-mode customer attached to a test clock is billed on that clock's time.
    test_clock_id: Mapped[str | None] = mapped_column(String(40), default=None)
    created_by: Mapped[str] = mapped_column(String(80))


class LedgerEntryKind(StrEnum):
    INVOICE_ISSUED = "invoice_issued"  # balance +total
    INVOICE_VOIDED = "invoice_voided"  # balance −what was still due
    LATE_FEE_CHARGED = "late_fee_charged"  # balance +fee (added to an open invoice)
    PAYMENT_RECEIVED = "payment_received"  # balance −amount
    CREDIT_NOTE_ISSUED = "credit_note_issued"  # unapplied +amount
    CREDIT_APPLIED = "credit_applied"  # unapplied −amount, balance −amount
    CREDIT_REFUNDED = "credit_refunded"  # unapplied −amount
    CREDIT_NOTE_CANCELLED = "credit_note_cancelled"  # unapplied −what was left


class CustomerLedgerEntry(TenantOwned, Base):
    """One movement of a customer's ``balance`` and ``unapplied_amount``, with both after
    it: the entries of a customer, in order, explain its balance. Append-only; minor
    units; ``sequence`` counts a customer's entries from 1."""

    __tablename__ = "customer_ledger_entries"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        UniqueConstraint("tenant_id", "customer_id", "sequence"),
        Index(
            "ix_customer_ledger_entries_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    balance_change: Mapped[int] = mapped_column(BigInteger)
    unapplied_change: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    unapplied_after: Mapped[int] = mapped_column(BigInteger)
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    payment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    credit_note_id: Mapped[str | None] = mapped_column(String(40), default=None)
    transaction_id: Mapped[str | None] = mapped_column(String(40), default=None)
    description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
