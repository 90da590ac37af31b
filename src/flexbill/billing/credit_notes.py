"""Credit notes: money owed back to a customer against one of its invoices.

A credit note's ``balance`` is the part not yet used; while it is above zero it counts in
the customer's credit (``unapplied_amount``). It is used by allocating it to open
invoices of its customer (at once against its own invoice, later by hand, or as invoices
are issued: ``balance.invoices_issued``) or by refunding it (``refunds``). Statuses:
``unallocated`` → ``partially_allocated`` → ``allocated`` as its balance goes down;
``cancelled`` while nothing of it was used.

The credit notes of an invoice never add up to more than its total. Applying credit to an
open invoice lowers what it still asks: its waiting (``pending`` or ``failed``) payment
asks for less, and once nothing is left the invoice is ``paid`` and the payment is
cancelled ("Paid by credit note"). While a payment of the invoice is being collected
(``processing``), credit is not applied to it: a new credit note stays customer credit,
and an allocation by hand is refused (``PAYMENT_PROCESSING``).

Rows are locked in the house order: the tenant's invoice counter (numbers), the
invoice's payments, the invoice, the customer, its credit notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance
from flexbill.billing.invoices import cancel_payment_row, locked_payments
from flexbill.billing.ledger import Ledger
from flexbill.billing.models import (
    CreditAllocation,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from flexbill.core.errors import Conflict, FlexbillError, InvalidState, ValidationFailed
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.money import to_major
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.customers.models import LedgerEntryKind
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.tenancy.context import TenantContext

PAID_BY_CREDIT = "Paid by credit note"

OPEN_INVOICES = frozenset(
    {InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.UNCOLLECTIBLE}
)
UNPAID_PAYMENTS = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED})


class CreditUse(StrEnum):
    INVOICE = "invoice"  # allocate to the note's own invoice now, if it is open
    CREDIT = "credit"  # keep as customer credit for the next invoices


@dataclass(frozen=True)
class NewCreditNote:
    invoice_id: str
    amount: int  # minor units, above zero
    reason: str | None = None
    reference: str | None = None
    use: CreditUse = CreditUse.INVOICE


@dataclass(frozen=True)
class CreditNoteView:
    note: CreditNote
    allocations: Sequence[CreditAllocation]


def credit_note_not_found(note_id: str) -> FlexbillError:
    return FlexbillError("CREDIT_NOTE_NOT_FOUND", f"Credit note '{note_id}' not found")


def invoice_not_found(invoice_id: str) -> FlexbillError:
    return FlexbillError("INVOICE_NOT_FOUND", f"Invoice '{invoice_id}' not found")


def cancelled(note: CreditNote) -> Conflict:
    return Conflict("CREDIT_NOTE_CANCELLED", f"Credit note {note.number} is cancelled")


async def find_note(session: AsyncSession, ctx: TenantContext, note_id: str) -> CreditNote:
    note = await session.get(CreditNote, (ctx.tenant_id, note_id))
    if note is None:
        raise credit_note_not_found(note_id)
    return note


async def locked_note(session: AsyncSession, ctx: TenantContext, note_id: str) -> CreditNote:
    """The credit note re-read under its lock (the caller holds its customer's)."""
    return (await balance.lock_credit_notes(session, ctx, [note_id]))[note_id]


async def _invoice_with_payments(
    session: AsyncSession, ctx: TenantContext, invoice_id: str
) -> tuple[Invoice, list[Payment]]:
    """The invoice and its payments, locked (payments first) and re-read."""
    found = await session.get(Invoice, (ctx.tenant_id, invoice_id))
    if found is None:
        raise invoice_not_found(invoice_id)
    payments = await locked_payments(session, ctx, found)
    invoice = await session.get(
        Invoice, (ctx.tenant_id, invoice_id), with_for_update=True, populate_existing=True
    )
    assert invoice is not None, "an invoice vanished while locked"
    return invoice, payments


def _collecting(payments: Sequence[Payment]) -> bool:
    return any(payment.status == PaymentStatus.PROCESSING for payment in payments)


def _allocate(
    session: AsyncSession,
    ledger: Ledger,
    note: CreditNote,
    invoice: Invoice,
    payments: Sequence[Payment],
    amount: int,
) -> balance.Events:
    """Apply ``amount`` of ``note`` to the open ``invoice``; its waiting payment asks for
    that much less, and is cancelled once nothing is left."""
    row, event = balance.apply_credit(ledger, note, invoice, amount)
    session.add(row)
    at = ledger.at
    for payment in payments:
        if payment.status not in UNPAID_PAYMENTS:
            continue
        payment.amount = max(payment.amount - amount, 0)
        payment.original_amount = max(payment.amount - payment.late_fee_amount, 0)
        payment.updated_at = at
        if payment.amount == 0:
            cancel_payment_row(payment, PAID_BY_CREDIT, at)
    if invoice.amount_paid >= invoice.total:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = at
    return [event]


async def _credited(session: AsyncSession, ctx: TenantContext, invoice_id: str) -> int:
    """What the credit notes of an invoice (not cancelled) add up to."""
    total = await session.scalar(
        select(func.coalesce(func.sum(CreditNote.amount), 0)).where(
            CreditNote.tenant_id == ctx.tenant_id,
            CreditNote.invoice_id == invoice_id,
            CreditNote.status != CreditNoteStatus.CANCELLED,
        )
    )
    return int(total or 0)


async def _view(session: AsyncSession, ctx: TenantContext, note: CreditNote) -> CreditNoteView:
    return CreditNoteView(note, (await allocations_of(session, ctx, [note.id])).get(note.id, []))


async def create_credit_note(
    session: AsyncSession, ctx: TenantContext, new: NewCreditNote, *, now: datetime
) -> CreditNoteView:
    """Issue a credit note of ``new.amount`` against an invoice: the customer's credit
    grows by it, and with ``use`` = ``invoice`` as much of it as the invoice still asks
    is applied to it at once (the rest stays customer credit).

    Raises ``INVOICE_NOT_FOUND``, ``INVALID_STATUS`` (a draft or void invoice),
    ``CREDIT_EXCEEDS_INVOICE`` (the invoice's credit notes would add up to more than its
    total) and ``VALIDATION_ERROR`` (an amount not above zero)."""
    if new.amount <= 0:
        raise ValidationFailed.field("amount", "amount must be above zero", "too_small")
    number = await balance.take_credit_note_numbers(session, ctx, 1)
    invoice, payments = await _invoice_with_payments(session, ctx, new.invoice_id)
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise InvalidState(
            "INVALID_STATUS", f"Invoice {invoice.number} is {invoice.status}: nothing to credit"
        )
    left = invoice.total - await _credited(session, ctx, invoice.id)
    if new.amount > left:
        raise InvalidState(
            "CREDIT_EXCEEDS_INVOICE",
            f"The credit notes of invoice {invoice.number} would exceed its total; "
            f"{to_major(max(left, 0), ctx.currency)} {ctx.currency} can still be credited",
        )
    ledger = await Ledger.open(session, ctx, [invoice.customer_id], at=now)
    note = balance.new_credit_note(
        ctx, number=balance.credit_note_number(number), customer_id=invoice.customer_id,
        invoice_id=invoice.id, amount=new.amount, reason=new.reason, reference=new.reference,
        now=now,
    )  # fmt: skip
    session.add(note)
    await session.flush()
    emitted = [balance.issued(ledger, note, invoice.number)]
    due = invoice.total - invoice.amount_paid
    if (
        new.use is CreditUse.INVOICE
        and invoice.status in OPEN_INVOICES
        and due > 0
        and not _collecting(payments)
    ):
        emitted += _allocate(session, ledger, note, invoice, payments, min(new.amount, due))
    await ledger.write()
    await events.emit_many(session, ctx, emitted)
    return await _view(session, ctx, note)


async def allocate_credit_note(
    session: AsyncSession,
    ctx: TenantContext,
    note_id: str,
    invoice_id: str,
    amount: int | None,
    *,
    now: datetime,
) -> CreditNoteView:
    """Apply ``amount`` of a credit note's balance (by default as much as the invoice
    still asks, up to the balance) to an open invoice of the same customer.

    Raises ``CREDIT_NOTE_NOT_FOUND``, ``INVOICE_NOT_FOUND``, ``VALIDATION_ERROR`` (another
    customer's invoice, an amount not above zero), ``CREDIT_NOTE_CANCELLED``,
    ``INVALID_STATUS`` (an invoice not open), ``PAYMENT_PROCESSING``,
    ``INSUFFICIENT_CREDIT`` (more than the note's balance) and ``CREDIT_EXCEEDS_INVOICE``
    (more than the invoice still asks)."""
    if amount is not None and amount <= 0:
        raise ValidationFailed.field("amount", "amount must be above zero", "too_small")
    found = await find_note(session, ctx, note_id)
    invoice, payments = await _invoice_with_payments(session, ctx, invoice_id)
    if invoice.customer_id != found.customer_id:
        raise ValidationFailed.field(
            "invoiceId", "The invoice belongs to another customer than the credit note",
            "different_customer",
        )  # fmt: skip
    ledger = await Ledger.open(session, ctx, [found.customer_id], at=now)
    note = await locked_note(session, ctx, found.id)
    if note.status == CreditNoteStatus.CANCELLED:
        raise cancelled(note)
    if invoice.status not in OPEN_INVOICES:
        raise InvalidState(
            "INVALID_STATUS", f"Invoice {invoice.number} is {invoice.status}, not open"
        )
    if _collecting(payments):
        raise Conflict(
            "PAYMENT_PROCESSING",
            f"A payment of invoice {invoice.number} is being collected; allocate once it ends",
        )
    due = invoice.total - invoice.amount_paid
    wanted = min(note.balance, due) if amount is None else amount
    if wanted <= 0 or wanted > note.balance:
        raise InvalidState(
            "INSUFFICIENT_CREDIT",
            f"Credit note {note.number} has {to_major(note.balance, ctx.currency)} "
            f"{ctx.currency} left",
        )
    if wanted > due:
        raise InvalidState(
            "CREDIT_EXCEEDS_INVOICE",
            f"Invoice {invoice.number} asks for {to_major(max(due, 0), ctx.currency)} "
            f"{ctx.currency} only",
        )
    emitted = _allocate(session, ledger, note, invoice, payments, wanted)
    await ledger.write()
    await events.emit_many(session, ctx, emitted)
    return await _view(session, ctx, note)


async def cancel_credit_note(
    session: AsyncSession, ctx: TenantContext, note_id: str, *, now: datetime
) -> CreditNoteView:
    """Cancel a credit note nothing of which was used: the customer's credit loses it.

    Raises ``CREDIT_NOTE_NOT_FOUND``, ``CREDIT_NOTE_CANCELLED`` and ``INVALID_STATUS``
    (part of it was allocated or refunded)."""
    found = await find_note(session, ctx, note_id)
    ledger = await Ledger.open(session, ctx, [found.customer_id], at=now)
    note = await locked_note(session, ctx, found.id)
    if note.status == CreditNoteStatus.CANCELLED:
        raise cancelled(note)
    if note.balance != note.amount:
        raise InvalidState(
            "INVALID_STATUS",
            f"Part of credit note {note.number} was allocated or refunded; it cannot be cancelled",
        )
    ledger.record(
        note.customer_id, LedgerEntryKind.CREDIT_NOTE_CANCELLED,
        f"Credit note {note.number} cancelled", unapplied=-note.balance,
        invoice_id=note.invoice_id, credit_note_id=note.id,
    )  # fmt: skip
    note.status = CreditNoteStatus.CANCELLED
    note.balance = 0
    note.cancelled_at = now
    note.updated_at = now
    await ledger.write()
    await events.emit(
        session, ctx, EventType.CREDIT_NOTE_CANCELLED,
        balance.credit_note_data(note, ctx.currency, cancelledAt=events.rfc3339(now)),
    )  # fmt: skip
    return await _view(session, ctx, note)


async def allocations_of(
    session: AsyncSession, ctx: TenantContext, note_ids: Sequence[str]
) -> dict[str, list[CreditAllocation]]:
    """The allocations of the credit notes named, oldest first, in one query."""
    by_note: dict[str, list[CreditAllocation]] = {note_id: [] for note_id in note_ids}
    if not note_ids:
        return by_note
    found = await session.scalars(
        select(CreditAllocation)
        .where(
            CreditAllocation.tenant_id == ctx.tenant_id,
            CreditAllocation.credit_note_id.in_(sorted(set(note_ids))),
        )
        .order_by(CreditAllocation.created_at, CreditAllocation.id)
    )
    for row in found:
        by_note[row.credit_note_id].append(row)
    return by_note


async def get_credit_note(
    session: AsyncSession, ctx: TenantContext, note_id: str
) -> CreditNoteView:
    """The credit note with its allocations. Raises ``CREDIT_NOTE_NOT_FOUND``."""
    return await _view(session, ctx, await find_note(session, ctx, note_id))


SORT_ORDERS = SortOrders(columns={"createdAt": CreditNote.created_at}, id_column=CreditNote.id)

FILTERS = FilterSet(
    equals("customerId", CreditNote.customer_id),
    equals("invoiceId", CreditNote.invoice_id),
    one_of("status", CreditNote.status, tuple(CreditNoteStatus)),
)


async def list_credit_notes(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[CreditNoteView]:
    """Credit notes filtered by ``customerId``, ``invoiceId`` and ``status``, with their
    allocations (one more query for the page)."""
    statement = FILTERS.apply(
        select(CreditNote).where(CreditNote.tenant_id == ctx.tenant_id), filters
    )
    notes = await paginate(session, statement, SORT_ORDERS, page)
    allocations = await allocations_of(session, ctx, [note.id for note in notes.items])
    return Page(
        items=[CreditNoteView(note, allocations[note.id]) for note in notes.items],
        limit=notes.limit,
        has_more=notes.has_more,
        next_cursor=notes.next_cursor,
    )
