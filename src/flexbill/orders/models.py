"""Orders tables: orders, their items, and the fingerprints that de-duplicate them.

Money columns hold integer minor units of the business unit's currency (one currency per
business unit, fixed at its creation, so the rows do not repeat it). What an order says
about its customer, addresses and prices is a copy taken when it was placed: later changes
to the customer or the catalog do not rewrite an order.
"""

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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flexbill.core.models import Base, TenantOwned, Timestamped, UTCDateTime
from flexbill.orders.lifecycle import OrderStatus, RentalStatus

MAX_NOTES_LENGTH = 5000
MAX_CANCELLATION_REASON_LENGTH = 1000


class OrderType(StrEnum):
    STANDARD = "standard"
    EXTENSION = "extension"
    UPGRADE = "upgrade"


class Channel(StrEnum):
    """Where the order was placed (Flexiti's two channels, seed 001)."""

    ONLINE = "online"
    IN_STORE = "in_store"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class PaymentMethod(StrEnum):
    STRIPE = "stripe"
    MANUAL = "manual"


class ListPriceSource(StrEnum):
    VARIANT = "variant"
    MANUAL = "manual"
    UNKNOWN = "unknown"


class AcquisitionCostSource(StrEnum):
    VARIANT = "variant"
    MANUAL = "manual"
    LIST_PRICE = "list_price"  # no acquisition cost known: the list price stands in for it
    UNKNOWN = "unknown"


def _sort_index(column: str) -> Index:
    return Index(f"ix_orders_tenant_{column}", "tenant_id", column, "id")


class Order(TenantOwned, Timestamped, Base):
    """An order of one tenant: devices a customer wants to rent, priced when placed.

    ``subtotal``/``tax_amount``/``total`` are monthly amounts (see ``orders.totals``);
    ``rented_devices`` counts the devices subscriptions have taken so far, out of
    ``total_devices``.
    """

    __tablename__ = "orders"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        _sort_index("created_at"),
        _sort_index("updated_at"),
        _sort_index("status"),
        _sort_index("total"),
        Index("ix_orders_tenant_status_created_at", "tenant_id", "status", "created_at", "id"),
        Index(
            "ix_orders_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING)
    order_type: Mapped[str] = mapped_column(String(20), default=OrderType.STANDARD)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.ONLINE)
    customer_id: Mapped[str] = mapped_column(String(40))
    # The customer as the order named them: email, first_name, last_name, company, phone,
    # customer_type.
    customer: Mapped[dict[str, Any]] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    total_devices: Mapped[int] = mapped_column(Integer)
    rented_devices: Mapped[int] = mapped_column(Integer, default=0)
    rental_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    payment_status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    payment_method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.MANUAL)
    payment_transaction_id: Mapped[str | None] = mapped_column(String(200), default=None)
    paid_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_manually_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_group_id: Mapped[str | None] = mapped_column(String(40), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(200), default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    extension_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    upgrade_details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    cancellation_reason: Mapped[str | None] = mapped_column(
        String(MAX_CANCELLATION_REASON_LENGTH), default=None
    )
    # The de-duplication key this order holds (see ``orders.dedup``); released on cancel.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(80))

    # Every use of an order needs its items, and async sessions cannot load lazily.
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by=lambda: OrderItem.position,
        lazy="selectin",
    )


class OrderItem(TenantOwned, Base):
    """One line of an order: ``quantity`` devices of one variant for one contract length.

    ``unit_price`` is the monthly price per device after the variant's discount;
    ``setup_fee`` is charged once per device. ``rental_ids`` lists the subscriptions that
    fulfil this line, at most ``quantity`` of them.
    """

    __tablename__ = "order_items"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"]),
    )

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(100))
    variant_id: Mapped[str] = mapped_column(String(40))
    product_name: Mapped[str] = mapped_column(String(200))
    variant_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    contract_length: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    list_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    list_price_source: Mapped[str] = mapped_column(String(20))
    acquisition_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    acquisition_cost_source: Mapped[str] = mapped_column(String(20))
    setup_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    rental_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    rental_status: Mapped[str] = mapped_column(String(20), default=RentalStatus.PENDING)

    order: Mapped[Order] = relationship(back_populates="items")


class OrderFingerprint(TenantOwned, Base):
    """Natural idempotency (DESIGN rule 8): the order that holds a customer e-mail + items
    combination until ``expires_at``. An identical order placed before then is answered
    with ``order_id`` instead of creating another one."""

    __tablename__ = "order_fingerprints"
    __table_args__ = (Index("ix_order_fingerprints_tenant_expires_at", "tenant_id", "expires_at"),)

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
