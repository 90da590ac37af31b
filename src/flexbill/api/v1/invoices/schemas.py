"""Invoice bodies of the /v1 face (flexbill's addition: FlexPortal shows invoices only
inside its dashboard).

Money in major units, exact; ``periodEnd`` is exclusive (the next period's first day).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.billing.invoices import amount_due
from flexbill.billing.models import Invoice, InvoiceLine, InvoiceStatus
from flexbill.core.money import to_major
from flexbill.tenancy.context import TenantContext

MAX_REASON_LENGTH = 1000

StatusName = Literal["draft", "open", "partially_paid", "paid", "void", "uncollectible"]


class VoidBody(V1Model):
    """The optional body of ``POST /v1/invoices/{invoiceId}/void``."""

    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Recorded as the cancellation reason of the invoice's payment",
    )


class InvoiceLineBody(V1Model):
    position: int
    kind: str = Field(description="`rental`, `proration`, `setup_fee` or `late_fee`")
    description: str
    subscription_id: str | None
    quantity: int
    unit_amount: Amount
    amount: Amount = Field(description="Net: quantity × unitAmount")
    tax_amount: Amount
    total: Amount
    period_start: date | None
    period_end: date | None

    @classmethod
    def of(cls, line: InvoiceLine, currency: str) -> InvoiceLineBody:
        return cls(
            position=line.position, kind=line.kind, description=line.description,
            subscription_id=line.subscription_id, quantity=line.quantity,
            unit_amount=to_major(line.unit_amount, currency),
            amount=to_major(line.amount, currency),
            tax_amount=to_major(line.tax_amount, currency),
            total=to_major(line.total, currency), period_start=line.period_start,
            period_end=line.period_end,
        )  # fmt: skip


class InvoiceBody(V1Model):
    invoice_id: str
    number: str = Field(description="Gapless per business unit and environment")
    status: StatusName
    customer_id: str
    subscription_id: str | None = Field(description="The subscription of an individual invoice")
    billing_group_id: str | None = Field(description="The group of a consolidated invoice")
    period_start: date
    period_end: date = Field(description="Exclusive: the next period's first day")
    currency: str
    vat_rate: Decimal = Field(description="In percent")
    vat_mode: str = Field(description="`exclusive` or `inclusive`")
    subtotal: Amount = Field(description="Net")
    tax_amount: Amount
    total: Amount
    amount_paid: Amount
    amount_due: Amount = Field(description="Total less what was paid; 0 once void")
    issued_at: datetime | None
    due_date: date
    paid_at: datetime | None
    voided_at: datetime | None
    lines: list[InvoiceLineBody]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, invoice: Invoice, ctx: TenantContext) -> InvoiceBody:
        currency = ctx.currency
        return cls(
            invoice_id=invoice.id, number=invoice.number,
            status=InvoiceStatus(invoice.status).value, customer_id=invoice.customer_id,
            subscription_id=invoice.subscription_id, billing_group_id=invoice.billing_group_id,
            period_start=invoice.period_start, period_end=invoice.period_end,
            currency=currency, vat_rate=invoice.vat_rate, vat_mode=invoice.vat_mode,
            subtotal=to_major(invoice.subtotal, currency),
            tax_amount=to_major(invoice.tax_amount, currency),
            total=to_major(invoice.total, currency),
            amount_paid=to_major(invoice.amount_paid, currency),
            amount_due=to_major(amount_due(invoice), currency), issued_at=invoice.issued_at,
            due_date=invoice.due_date, paid_at=invoice.paid_at, voided_at=invoice.voided_at,
            lines=[InvoiceLineBody.of(line, currency) for line in invoice.lines],
            created_at=invoice.created_at, updated_at=invoice.updated_at,
        )  # fmt: skip


class InvoiceList(V1Model):
    invoices: list[InvoiceBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None


class InvoiceResult(V1Model):
    success: bool = True
    message: str
    invoice: InvoiceBody
