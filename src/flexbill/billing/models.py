"""Billing tables: billing groups, invoices with their lines and numbering, scheduled
payments, and test clocks."""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class InvoiceStatus(StrEnum):
    # Not written by the billing run, which issues each invoice final and numbered in the
    # transaction that computes it (no window in which a period's invoice can be edited).
    DRAFT = "draft"
    OPEN = "open"  # issued, money due
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"  # its payment's last try failed (dunning)


class LineKind(StrEnum):
    RENTAL = "rental"  # a period's monthly amount
    PRORATION = "proration"  # part of a period (a prorated first payment)
    SETUP_FEE = "setup_fee"
    LATE_FEE = "late_fee"
    PLAN = "plan"  # a plan price's period (in advance, or in arrears without usage)
    USAGE = "usage"  # a plan price rated from recorded usage
    ONE_TIME = "one_time"  # a one-time plan price
    PRORATION_CREDIT = "proration_credit"  # the unused part of a changed item (negative)
    PRORATION_CHARGE = "proration_charge"  # the new part of a changed item


class Invoice(TenantOwned, Timestamped, Base):
    """What one subscription (or one billing group) owes for one billing period.

    ``billing_key`` names the subscription or group and the period's first day: the
    database holds at most one invoice per key, whatever crashes or retries happen.
    ``number`` is gapless per tenant (``invoice_counters``). Money in minor units.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "billing_key"),
        Index("ix_invoices_tenant_created_at", "tenant_id", "created_at", "id"),
        Index("ix_invoices_tenant_due_date", "tenant_id", "due_date", "id"),
        Index(
            "ix_invoices_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
        Index("ix_invoices_tenant_status_due_date", "tenant_id", "status", "due_date", "id"),
        Index("ix_invoices_tenant_subscription_id", "tenant_id", "subscription_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    billing_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.OPEN)
    customer_id: Mapped[str] = mapped_column(String(40))
    subscription_id: Mapped[str | None] = mapped_column(String(40), default=None)
    billing_group_id: Mapped[str | None] = mapped_column(String(40), default=None)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive: the next period's start
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    vat_mode: Mapped[str] = mapped_column(String(20))
    subtotal: Mapped[int] = mapped_column(BigInteger)  # net
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    # Customer credit (credit notes, overpayments) applied to this invoice; it counts in
    # ``amount_paid`` too, and the payment asks only for the rest.
    credit_applied: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    due_date: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice",
        cascade="all, delete-orphan",
        order_by=lambda: InvoiceLine.position,
        lazy="selectin",
    )


class InvoiceLine(TenantOwned, Base):
    """One line of an invoice: ``quantity`` × ``unit_amount`` = ``amount`` (net), its VAT
    in ``tax_amount``; ``total`` = ``amount`` + ``tax_amount``."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        # "Has this price version been billed?" (a billed version is never edited).
        Index(
            "ix_invoice_lines_tenant_plan_price_id",
            *("tenant_id", "plan_price_id", "plan_price_version"),
        ),
    )

    invoice_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(500))
    subscription_id: Mapped[str | None] = mapped_column(String(40), default=None)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date | None] = mapped_column(Date, default=None)
    period_end: Mapped[date | None] = mapped_column(Date, default=None)
    # Lines of general subscriptions name the item and the price version they bill; a
    # usage line keeps the quantity rated and the tiers used (``charge_models.TierUse``
    # as JSON, decimal strings) in ``details``.
    item_id: Mapped[str | None] = mapped_column(String(40), default=None)
    plan_price_id: Mapped[str | None] = mapped_column(String(40), default=None)
    plan_price_version: Mapped[int | None] = mapped_column(Integer, default=None)
    usage_quantity: Mapped[Decimal | None] = mapped_column(Numeric(24, 6), default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class InvoiceCounter(TenantOwned, Base):
    """The last invoice number a tenant issued; taken under a row lock, so numbers are
    gapless and never repeat (a rolled-back invoice gives its number back)."""

    __tablename__ = "invoice_counters"

    last_number: Mapped[int] = mapped_column(Integer, default=0)


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PaymentType(StrEnum):
    INDIVIDUAL = "individual"
    CONSOLIDATED = "consolidated"  # a billing group's


class Payment(TenantOwned, Timestamped, Base):
    """A scheduled payment (FlexPortal's Payments): what one invoice asks to collect.

    ``idempotency_key`` is the invoice's billing key: one payment per subscription (or
    billing group) and billing period, enforced by the database. ``billing_period`` is
    FlexPortal's ``YYYY-MM`` label of the period's first day. Money in minor units.
    """

    __tablename__ = "payments"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_payments_tenant_created_at", "tenant_id", "created_at", "id"),
        Index("ix_payments_tenant_updated_at", "tenant_id", "updated_at", "id"),
        Index("ix_payments_tenant_due_date", "tenant_id", "due_date", "id"),
        Index("ix_payments_tenant_amount", "tenant_id", "amount", "id"),
        Index("ix_payments_tenant_status_due_date", "tenant_id", "status", "due_date", "id"),
        Index(
            "ix_payments_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
        Index("ix_payments_tenant_rental_id", "tenant_id", "rental_id"),
        Index("ix_payments_tenant_billing_group_id", "tenant_id", "billing_group_id"),
        Index("ix_payments_tenant_invoice_id", "tenant_id", "invoice_id"),
        # What collection and retries scan: payments due for an attempt.
        Index("ix_payments_tenant_status_next_retry_at", "tenant_id", "status", "next_retry_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.PENDING)
    payment_type: Mapped[str] = mapped_column(String(20), default=PaymentType.INDIVIDUAL)
    customer_id: Mapped[str] = mapped_column(String(40))
    rental_id: Mapped[str | None] = mapped_column(String(40), default=None)
    billing_group_id: Mapped[str | None] = mapped_column(String(40), default=None)
    invoice_id: Mapped[str] = mapped_column(String(40))
    billing_period: Mapped[str] = mapped_column(String(7))
    period_start: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)  # what is due now (late fee included)
    original_amount: Mapped[int] = mapped_column(BigInteger)  # before any late fee
    late_fee_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    late_fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    due_date: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    provider: Mapped[str] = mapped_column(String(20), default="manual")
    payment_method_id: Mapped[str | None] = mapped_column(String(40), default=None)
    capture_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_capture_error: Mapped[str | None] = mapped_column(String(500), default=None)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(120))
    payment_reference: Mapped[str | None] = mapped_column(String(200), default=None)
    manually_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class TestClock(TenantOwned, Timestamped, Base):
    """A test-mode clock: customers attached to it are billed at ``frozen_time`` instead of
    the real time, and advancing it runs everything due in between, in order."""

    __tablename__ = "test_clocks"
    __test__ = False  # not a pytest test class, whatever its name says

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    frozen_time: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="ready")


