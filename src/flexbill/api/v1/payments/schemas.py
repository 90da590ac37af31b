"""Payment bodies of the /v1 face (FlexPortal's Payments reference).

Subscriptions are "rentals" on the wire (``rentalId``). A payment shows the invoice it
collects: its number, totals and lines (``lineItems``, one per subscription billed).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.billing.models import InvoiceLine, PaymentStatus, PaymentType
from flexbill.billing.payments import ManualPayment, PaymentView
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import to_major
from flexbill.tenancy.context import TenantContext

MAX_NOTES_LENGTH = 5000
MAX_REFERENCE_LENGTH = 200
MAX_REASON_LENGTH = 1000

StatusName = Literal["pending", "processing", "paid", "failed", "cancelled"]
PaymentTypeName = Literal["individual", "consolidated"]
Reference = Annotated[
    str | None,
    Field(default=None, min_length=1, max_length=MAX_REFERENCE_LENGTH),
]


class MarkPaidBody(V1Model):
    """The body of ``POST /v1/payments/{paymentId}/mark-paid``; every field is optional."""

    paid_at: datetime | None = Field(
        default=None,
        description="When the money was received (RFC 3339; UTC when no zone); default now",
    )
    payment_reference: Reference = Field(
        default=None, description="External reference: bank reference, cheque number, …"
    )
    reference: Reference = Field(default=None, description="Same as `paymentReference`")
    notes: str | None = Field(default=None, max_length=MAX_NOTES_LENGTH)

    def to_domain(self) -> ManualPayment:
        if (
            self.payment_reference is not None
            and self.reference is not None
            and self.payment_reference != self.reference
        ):
            raise ValidationFailed.field(
                "reference", "reference and paymentReference differ; send one of them",
                "mismatch",
            )  # fmt: skip
        paid_at = self.paid_at
        if paid_at is not None:
            # A time without a zone is UTC, the zone of every time this API returns.
            paid_at = paid_at.replace(tzinfo=UTC) if paid_at.tzinfo is None else paid_at
            paid_at = paid_at.astimezone(UTC)
        return ManualPayment(
            paid_at=paid_at,
            reference=self.payment_reference or self.reference,
            notes=self.notes,
        )


class CancelBody(V1Model):
    """The body of ``POST /v1/payments/{paymentId}/cancel``."""

    reason: str = Field(
        min_length=1, max_length=MAX_REASON_LENGTH, description="Why the payment is cancelled"
    )


class LineItemBody(V1Model):
    rental_id: str | None = Field(description="The subscription the line bills, if any")
    kind: str = Field(description="`rental`, `proration`, `setup_fee` or `late_fee`")
    description: str
    amount: Amount = Field(description="Net amount")
    tax_amount: Amount
    total: Amount
    period_start: date | None
    period_end: date | None = Field(description="Exclusive: the next period's first day")

    @classmethod
    def of(cls, line: InvoiceLine, currency: str) -> LineItemBody:
        return cls(
            rental_id=line.subscription_id, kind=line.kind, description=line.description,
            amount=to_major(line.amount, currency),
            tax_amount=to_major(line.tax_amount, currency),
            total=to_major(line.total, currency), period_start=line.period_start,
            period_end=line.period_end,
        )  # fmt: skip


class PaymentBody(V1Model):
    payment_id: str
    tenant_id: str
    status: StatusName
    payment_type: PaymentTypeName
    customer_id: str
    rental_id: str | None = Field(description="The subscription of an individual payment")
    billing_group_id: str | None = Field(description="The group of a consolidated payment")
    invoice_id: str
    invoice_number: str
    billing_period: str = Field(description="`YYYY-MM` of the period's first day")
    amount: Amount = Field(description="What is due now, late fee included")
    currency: str
    subtotal: Amount = Field(description="The invoice's net amount")
    tax_amount: Amount
    tax_rate: Decimal = Field(description="VAT rate in percent")
    total: Amount = Field(description="The invoice's total")
    due_date: date
    paid_at: datetime | None
    provider: str
    manually_marked: bool
    capture_attempts: int
    last_capture_error: str | None
    next_retry_at: datetime | None
    line_items: list[LineItemBody]
    late_fee_applied: bool
    late_fee_amount: Amount
    original_amount: Amount = Field(description="The amount before any late fee")
    idempotency_key: str
    payment_reference: str | None
    notes: str | None
    cancellation_reason: str | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: PaymentView, ctx: TenantContext) -> PaymentBody:
        payment, invoice = view.payment, view.invoice
        currency = ctx.currency
        return cls(
            payment_id=payment.id, tenant_id=ctx.business_unit_id,
            status=PaymentStatus(payment.status).value,
            payment_type=PaymentType(payment.payment_type).value,
            customer_id=payment.customer_id, rental_id=payment.rental_id,
            billing_group_id=payment.billing_group_id, invoice_id=invoice.id,
            invoice_number=invoice.number, billing_period=payment.billing_period,
            amount=to_major(payment.amount, currency), currency=currency,
            subtotal=to_major(invoice.subtotal, currency),
            tax_amount=to_major(invoice.tax_amount, currency), tax_rate=invoice.vat_rate,
            total=to_major(invoice.total, currency), due_date=payment.due_date,
            paid_at=payment.paid_at, provider=payment.provider,
            manually_marked=payment.manually_marked,
            capture_attempts=payment.capture_attempts,
            last_capture_error=payment.last_capture_error,
            next_retry_at=payment.next_retry_at,
            line_items=[LineItemBody.of(line, currency) for line in invoice.lines],
            late_fee_applied=payment.late_fee_applied,
            late_fee_amount=to_major(payment.late_fee_amount, currency),
            original_amount=to_major(payment.original_amount, currency),
            idempotency_key=payment.idempotency_key,
            payment_reference=payment.payment_reference, notes=payment.notes,
            cancellation_reason=payment.cancellation_reason,
            cancelled_at=payment.cancelled_at, created_at=payment.created_at,
            updated_at=payment.updated_at,
        )  # fmt: skip


class PaymentAnswer(V1Model):
    success: bool = True
    payment: PaymentBody


class PaymentResult(V1Model):
    success: bool = True
    message: str
    payment: PaymentBody


class PaymentList(V1Model):
    success: bool = True
    payments: list[PaymentBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
