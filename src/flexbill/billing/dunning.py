"""Dunning: what happens to a payment whose last try failed, and to its subscriptions.

Its invoice becomes ``uncollectible`` (money can still arrive: paying it later settles it).

The business unit chooses (``payment_retry.final_outcome``): the subscriptions stay
active, are suspended (no longer billed; paying the payment later makes them active again,
see ``settlement``), or are cancelled (the contract ends and the unit comes back, as a
cancellation with the reason ``payment_failure``). Each change writes a history entry
naming the payment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import Invoice, InvoiceStatus, Payment
from flexbill.events.service import rfc3339
from flexbill.settings.rules import DunningOutcome
from flexbill.subscriptions.closing import close
from flexbill.subscriptions.details import CancellationDetails
from flexbill.subscriptions.lifecycle import SubscriptionStatus, is_live
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.tenancy.context import TenantContext

UNPAID = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID})
SUSPENDED_ACTION = "suspended_for_non_payment"
CANCELLED_ACTION = "cancelled_for_non_payment"


def suspend(
    subscription: Subscription, ctx: TenantContext, *, at: datetime, payment_id: str
) -> bool:
    """Suspend the active ``subscription`` (locked by the caller) for non-payment; whether
    it was active."""
    if subscription.status != SubscriptionStatus.ACTIVE:
        return False
    subscription.status = SubscriptionStatus.SUSPENDED
    record(
        subscription, ctx, SUSPENDED_ACTION, at,
        from_status=SubscriptionStatus.ACTIVE, payment_id=payment_id,
    )  # fmt: skip
    return True


async def cancel(
    session: AsyncSession,
    ctx: TenantContext,
    subscription: Subscription,
    *,
    at: datetime,
    payment_id: str,
) -> bool:
    """Cancel the live ``subscription`` (active, or suspended by an earlier payment;
    locked by the caller) for non-payment; whether it was live."""
    if not is_live(subscription.status):
        return False
    details = CancellationDetails(
        reason="payment_failure", notes=None, processed_by=ctx.actor, cancelled_at=rfc3339(at)
    )
    subscription.cancellation_details = dict(details)
    await close(
        session, ctx, subscription, status=SubscriptionStatus.CANCELLED, end_reason=None,
        asset_status="returned", action=CANCELLED_ACTION, at=at, payment_id=payment_id,
    )  # fmt: skip
    return True


async def apply_final_outcome(
    session: AsyncSession,
    ctx: TenantContext,
    payment: Payment,
    outcome: DunningOutcome,
    *,
    at: datetime,
) -> list[str]:
    """Mark ``payment``'s invoice ``uncollectible`` and apply ``outcome`` to every
    subscription it bills (one, or a billing group's members); the ids of the
    subscriptions it changed. Paying later still settles the invoice."""
    invoice = await session.get(
        Invoice, (ctx.tenant_id, payment.invoice_id), with_for_update=True, populate_existing=True
    )
    if invoice is not None and invoice.status in UNPAID:
        invoice.status = InvoiceStatus.UNCOLLECTIBLE
    if outcome is DunningOutcome.STAY_ACTIVE:
        await session.flush()
        return []
    changed = []
    for subscription in await _billed_subscriptions(session, ctx, invoice, payment):
        if outcome is DunningOutcome.SUSPEND:
            done = suspend(subscription, ctx, at=at, payment_id=payment.id)
        else:
            done = await cancel(session, ctx, subscription, at=at, payment_id=payment.id)
        if done:
            changed.append(subscription.id)
    await session.flush()
    return changed


async def _billed_subscriptions(
    session: AsyncSession, ctx: TenantContext, invoice: Invoice | None, payment: Payment
) -> list[Subscription]:
    """The subscriptions ``payment``'s invoice bills, locked in id order (two payments of
    one group never deadlock)."""
    lines = invoice.lines if invoice is not None else []
    ids = {line.subscription_id for line in lines if line.subscription_id is not None}
    if payment.rental_id is not None:
        ids.add(payment.rental_id)
    if not ids:
        return []
    statement = (
        select(Subscription)
        .where(Subscription.tenant_id == ctx.tenant_id, Subscription.id.in_(sorted(ids)))
        .order_by(Subscription.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(statement)).all())
