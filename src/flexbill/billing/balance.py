"""The customer's balance and unapplied amount, moved by invoices, payments and credit.

``Customer.balance`` is what the customer owes on issued invoices; ``unapplied_amount``
the credit it holds (the balances of its credit notes). Every movement of either is an
entry of the customer's ledger (``billing.ledger``), written under the customer's row
lock. This module holds what invoicing, settlement and voiding call, and the moves of
credit they share with the credit-note use cases (``billing.credit_notes``):

- An issued invoice raises the balance by its total, and the customer's credit is
  applied to it at once, oldest credit note first: the invoice counts it in
  ``credit_applied`` and ``amount_paid``, and its payment asks only for the rest. An
  invoice whose total is below zero (a proration credit larger than the charges) raises
  no balance: its amount becomes a credit note of its own.
- A payment received lowers the balance by its amount.
- A voided invoice is owed no more; the credit applied to it goes back to its credit notes
  (a reversing allocation, never an edit of the first one).

Credit notes are numbered ``CN-000001``, gapless per tenant, without a table of their own:
the next number is the highest taken plus one, read while the tenant's invoice counter
row is held (``numbering.lock_counter``), which every writer of credit notes takes first.
A number is never given back except by a rollback, which gives back the row too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import numbering
from flexbill.billing.ledger import Ledger
from flexbill.billing.models import (
    CreditAllocation,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    Payment,
)
from flexbill.core.ids import new_id
from flexbill.core.money import to_major
from flexbill.customers.models import LedgerEntryKind
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.tenancy.context import TenantContext

CREDIT_NOTE_PREFIX = "cn"
ALLOCATION_PREFIX = "cnal"
NUMBER_PREFIX = "CN-"
NUMBER_DIGITS = 6

Events = list[tuple[EventType, dict[str, Any]]]


class AllocationKind(StrEnum):
    INVOICE = "invoice"  # applied to an invoice
    REFUND = "refund"  # given back through a gateway (``transaction_id``)
    REVERSAL = "reversal"  # an invoice allocation given back (negative) when it was voided


def credit_note_number(sequence: int) -> str:
    """``1`` → ``CN-000001``; past 999999 numbers simply grow longer."""
    return f"{NUMBER_PREFIX}{sequence:0{NUMBER_DIGITS}d}"


async def take_credit_note_numbers(session: AsyncSession, ctx: TenantContext, count: int) -> int:
    """The first of the tenant's next ``count`` credit note sequence numbers; the tenant's
    invoice counter stays locked until the transaction ends, so nobody takes them too."""
    await numbering.lock_counter(session, ctx.tenant_id)
    last = await session.scalar(
        select(CreditNote.number)
        .where(CreditNote.tenant_id == ctx.tenant_id)
        .order_by(func.length(CreditNote.number).desc(), CreditNote.number.desc())
        .limit(1)
    )
    return (int(last.removeprefix(NUMBER_PREFIX)) if last else 0) + 1


def note_status(note: CreditNote) -> CreditNoteStatus:
    """What a credit note's balance says about it (one not cancelled)."""
    if note.balance >= note.amount:
        return CreditNoteStatus.UNALLOCATED
    if note.balance > 0:
        return CreditNoteStatus.PARTIALLY_ALLOCATED
    return CreditNoteStatus.ALLOCATED


def credit_note_data(note: CreditNote, currency: str, **extra: Any) -> dict[str, Any]:
    """The ``data`` of ``credit_note.*`` events."""
    return {
        "creditNoteId": note.id,
        "number": note.number,
        "customerId": note.customer_id,
        "invoiceId": note.invoice_id,
        "status": note.status,
        "amount": to_major(note.amount, currency),
        "balance": to_major(note.balance, currency),
        "currency": currency,
        "reason": note.reason,
        "reference": note.reference,
        **extra,
    }


def new_credit_note(
    ctx: TenantContext,
    *,
    number: str,
    customer_id: str,
    invoice_id: str | None,
    amount: int,
    reason: str | None,
    reference: str | None,
    now: datetime,
) -> CreditNote:
    return CreditNote(
        tenant_id=ctx.tenant_id, id=new_id(CREDIT_NOTE_PREFIX), number=number,
        customer_id=customer_id, invoice_id=invoice_id, status=CreditNoteStatus.UNALLOCATED,
        amount=amount, balance=amount, reason=reason, reference=reference,
        created_by=ctx.actor, created_at=now, updated_at=now,
    )  # fmt: skip


def issued(ledger: Ledger, note: CreditNote, against: str) -> tuple[EventType, dict[str, Any]]:
    """Count a new credit note in its customer's credit; its ``credit_note.created``."""
    ledger.record(
        note.customer_id, LedgerEntryKind.CREDIT_NOTE_ISSUED,
        f"Credit note {note.number} issued against invoice {against}",
        unapplied=note.amount, invoice_id=note.invoice_id, credit_note_id=note.id,
    )  # fmt: skip
    return EventType.CREDIT_NOTE_CREATED, credit_note_data(note, ledger.ctx.currency)


