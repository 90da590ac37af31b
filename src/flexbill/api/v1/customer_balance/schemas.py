"""Customer balance and ledger bodies of the /v1 face. Money in major units, exact."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.billing.ledger import BalanceView
from flexbill.core.money import to_major
from flexbill.customers.models import CustomerLedgerEntry


class BalanceBody(V1Model):
    customer_id: str
    currency: str
    balance: Amount = Field(description="What the customer owes on issued invoices")
    unapplied_amount: Amount = Field(
        description="The credit the customer holds (credit notes not yet used)"
    )

    @classmethod
    def of(cls, view: BalanceView, currency: str) -> BalanceBody:
        return cls(
            customer_id=view.customer_id, currency=currency,
            balance=to_major(view.balance, currency),
            unapplied_amount=to_major(view.unapplied_amount, currency),
        )  # fmt: skip


class LedgerEntryBody(V1Model):
    id: str
    sequence: int = Field(description="1, 2, 3… per customer")
    kind: str = Field(
        description="`invoice_issued`, `invoice_voided`, `payment_received`, "
        "`credit_note_issued`, `credit_applied` (negative changes: credit given back from a "
        "voided invoice), `credit_refunded` or `credit_note_cancelled`"
    )
    balance_change: Amount
    unapplied_change: Amount
    balance_after: Amount
    unapplied_after: Amount
    invoice_id: str | None
    payment_id: str | None
    credit_note_id: str | None
    transaction_id: str | None
    description: str
    created_at: datetime

    @classmethod
    def of(cls, entry: CustomerLedgerEntry, currency: str) -> LedgerEntryBody:
        return cls(
            id=entry.id, sequence=entry.sequence, kind=entry.kind,
            balance_change=to_major(entry.balance_change, currency),
            unapplied_change=to_major(entry.unapplied_change, currency),
            balance_after=to_major(entry.balance_after, currency),
            unapplied_after=to_major(entry.unapplied_after, currency),
            invoice_id=entry.invoice_id, payment_id=entry.payment_id,
            credit_note_id=entry.credit_note_id, transaction_id=entry.transaction_id,
            description=entry.description, created_at=entry.created_at,
        )  # fmt: skip


class LedgerList(V1Model):
    entries: list[LedgerEntryBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