class CreditNoteStatus(StrEnum):
    UNALLOCATED = "unallocated"
    PARTIALLY_ALLOCATED = "partially_allocated"
    ALLOCATED = "allocated"
    CANCELLED = "cancelled"


class CreditNote(TenantOwned, Timestamped, Base):
    """Money owed back to a customer against one of its invoices. ``balance`` is what is
    not yet allocated (to open invoices, or refunded); while it is above zero it counts in
    the customer's ``unapplied_amount``. Minor units."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        ForeignKeyConstraint(["tenant_id", "invoice_id"], ["invoices.tenant_id", "invoices.id"]),
        UniqueConstraint("tenant_id", "number"),
        Index("ix_credit_notes_tenant_created_at", "tenant_id", "created_at", "id"),
        Index(
            "ix_credit_notes_tenant_customer_id_created_at",
            *("tenant_id", "customer_id", "created_at", "id"),
        ),
        Index("ix_credit_notes_tenant_invoice_id", "tenant_id", "invoice_id"),
        Index(
            "ix_credit_notes_tenant_status_created_at", "tenant_id", "status", "created_at", "id"
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(40))
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(30), default=CreditNoteStatus.UNALLOCATED)
    amount: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    reference: Mapped[str | None] = mapped_column(String(200), default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_by: Mapped[str] = mapped_column(String(80))


class CreditAllocation(TenantOwned, Base):
    """A part of a credit note used: applied to an invoice, or refunded through the gateway
    (``transaction_id``). Append-only."""

    __tablename__ = "credit_allocations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "credit_note_id"], ["credit_notes.tenant_id", "credit_notes.id"]
        ),
        Index("ix_credit_allocations_tenant_credit_note_id", "tenant_id", "credit_note_id"),
        Index("ix_credit_allocations_tenant_invoice_id", "tenant_id", "invoice_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    credit_note_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # invoice, refund
    invoice_id: Mapped[str | None] = mapped_column(String(40), default=None)
    transaction_id: Mapped[str | None] = mapped_column(String(40), default=None)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