def allocation(
    ctx: TenantContext,
    note: CreditNote,
    kind: AllocationKind,
    amount: int,
    at: datetime,
    *,
    invoice_id: str | None = None,
    transaction_id: str | None = None,
) -> CreditAllocation:
    return CreditAllocation(
        tenant_id=ctx.tenant_id, id=new_id(ALLOCATION_PREFIX), credit_note_id=note.id,
        kind=kind, invoice_id=invoice_id, transaction_id=transaction_id, amount=amount,
        created_at=at,
    )  # fmt: skip


def apply_credit(
    ledger: Ledger, note: CreditNote, invoice: Invoice, amount: int
) -> tuple[CreditAllocation, tuple[EventType, dict[str, Any]]]:
    """Use ``amount`` of ``note`` (locked) for ``invoice`` (locked): the note's balance
    and the customer's credit go down, and so do the balance and what the invoice asks.
    The allocation row to add and the ``credit_note.allocated`` event to emit."""
    at = ledger.at
    note.balance -= amount
    note.status = note_status(note)
    note.updated_at = at
    invoice.credit_applied += amount
    invoice.amount_paid += amount
    invoice.updated_at = at
    ledger.record(
        note.customer_id, LedgerEntryKind.CREDIT_APPLIED,
        f"Credit note {note.number} applied to invoice {invoice.number}",
        balance=-amount, unapplied=-amount, invoice_id=invoice.id, credit_note_id=note.id,
    )  # fmt: skip
    row = allocation(ledger.ctx, note, AllocationKind.INVOICE, amount, at, invoice_id=invoice.id)
    data = credit_note_data(
        note, ledger.ctx.currency, allocationId=row.id, allocationKind=row.kind,
        allocatedInvoiceId=invoice.id, allocatedAmount=to_major(amount, ledger.ctx.currency),
    )  # fmt: skip
    return row, (EventType.CREDIT_NOTE_ALLOCATED, data)


