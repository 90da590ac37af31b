"""Credit note bodies of the /v1 face.

Money in major units, exact; amounts sent with more decimals than the currency has are
refused, never rounded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.billing.credit_notes import CreditNoteView, CreditUse, NewCreditNote
from flexbill.billing.models import CreditAllocation, CreditNoteStatus
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import PRECISION_CODE, PrecisionError, to_major, to_minor_exact
from flexbill.payments.models import Transaction
from flexbill.tenancy.context import TenantContext

MAX_AMOUNT = Decimal(10) ** 13

Reference = Annotated[str, Field(min_length=1, max_length=100)]
PositiveAmount = Annotated[Decimal, Field(gt=0, lt=MAX_AMOUNT)]
StatusName = Literal["unallocated", "partially_allocated", "allocated", "cancelled"]


def minor_units(amount: Decimal, currency: str, path: str) -> int:
    """Major units → minor units, refusing digits the currency does not have."""
    try:
        return to_minor_exact(amount, currency)
    except PrecisionError as error:
        raise ValidationFailed.field(path, str(error), PRECISION_CODE) from None


class CreditNoteCreateBody(V1Model):
    """The body of ``POST /v1/credit-notes``."""

    invoice_id: Reference = Field(description="The invoice credited")
    amount: PositiveAmount = Field(description="In major units, above zero")
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    reference: str | None = Field(
        default=None, min_length=1, max_length=200, description="Your own reference"
    )
    apply: Literal["invoice", "credit"] = Field(
        default="invoice",
        description="`invoice`: applied to the invoice now if it is open (what it does not "
        "need stays customer credit); `credit`: kept as customer credit for the next invoices",
    )

    def to_domain(self, ctx: TenantContext) -> NewCreditNote:
        return NewCreditNote(
            invoice_id=self.invoice_id, amount=minor_units(self.amount, ctx.currency, "amount"),
            reason=self.reason, reference=self.reference, use=CreditUse(self.apply),
        )  # fmt: skip


class AllocateBody(V1Model):
    """The body of ``POST /v1/credit-notes/{creditNoteId}/allocate``."""

    invoice_id: Reference = Field(description="An open invoice of the same customer")
    amount: PositiveAmount | None = Field(
        default=None,
        description="Default: as much as the invoice still asks, up to the note's balance",
    )

    def amount_minor(self, ctx: TenantContext) -> int | None:
        return None if self.amount is None else minor_units(self.amount, ctx.currency, "amount")


class RefundBody(V1Model):
    """The optional body of ``POST /v1/credit-notes/{creditNoteId}/refund``."""

    amount: PositiveAmount | None = Field(default=None, description="Default: the balance")

    def amount_minor(self, ctx: TenantContext) -> int | None:
        return None if self.amount is None else minor_units(self.amount, ctx.currency, "amount")


class AllocationBody(V1Model):
    allocation_id: str
    kind: str = Field(
        description="`invoice` (applied to an invoice), `refund` (paid back through "
        "`transactionId`) or `reversal` (an invoice allocation given back, negative, when "
        "the invoice was voided)"
    )
    invoice_id: str | None
    transaction_id: str | None
    amount: Amount
    created_at: datetime

    @classmethod
    def of(cls, row: CreditAllocation, currency: str) -> AllocationBody:
        return cls(
            allocation_id=row.id, kind=row.kind, invoice_id=row.invoice_id,
            transaction_id=row.transaction_id, amount=to_major(row.amount, currency),
            created_at=row.created_at,
        )  # fmt: skip


class CreditNoteBody(V1Model):
    credit_note_id: str
    number: str = Field(description="`CN-000001`, gapless per business unit and environment")
    customer_id: str
    invoice_id: str | None = Field(description="The invoice credited")
    status: StatusName
    amount: Amount
    balance: Amount = Field(description="What is left to allocate or refund")
    currency: str
    reason: str | None
    reference: str | None
    allocations: list[AllocationBody] = Field(description="Oldest first")
    created_by: str
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: CreditNoteView, ctx: TenantContext) -> CreditNoteBody:
        note, currency = view.note, ctx.currency
        return cls(
            credit_note_id=note.id, number=note.number, customer_id=note.customer_id,
            invoice_id=note.invoice_id, status=CreditNoteStatus(note.status).value,
            amount=to_major(note.amount, currency), balance=to_major(note.balance, currency),
            currency=currency, reason=note.reason, reference=note.reference,
            allocations=[AllocationBody.of(row, currency) for row in view.allocations],
            created_by=note.created_by, cancelled_at=note.cancelled_at,
            created_at=note.created_at, updated_at=note.updated_at,
        )  # fmt: skip


class TransactionBody(V1Model):
    transaction_id: str
    payment_id: str | None = Field(description="The payment whose charge was refunded")
    gateway: str = Field(description="`sandbox`, or `manual`: money sent by the business")
    kind: str
    status: str = Field(description="`succeeded` or `pending`")
    amount: Amount
    currency: str
    gateway_reference: str | None
    idempotency_key: str
    created_at: datetime

    @classmethod
    def of(cls, row: Transaction, currency: str) -> TransactionBody:
        return cls(
            transaction_id=row.id, payment_id=row.payment_id, gateway=row.gateway,
            kind=row.kind, status=row.status, amount=to_major(row.amount, currency),
            currency=currency, gateway_reference=row.gateway_reference,
            idempotency_key=row.idempotency_key, created_at=row.created_at,
        )  # fmt: skip


class CreditNoteAnswer(V1Model):
    success: bool = True
    credit_note: CreditNoteBody


class CreditNoteResult(V1Model):
    success: bool = True
    message: str
    credit_note: CreditNoteBody


class RefundResult(V1Model):
    success: bool = True
    message: str
    credit_note: CreditNoteBody
    transaction: TransactionBody


class CreditNoteList(V1Model):
    success: bool = True
    credit_notes: list[CreditNoteBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
