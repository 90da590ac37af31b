"""Collecting scheduled payments through the gateways, with retries and dunning.

A payment is due for an attempt when it is ``pending`` and its due date has come, or
``failed`` and its ``next_retry_at`` has come; a ``processing`` payment is one whose
gateway answered ``pending``, and is looked up until it has an answer. Only customers
with auto-charge whose default payment method a gateway can charge are collected
(``manual`` payments are paid through mark-paid, never charged).

One attempt, in one transaction (the job's): the payment is marked ``processing``, the
gateway is called with the idempotency key ``"<paymentId>:attempt:<n>"``, and the answer
is recorded as a ``Transaction`` together with ``capture_attempts`` = n. A worker that
dies after the call and before the commit leaves nothing behind, so the job's next run
makes attempt n again with the same key, and the gateway answers it with the charge it
already made: never a second charge. A gateway that cannot be reached raises
``GatewayUnavailable``; the job fails, nothing is recorded, and the runner retries it
later with the same key.

Then the payment is paid (``settlement.settle``: invoice, collected totals,
``payment.succeeded``), or failed (``last_capture_error``, ``next_retry_at`` per
``retry_schedule``, ``payment.failed`` with the decline), and after its last failure the
dunning outcome applies (``dunning``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import dunning, notices, test_clocks
from flexbill.billing.models import Payment, PaymentStatus
from flexbill.billing.retry_schedule import RetryPolicy, next_attempt_at
from flexbill.billing.settlement import payment_data, settle
from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.core.jobs import Job, enqueue
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.payments import methods
from flexbill.payments.gateway import (
    ChargeStatus,
    GatewayResult,
    GatewayUnavailable,
    ManualGateway,
    PaymentGateway,
)
from flexbill.payments.models import Gateway, PaymentMethod, Transaction, TransactionKind
from flexbill.payments.sandbox import SandboxGateway
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import system_context
from flexbill.worker.registry import handles

log = logging.getLogger(__name__)

COLLECT_DUE = "payments.collect_due"
COLLECT = "payments.collect"
SWEEP_BATCH = 500
MAX_ERROR_LENGTH = 500


class Outcome(StrEnum):
    """What one call of ``collect`` did."""

    PAID = "paid"
    FAILED = "failed"
    PENDING = "pending"  # the gateway has not answered yet
    SKIPPED = "skipped"  # nothing to do: not due, paid, no auto-charge, no method, …


def attempt_key(payment_id: str, attempt: int) -> str:
    """The idempotency key of try number ``attempt`` of a payment."""
    return f"{payment_id}:attempt:{attempt}"


def gateway_for(session: AsyncSession, ctx: TenantContext, name: str) -> PaymentGateway:
    """The gateway a payment method (``name``) charges through, for the tenant."""
    if name == Gateway.SANDBOX:
        return SandboxGateway(session, ctx.tenant_id)
    if name == Gateway.MANUAL:
        return ManualGateway()
    raise ValueError(f"unknown payment gateway {name!r}")


def _attempt_due_at(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Payment.status == PaymentStatus.PENDING, Payment.due_date <= now.date()),
        and_(Payment.status == PaymentStatus.FAILED, Payment.next_retry_at <= now),
    )


def _attempt_due(payment: Payment, now: datetime) -> bool:
    if payment.status == PaymentStatus.PENDING:
        return payment.due_date <= now.date()
    if payment.status == PaymentStatus.FAILED:
        return payment.next_retry_at is not None and payment.next_retry_at <= now
    return False


def _to_collect(now: datetime) -> Select[str, str, str, int]:
    """The payments with something to do at ``now``: an attempt due for a customer with
    auto-charge whose default method a gateway charges, or a pending answer to look up
    (whatever the customer changed since the charge was made)."""
    chargeable_default = and_(
        PaymentMethod.tenant_id == Payment.tenant_id,
        PaymentMethod.customer_id == Payment.customer_id,
        PaymentMethod.is_default.is_(True),
        PaymentMethod.status == methods.PaymentMethodStatus.ACTIVE,
        PaymentMethod.gateway.in_(sorted(methods.CHARGING_GATEWAYS)),
    )
    return (
        select(Payment.tenant_id, Payment.id, Payment.status, Payment.capture_attempts)
        .join(
            Customer,
            and_(Customer.tenant_id == Payment.tenant_id, Customer.id == Payment.customer_id),
        )
        .outerjoin(PaymentMethod, chargeable_default)
        .where(
            or_(
                Payment.status == PaymentStatus.PROCESSING,
                and_(
                    _attempt_due_at(now),
                    Customer.auto_charge.is_(True),
                    PaymentMethod.id.is_not(None),
                ),
            )
        )
    )


async def collect(
    session: AsyncSession, ctx: TenantContext, payment_id: str, now: datetime
) -> Outcome:
    """Make the attempt due on ``payment_id`` at ``now``, or look up its pending answer."""
    payment = await session.get(
        Payment, (ctx.tenant_id, payment_id), with_for_update=True, populate_existing=True
    )
    if payment is None:
        return Outcome.SKIPPED
    if payment.status == PaymentStatus.PROCESSING:
        return await _follow_up(session, ctx, payment, now)
    if not _attempt_due(payment, now):
        return Outcome.SKIPPED
    customer = await session.get(Customer, (ctx.tenant_id, payment.customer_id))
    if customer is None or not customer.auto_charge:
        return Outcome.SKIPPED
    method = await methods.default_method(session, ctx, payment.customer_id)
    if method is None:
        return Outcome.SKIPPED
    gateway = gateway_for(session, ctx, method.gateway)
    if not gateway.charges:
        return Outcome.SKIPPED

    attempt = payment.capture_attempts + 1
    key = attempt_key(payment.id, attempt)
    payment.status = PaymentStatus.PROCESSING
    payment.provider = method.gateway
    payment.payment_method_id = method.id
    await session.flush()
    result = await gateway.charge(
        amount=payment.amount, currency=ctx.currency, token=method.token,
        idempotency_key=key, now=now,
    )  # fmt: skip
    payment.capture_attempts = attempt
    transaction = Transaction(
        tenant_id=ctx.tenant_id, id=new_id("txn"), payment_id=payment.id,
        customer_id=payment.customer_id, payment_method_id=method.id, gateway=method.gateway,
        kind=TransactionKind.CHARGE, attempt=attempt, amount=payment.amount,
        status=result.status.value, decline_code=result.decline_code,
        decline_reason=result.decline_reason, gateway_reference=result.reference,
        idempotency_key=key, response=result.raw,
    )  # fmt: skip
    session.add(transaction)
    await session.flush()
    return await _record_answer(session, ctx, payment, transaction, result, now)


async def _follow_up(
    session: AsyncSession, ctx: TenantContext, payment: Payment, now: datetime
) -> Outcome:
    """Ask the gateway how the pending charge of the latest attempt ended."""
    statement = (
        select(Transaction)
        .where(
            Transaction.tenant_id == ctx.tenant_id,
            Transaction.payment_id == payment.id,
            Transaction.attempt == payment.capture_attempts,
            Transaction.status == ChargeStatus.PENDING,
        )
        .with_for_update()
    )
    transaction = (await session.scalars(statement)).first()
    if transaction is None or transaction.gateway_reference is None:
        log.warning("payment %s is processing without a pending charge", payment.id)
        return Outcome.SKIPPED
    gateway = gateway_for(session, ctx, transaction.gateway)
    result = await gateway.lookup(transaction.gateway_reference, now=now)
    if result.status is ChargeStatus.PENDING:
        return Outcome.PENDING
    transaction.status = result.status.value
    transaction.decline_code = result.decline_code
    transaction.decline_reason = result.decline_reason
    transaction.response = result.raw
    await session.flush()
    return await _record_answer(session, ctx, payment, transaction, result, now)


async def _record_answer(
    session: AsyncSession,
    ctx: TenantContext,
    payment: Payment,
    transaction: Transaction,
    result: GatewayResult,
    now: datetime,
) -> Outcome:
    if result.status is ChargeStatus.SUCCEEDED:
        payment.last_capture_error = None
        await settle(
            session, ctx, payment, at=now, provider=transaction.gateway, reference=result.reference
        )
        return Outcome.PAID
    if result.status is ChargeStatus.PENDING:
        payment.next_retry_at = None
        await session.flush()
        return Outcome.PENDING
    await _fail(session, ctx, payment, transaction, result, now)
    return Outcome.FAILED


def _error_text(result: GatewayResult) -> str:
    code = result.decline_code or "declined"
    text = f"{code}: {result.decline_reason}" if result.decline_reason else code
    return text[:MAX_ERROR_LENGTH]


async def _fail(
    session: AsyncSession,
    ctx: TenantContext,
    payment: Payment,
    transaction: Transaction,
    result: GatewayResult,
    now: datetime,
) -> None:
    retry = (await get_settings(session, ctx)).payment_retry
    payment.status = PaymentStatus.FAILED
    payment.last_capture_error = _error_text(result)
    payment.next_retry_at = next_attempt_at(RetryPolicy.of(retry), payment.capture_attempts, now)
    final = payment.next_retry_at is None
    await session.flush()
    await events.emit(
        session, ctx, EventType.PAYMENT_FAILED,
        payment_data(
            payment, ctx.currency, captureAttempts=payment.capture_attempts,
            transactionId=transaction.id, declineCode=result.decline_code,
            declineReason=result.decline_reason, failureReason=payment.last_capture_error,
            nextRetryAt=(
                None if payment.next_retry_at is None else events.rfc3339(payment.next_retry_at)
            ),
            finalAttempt=final,
        ),
    )  # fmt: skip
    await notices.payment_failed(session, ctx, payment, payment.last_capture_error)
    if final:
        await dunning.apply_final_outcome(session, ctx, payment, retry.final_outcome, at=now)


async def collect_for_customers(
    session: AsyncSession, ctx: TenantContext, now: datetime, customer_ids: Sequence[str]
) -> dict[str, Outcome]:
    """Collect, at ``now``, every payment of ``customer_ids`` due for an attempt or a
    look-up, in this transaction (a test clock's step: its customers live on its time).
    A gateway that cannot be reached leaves its payment as it was, for the next step."""
    if not customer_ids:
        return {}
    statement = (
        _to_collect(now)
        .where(
            Payment.tenant_id == ctx.tenant_id,
            Payment.customer_id.in_(sorted(customer_ids)),
        )
        .order_by(Payment.due_date, Payment.id)
    )
    outcomes: dict[str, Outcome] = {}
    for row in (await session.execute(statement)).all():
        try:
            async with session.begin_nested():
                outcomes[row.id] = await collect(session, ctx, row.id, now)
        except GatewayUnavailable as error:
            log.warning("payment %s not collected at %s: %s", row.id, now.isoformat(), error)
    return outcomes


async def collect_on_test_clock(
    session: AsyncSession, ctx: TenantContext, moment: datetime, customer_ids: Sequence[str]
) -> None:
    """A test clock's step: collect its customers' payments at the clock's ``moment``."""
    await collect_for_customers(session, ctx, moment, customer_ids)


if collect_on_test_clock not in test_clocks.STEPS:
    # After the billing run's step (which puts itself first): a period is invoiced before
    # its payment can be collected.
    test_clocks.STEPS.append(collect_on_test_clock)


def _job_key(payment_id: str, status: str, capture_attempts: int, slot: str) -> str:
    """One job per payment and attempt; a pending answer is looked up once per slot."""
    if status == PaymentStatus.PROCESSING:
        return f"{COLLECT}:{payment_id}:{capture_attempts}:check:{slot}"
    return f"{COLLECT}:{payment_id}:{capture_attempts + 1}"


@handles(COLLECT_DUE)
async def enqueue_due_collections(session: AsyncSession, job: Job) -> None:
    """The periodic sweep: a ``payments.collect`` job per payment due for an attempt (or a
    look-up), over every tenant, in keyset batches. Customers attached to a test clock are
    collected by their clock instead."""
    now = clock.now()
    slot = str(job.payload.get("slot") or now.isoformat())
    after: tuple[str, str] | None = None
    while True:
        statement = _to_collect(now).where(Customer.test_clock_id.is_(None))
        if after is not None:
            statement = statement.where(tuple_(Payment.tenant_id, Payment.id) > tuple_(*after))
        statement = statement.order_by(Payment.tenant_id, Payment.id).limit(SWEEP_BATCH)
        rows = (await session.execute(statement)).all()
        for row in rows:
            await enqueue(
                session, COLLECT, {"paymentId": row.id}, tenant_id=row.tenant_id,
                dedup_key=_job_key(row.id, row.status, row.capture_attempts, slot),
            )  # fmt: skip
        if len(rows) < SWEEP_BATCH:
            return
        after = (rows[-1].tenant_id, rows[-1].id)


@handles(COLLECT)
async def collect_payment(session: AsyncSession, job: Job) -> None:
    """Collect one payment (``payload.paymentId``) of the job's tenant, at the real time."""
    if job.tenant_id is None:
        raise ValueError("a payments.collect job names its tenant")
    ctx = await system_context(session, job.tenant_id)
    await collect(session, ctx, str(job.payload["paymentId"]), clock.now())
