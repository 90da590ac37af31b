"""Payment methods and transactions."""

from __future__ import annotations

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

from flexbill.core.models import Base, TenantOwned, Timestamped


class Gateway(StrEnum):
    SANDBOX = "sandbox"  # behaves like a card processor, with test payment methods
    MANUAL = "manual"  # bank transfer, cash: paid only through mark-paid


class PaymentMethod(TenantOwned, Timestamped, Base):
    """A way a customer pays: a gateway and the gateway's token for it (never card data)."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_payment_methods_tenant_customer_id", "tenant_id", "customer_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    gateway: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(40), default=None)
    last4: Mapped[str | None] = mapped_column(String(4), default=None)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")


class TransactionKind(StrEnum):
    CHARGE = "charge"
    REFUND = "refund"


class TransactionStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # the gateway answers later ("succeed after a delay")


class Transaction(TenantOwned, Timestamped, Base):
    """One attempt to move money through a gateway, with the gateway's answer.

    ``idempotency_key`` is derived from the payment and the attempt number, and is what the
    gateway is called with: a call retried after a crash is the same call, never a second
    charge.
    """

    __tablename__ = "transactions"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_transactions_tenant_payment_id", "tenant_id", "payment_id"),
        Index("ix_transactions_tenant_created_at", "tenant_id", "created_at", "id"),
        # A gateway's answer looked up by its reference (a pending charge, a refund).
        Index("ix_transactions_tenant_gateway_reference", "tenant_id", "gateway_reference"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str | None] = mapped_column(String(40), default=None)
    customer_id: Mapped[str] = mapped_column(String(40))
    payment_method_id: Mapped[str | None] = mapped_column(String(40), default=None)
    gateway: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default=TransactionKind.CHARGE)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    decline_code: Mapped[str | None] = mapped_column(String(60), default=None)
    decline_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    gateway_reference: Mapped[str | None] = mapped_column(String(200), default=None)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
