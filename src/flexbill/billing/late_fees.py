"""Late fees: a fee added to a payment still unpaid a grace period after its due date.

A payment is late at ``today`` when it is ``pending`` or ``failed`` and
``due_date + grace_period_days < today``: the whole grace period has passed and the
money has not come. A late payment gets one fee, ever (``late_fee_applied``): flat
(``amount``) or a ``percentage`` of the payment's ``original_amount``, rounded half up
once to the minor unit. The fee raises what the payment asks for (``amount`` =
``original_amount`` + fee) and lands on its invoice as a ``late_fee`` line without VAT
(a penalty, not a supply), raising the invoice's ``subtotal`` and ``total`` alike, so that
collecting the payment pays the invoice in full. The line names no subscription, on an
individual invoice as on a group's: a subscription's ``total_collected`` (and a
customer's ``lifetime_collected``) count what its rentals earned, never penalties.

Rows are locked as the payments API locks them, payment first and then its invoice, so
a fee and a mark-paid (or a charge) of the same payment take turns: whichever comes
second sees what the first did. A payment locked elsewhere on PostgreSQL is skipped and
gets its fee on the next run, if it is still unpaid then.

The hourly ``billing.late_fees`` job applies fees on the real time; customers attached to
a test clock get theirs from the clock's advance, after that moment's collection (a
payment collected at a moment is not late at it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance, collection, notices, test_clocks
from flexbill.billing.models import Invoice, InvoiceLine, LineKind, Payment, PaymentStatus
from flexbill.core import clock
from flexbill.core.jobs import Job
from flexbill.customers.models import Customer
from flexbill.settings.rules import LateFees, LateFeeType
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.service import system_context
from flexbill.worker.registry import handles

APPLY_LATE_FEES = "billing.late_fees"

BATCH = 200
"""Payments loaded and locked at a time."""

LINE_DESCRIPTION = "Late fee"
UNPAID = (PaymentStatus.PENDING, PaymentStatus.FAILED)


def late_fee(rules: LateFees, original_amount: int) -> int:
    """The fee, in minor units, for a payment of ``original_amount`` under ``rules``
    (whether fees are enabled is the caller's question). Pure."""
    if rules.type is LateFeeType.FLAT:
        return rules.amount or 0
    percentage = rules.percentage or Decimal(0)
    fee = (Decimal(original_amount) * percentage / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(fee)


def is_late(due_date: date, grace_period_days: int, today: date) -> bool:
    """Whether a payment due on ``due_date`` and still unpaid is late on ``today``: the
    whole grace period after the due date has passed. Pure."""
    return due_date + timedelta(days=grace_period_days) < today


def _last_on_time_due_date(grace_period_days: int, today: date) -> date:
    """The due dates later than this one are not late on ``today`` (``is_late``'s bound)."""
    return today - timedelta(days=grace_period_days)


def _on_real_time(customer_ids: Sequence[str] | None) -> ColumnElement[bool]:
    """The customers named (a test clock's), or every customer not attached to a clock."""
    if customer_ids is not None:
        return Payment.customer_id.in_(sorted(customer_ids))
    return ~exists().where(
        Customer.tenant_id == Payment.tenant_id,
        Customer.id == Payment.customer_id,
        Customer.test_clock_id.is_not(None),
    )


def _without_fee(due_before: date) -> ColumnElement[bool]:
    return and_(
        Payment.status.in_(UNPAID),
        Payment.late_fee_applied.is_(False),
        Payment.due_date < due_before,
    )


def _locking(session: AsyncSession, statement: Select[Payment]) -> Select[Payment]:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(of=Payment, skip_locked=True)
    return statement.execution_options(populate_existing=True)


async def _locked_invoices(
    session: AsyncSession, tenant_id: str, invoice_ids: Sequence[str]
) -> dict[str, Invoice]:
    statement = (
        select(Invoice)
        .where(Invoice.tenant_id == tenant_id, Invoice.id.in_(sorted(invoice_ids)))
        .order_by(Invoice.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {invoice.id: invoice for invoice in await session.scalars(statement)}


def _charge(payment: Payment, invoice: Invoice, fee: int, now: datetime) -> None:
    position = max((line.position for line in invoice.lines), default=0) + 1
    line = InvoiceLine(
        tenant_id=invoice.tenant_id, invoice_id=invoice.id, position=position,
        kind=LineKind.LATE_FEE, description=LINE_DESCRIPTION,
        subscription_id=None, quantity=1, unit_amount=fee, amount=fee,
        tax_amount=0, total=fee,
    )  # fmt: skip
    invoice.lines.append(line)
    invoice.subtotal += fee
    invoice.total += fee
    invoice.updated_at = now
    payment.late_fee_applied = True
    payment.late_fee_amount = fee
    payment.amount = payment.original_amount + fee
    payment.updated_at = now


async def apply_late_fees(
    session: AsyncSession,
    ctx: TenantContext,
    now: datetime,
    *,
    customer_ids: Sequence[str] | None = None,
) -> int:
    """Charge the late fee of every payment of the tenant that is late at ``now`` and has
    none yet; the number of fees charged. Nothing while the tenant's late fees are off.

    ``customer_ids`` charges only those customers (a test clock's); otherwise customers
    attached to a test clock are left to their clock."""
    rules = (await get_settings(session, ctx)).late_fees
    if not rules.enabled:
        return 0
    due_before = _last_on_time_due_date(rules.grace_period_days, now.date())
    charged = 0
    after = ""
    while True:
        statement = (
            select(Payment)
            .where(
                Payment.tenant_id == ctx.tenant_id,
                _without_fee(due_before),
                _on_real_time(customer_ids),
                Payment.id > after,
            )
            .order_by(Payment.id)
            .limit(BATCH)
        )
        payments = list(await session.scalars(_locking(session, statement)))
        invoices = await _locked_invoices(session, ctx.tenant_id, [p.invoice_id for p in payments])
        changed = []
        fees = []
        for payment in payments:
            fee = late_fee(rules, payment.original_amount)
            if fee > 0:  # a fee of nothing is no fee: the payment stays as it was
                _charge(payment, invoices[payment.invoice_id], fee, now)
                changed.append(invoices[payment.invoice_id])
                fees.append((invoices[payment.invoice_id], fee))
        charged += len(changed)
        await session.flush()
        await balance.late_fees_charged(session, ctx, fees, at=now)
        await notices.invoices_changed(session, ctx, changed)
        if len(payments) < BATCH:
            return charged
        after = payments[-1].id


async def tenants_with_late_payments(session: AsyncSession, today: date) -> list[str]:
    """Tenants with a payment past its due date without a fee (on the real time), late
    whatever their grace period: each tenant's own rules decide which ones are late."""
    statement = (
        select(Payment.tenant_id)
        .where(_without_fee(today), _on_real_time(None))
        .distinct()
        .order_by(Payment.tenant_id)
    )
    return list(await session.scalars(statement))


@handles(APPLY_LATE_FEES)
async def apply_due_late_fees(session: AsyncSession, job: Job) -> None:
    """The periodic run: late fees of every tenant whose late fees are enabled, on the
    real time. Customers attached to a test clock get theirs from their clock."""
    now = clock.now()
    for tenant_id in await tenants_with_late_payments(session, now.date()):
        await apply_late_fees(session, await system_context(session, tenant_id), now)


async def apply_late_fees_on_test_clock(
    session: AsyncSession, ctx: TenantContext, moment: datetime, customer_ids: Sequence[str]
) -> None:
    """A test clock's step: charge its customers' late fees at the clock's ``moment``."""
    if customer_ids:
        await apply_late_fees(session, ctx, moment, customer_ids=customer_ids)


if apply_late_fees_on_test_clock not in test_clocks.STEPS:
    # Right after collection (whose module, imported above, has added its step): a
    # payment collected at a moment is not late at that moment.
    test_clocks.STEPS.insert(
        test_clocks.STEPS.index(collection.collect_on_test_clock) + 1,
        apply_late_fees_on_test_clock,
    )