async def lock_credit_notes(
    session: AsyncSession, ctx: TenantContext, note_ids: Collection[str]
) -> dict[str, CreditNote]:
    """The credit notes named, locked in id order and re-read."""
    if not note_ids:
        return {}
    found = await session.scalars(
        select(CreditNote)
        .where(CreditNote.tenant_id == ctx.tenant_id, CreditNote.id.in_(sorted(set(note_ids))))
        .order_by(CreditNote.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {note.id: note for note in found}


async def _usable_credit(
    session: AsyncSession, ctx: TenantContext, customer_ids: Collection[str]
) -> dict[str, list[CreditNote]]:
    """The credit notes of ``customer_ids`` with a balance left, oldest first, locked."""
    usable: dict[str, list[CreditNote]] = defaultdict(list)
    if not customer_ids:
        return usable
    found = await session.scalars(
        select(CreditNote)
        .where(
            CreditNote.tenant_id == ctx.tenant_id,
            CreditNote.customer_id.in_(sorted(set(customer_ids))),
            CreditNote.status.in_(
                [CreditNoteStatus.UNALLOCATED, CreditNoteStatus.PARTIALLY_ALLOCATED]
            ),
            CreditNote.balance > 0,
        )
        .order_by(CreditNote.customer_id, CreditNote.created_at, CreditNote.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    for note in found:
        usable[note.customer_id].append(note)
    return usable


async def invoices_issued(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice], *, now: datetime
) -> dict[str, int]:
    """Record ``invoices`` (just issued and flushed) on their customers' balances, apply
    each customer's unapplied credit to them in order (``credit_applied`` and
    ``amount_paid`` grow by it), and answer the credit applied per invoice id (invoices
    without credit are left out). An invoice whose total is below zero moves its
    customer's credit up instead, as a credit note "Credit from invoice <number>".

    A few statements per call, however many invoices: the customers are locked in one,
    their credit notes with a balance in one more, the entries inserted in one."""
    if not invoices:
        return {}
    ledger = await Ledger.open(session, ctx, {i.customer_id for i in invoices}, at=now)
    holders = [c.id for c in ledger.customers.values() if c.unapplied_amount > 0]
    usable = await _usable_credit(session, ctx, holders)
    negative = [invoice for invoice in invoices if invoice.total < 0]
    next_number = await take_credit_note_numbers(session, ctx, len(negative)) if negative else 0
    notes: list[CreditNote] = []
    allocations: list[CreditAllocation] = []
    emitted: Events = []
    credited: dict[str, int] = {}
    for invoice in invoices:
        customer_id = invoice.customer_id
        if invoice.total < 0:
            note = new_credit_note(
                ctx, number=credit_note_number(next_number), customer_id=customer_id,
                invoice_id=invoice.id, amount=-invoice.total,
                reason=f"Credit from invoice {invoice.number}", reference=None, now=now,
            )  # fmt: skip
            next_number += 1
            notes.append(note)
            usable[customer_id].append(note)
            emitted.append(issued(ledger, note, invoice.number))
            continue
        ledger.record(
            customer_id, LedgerEntryKind.INVOICE_ISSUED, f"Invoice {invoice.number} issued",
            balance=invoice.total, invoice_id=invoice.id,
        )  # fmt: skip
        for note in usable[customer_id]:
            amount = min(note.balance, invoice.total - invoice.amount_paid)
            if amount <= 0:
                continue
            row, event = apply_credit(ledger, note, invoice, amount)
            allocations.append(row)
            emitted.append(event)
            credited[invoice.id] = credited.get(invoice.id, 0) + amount
    session.add_all(notes)
    await session.flush()  # allocations name their notes
    session.add_all(allocations)
    await ledger.write()
    await events.emit_many(session, ctx, emitted)
    return credited


async def payment_received(
    session: AsyncSession, ctx: TenantContext, payment: Payment, *, at: datetime
) -> None:
    """Record ``payment`` (just settled) on its customer's balance."""
    invoice = await session.get(Invoice, (ctx.tenant_id, payment.invoice_id))
    assert invoice is not None, "a payment without its invoice"
    ledger = await Ledger.open(session, ctx, [payment.customer_id], at=at)
    ledger.record(
        payment.customer_id, LedgerEntryKind.PAYMENT_RECEIVED,
        f"Payment received for invoice {invoice.number}", balance=-payment.amount,
        invoice_id=invoice.id, payment_id=payment.id,
    )  # fmt: skip
    await ledger.write()


async def invoice_voided(
    session: AsyncSession, ctx: TenantContext, invoice: Invoice, *, at: datetime
) -> None:
    """Record that ``invoice`` (just voided, still locked) is no longer owed: the credit
    applied to it goes back to its credit notes and the customer, then what was still
    due leaves the balance."""
    ledger = await Ledger.open(session, ctx, [invoice.customer_id], at=at)
    applied = await session.execute(
        select(CreditAllocation.credit_note_id, func.sum(CreditAllocation.amount))
        .where(
            CreditAllocation.tenant_id == ctx.tenant_id,
            CreditAllocation.invoice_id == invoice.id,
            CreditAllocation.kind.in_([AllocationKind.INVOICE, AllocationKind.REVERSAL]),
        )
        .group_by(CreditAllocation.credit_note_id)
    )
    returned = {note_id: int(amount) for note_id, amount in applied.all() if amount > 0}
    notes = await lock_credit_notes(session, ctx, returned)
    reversals: list[CreditAllocation] = []
    emitted: Events = []
    for note_id, amount in sorted(returned.items()):
        note = notes[note_id]
        note.balance += amount
        note.status = note_status(note)
        note.updated_at = at
        invoice.credit_applied -= amount
        invoice.amount_paid -= amount
        ledger.record(
            invoice.customer_id, LedgerEntryKind.CREDIT_APPLIED,
            f"Credit note {note.number} given back: invoice {invoice.number} voided",
            balance=amount, unapplied=amount, invoice_id=invoice.id, credit_note_id=note.id,
        )  # fmt: skip
        row = allocation(ctx, note, AllocationKind.REVERSAL, -amount, at, invoice_id=invoice.id)
        reversals.append(row)
        data = credit_note_data(
            note, ctx.currency, allocationId=row.id, allocationKind=row.kind,
            allocatedInvoiceId=invoice.id, allocatedAmount=to_major(-amount, ctx.currency),
        )  # fmt: skip
        emitted.append((EventType.CREDIT_NOTE_ALLOCATED, data))
    still_due = max(invoice.total - invoice.amount_paid, 0)
    ledger.record(
        invoice.customer_id, LedgerEntryKind.INVOICE_VOIDED, f"Invoice {invoice.number} voided",
        balance=-still_due, invoice_id=invoice.id,
    )  # fmt: skip
    session.add_all(reversals)
    await ledger.write()
    await events.emit_many(session, ctx, emitted)


async def late_fees_charged(
    session: AsyncSession,
    ctx: TenantContext,
    charged: Sequence[tuple[Invoice, int]],
    *,
    at: datetime,
) -> None:
    """Record the late fees just added to open invoices: each raises its customer's
    balance like the invoice did."""
    if not charged:
        return
    ledger = await Ledger.open(session, ctx, {invoice.customer_id for invoice, _ in charged}, at=at)
    for invoice, fee in charged:
        ledger.record(
            invoice.customer_id, LedgerEntryKind.LATE_FEE_CHARGED,
            f"Late fee on invoice {invoice.number}", balance=fee, invoice_id=invoice.id,
        )  # fmt: skip
    await ledger.write()
