"""Refunding a credit note: its credit given back as money, through a gateway.

The money goes back the way it came: through the gateway of the payment that paid the
credit note's invoice, against that payment's successful charge. An invoice paid without
a gateway charge (marked paid, or paid by credit) is refunded as a ``manual`` transaction:
money the business sends itself, recorded as it is made.

Each attempt calls the gateway with the idempotency key ``<creditNoteId>:refund:<n>``,
``n`` counting the note's refund transactions. A request that dies after the gateway
answered and before its commit leaves no transaction behind, so asking again makes the
same attempt ``n`` with the same key, and the gateway answers it with the refund it
already made: never a second refund.

A refund the gateway makes (or accepts, ``pending``) is a ``Transaction`` of kind
``refund``, an allocation of the note (kind ``refund``) and a ``credit_refunded`` entry
of the customer's ledger. A refund the gateway declines, or a gateway that cannot be
reached, is ``REFUND_FAILED``: the credit stays on the note and nothing is kept in
flexbill's database (an error answer rolls back the whole request). The gateway's
answer is in the error's details and, for a gateway that keeps its declines, on the
gateway's side under the attempt's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance
from flexbill.billing.collection import gateway_for
from flexbill.billing.credit_notes import (
    CreditNoteView,
    allocations_of,
    cancelled,
    find_note,
    locked_note,
)
from flexbill.billing.ledger import Ledger
from flexbill.billing.models import CreditNote, CreditNoteStatus, Payment, PaymentStatus
from flexbill.core.errors import ErrorDetail, FlexbillError, InvalidState, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.money import to_major
from flexbill.customers.models import LedgerEntryKind
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.payments.gateway import (
    ChargeStatus,
    GatewayResult,
    GatewayUnavailable,
    ManualGateway,
    PaymentGateway,
)
from flexbill.payments.models import Transaction, TransactionKind
from flexbill.payments.sandbox import IdempotencyKeyReused
from flexbill.tenancy.context import TenantContext

TRANSACTION_PREFIX = "txn"


def refund_key(note_id: str, attempt: int) -> str:
    """The idempotency key of refund attempt ``attempt`` of a credit note."""
    return f"{note_id}:refund:{attempt}"


@dataclass(frozen=True)
class Refunded:
    view: CreditNoteView
    transaction: Transaction


@dataclass(frozen=True)
class _Route:
    """Where the money goes back: a gateway, the charge it came in by, the payment."""

    gateway: PaymentGateway
    charge: Transaction | None
    payment: Payment | None


async def _route(session: AsyncSession, ctx: TenantContext, note: CreditNote) -> _Route:
    payment = None
    if note.invoice_id is not None:
        payment = await session.scalar(
            select(Payment)
            .where(
                Payment.tenant_id == ctx.tenant_id,
                Payment.invoice_id == note.invoice_id,
                Payment.status == PaymentStatus.PAID,
            )
            .order_by(Payment.paid_at.desc(), Payment.id)
            .limit(1)
        )
    charge = None
    if payment is not None:
        charge = await session.scalar(
            select(Transaction)
            .where(
                Transaction.tenant_id == ctx.tenant_id,
                Transaction.payment_id == payment.id,
                Transaction.kind == TransactionKind.CHARGE,
                Transaction.status == ChargeStatus.SUCCEEDED,
            )
            .order_by(Transaction.attempt.desc())
            .limit(1)
        )
    if charge is None:
        return _Route(ManualGateway(), None, payment)
    return _Route(gateway_for(session, ctx, charge.gateway), charge, payment)


async def _attempts(session: AsyncSession, ctx: TenantContext, note_id: str) -> int:
    made = await session.scalar(
        select(func.count())
        .select_from(Transaction)
        .where(
            Transaction.tenant_id == ctx.tenant_id,
            Transaction.idempotency_key.startswith(f"{note_id}:refund:", autoescape=True),
        )
    )
    return int(made or 0)


def refund_failed(message: str, result: GatewayResult | None = None) -> FlexbillError:
    details = []
    if result is not None:
        reason = result.decline_reason or "The gateway declined the refund"
        details.append(ErrorDetail(path="", message=reason, code=result.decline_code or "declined"))
    return InvalidState("REFUND_FAILED", message, details)


async def _ask(
    route: _Route, *, amount: int, currency: str, key: str, now: datetime
) -> GatewayResult:
    reference = route.charge.gateway_reference if route.charge is not None else None
    try:
        result = await route.gateway.refund(
            charge_reference=reference, amount=amount, currency=currency,
            idempotency_key=key, now=now,
        )  # fmt: skip
    except GatewayUnavailable:
        raise refund_failed(
            f"The {route.gateway.name} gateway could not be reached; nothing was refunded. "
            "Try again later"
        ) from None
    except IdempotencyKeyReused:
        raise refund_failed(
            f"A refund of another amount was already made under {key}; ask for the same "
            "amount to record it"
        ) from None
    if result.status is ChargeStatus.FAILED:
        raise refund_failed(
            f"The {route.gateway.name} gateway declined the refund; the credit stays", result
        )
    return result


async def refund_credit_note(
    session: AsyncSession,
    ctx: TenantContext,
    note_id: str,
    amount: int | None,
    *,
    now: datetime,
) -> Refunded:
    """Give back ``amount`` of a credit note's balance (all of it by default) as money.

    Raises ``CREDIT_NOTE_NOT_FOUND``, ``CREDIT_NOTE_CANCELLED``, ``VALIDATION_ERROR`` (an
    amount not above zero), ``INSUFFICIENT_CREDIT`` (more than the balance, or nothing
    left) and ``REFUND_FAILED`` (declined, or the gateway unreachable)."""
    if amount is not None and amount <= 0:
        raise ValidationFailed.field("amount", "amount must be above zero", "too_small")
    found = await find_note(session, ctx, note_id)
    ledger = await Ledger.open(session, ctx, [found.customer_id], at=now)
    note = await locked_note(session, ctx, found.id)
    if note.status == CreditNoteStatus.CANCELLED:
        raise cancelled(note)
    wanted = note.balance if amount is None else amount
    if not 0 < wanted <= note.balance:
        raise InvalidState(
            "INSUFFICIENT_CREDIT",
            f"Credit note {note.number} has {to_major(note.balance, ctx.currency)} "
            f"{ctx.currency} left to refund",
        )
    route = await _route(session, ctx, note)
    attempt = await _attempts(session, ctx, note.id) + 1
    key = refund_key(note.id, attempt)
    result = await _ask(route, amount=wanted, currency=ctx.currency, key=key, now=now)
    transaction = Transaction(
        tenant_id=ctx.tenant_id, id=new_id(TRANSACTION_PREFIX),
        payment_id=route.payment.id if route.payment is not None else None,
        customer_id=note.customer_id,
        payment_method_id=route.charge.payment_method_id if route.charge is not None else None,
        gateway=route.gateway.name, kind=TransactionKind.REFUND, attempt=attempt,
        amount=wanted, status=result.status.value, decline_code=result.decline_code,
        decline_reason=result.decline_reason, gateway_reference=result.reference,
        idempotency_key=key, response=result.raw, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(transaction)
    await session.flush()
    note.balance -= wanted
    note.status = balance.note_status(note)
    note.updated_at = now
    session.add(
        balance.allocation(
            ctx, note, balance.AllocationKind.REFUND, wanted, now, transaction_id=transaction.id
        )
    )
    ledger.record(
        note.customer_id, LedgerEntryKind.CREDIT_REFUNDED,
        f"Credit note {note.number} refunded through {route.gateway.name}",
        unapplied=-wanted, invoice_id=note.invoice_id, payment_id=transaction.payment_id,
        credit_note_id=note.id, transaction_id=transaction.id,
    )  # fmt: skip
    await ledger.write()
    await events.emit(
        session, ctx, EventType.CREDIT_NOTE_REFUNDED,
        balance.credit_note_data(
            note, ctx.currency, refundedAmount=to_major(wanted, ctx.currency),
            transactionId=transaction.id, gateway=transaction.gateway,
            refundStatus=transaction.status,
        ),
    )  # fmt: skip
    allocations = await allocations_of(session, ctx, [note.id])
    return Refunded(CreditNoteView(note, allocations[note.id]), transaction)
