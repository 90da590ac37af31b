"""Money received for a scheduled payment: the one place that records it, whether a
gateway collected it or a person marked it paid.

The payment becomes ``paid``; its invoice counts the amount (``paid`` or
``partially_paid``); each subscription it bills adds its lines' net amounts to
``total_collected`` (cost recovery counts revenue, not the VAT passed on to the state) and
the customer's ``lifetime_collected`` grows by the same; a subscription suspended for
non-payment is active again; ``payment.succeeded`` is recorded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance
from flexbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from flexbill.core.money import to_major
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.subscriptions.lifecycle import SubscriptionStatus
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.tenancy.context import TenantContext


def payment_data(payment: Payment, currency: str, **extra: Any) -> dict[str, Any]:
    """The ``data`` of ``payment.*`` events (FlexPortal's payment fields)."""
    return {
        "paymentId": payment.id,
        "customerId": payment.customer_id,
        "rentalId": payment.rental_id,
        "subscriptionId": payment.rental_id,
        "billingGroupId": payment.billing_group_id,
        "invoiceId": payment.invoice_id,
        "billingPeriod": payment.billing_period,
        "amount": to_major(payment.amount, currency),
        "currency": currency,
        "dueDate": payment.due_date.isoformat(),
        "status": payment.status,
        **extra,
    }


async def settle(
    session: AsyncSession,
    ctx: TenantContext,
    payment: Payment,
    *,
    at: datetime,
    provider: str | None = None,
    reference: str | None = None,
    manually: bool = False,
    notes: str | None = None,
) -> None:
    """Record that ``payment`` (locked by the caller, not yet paid) was paid ``at``."""
    payment.status = PaymentStatus.PAID
    payment.paid_at = at
    payment.next_retry_at = None
    payment.manually_marked = manually
    if provider is not None:
        payment.provider = provider
    if reference is not None:
        payment.payment_reference = reference
    if notes is not None:
        payment.notes = notes

    invoice = await session.get(
        Invoice, (ctx.tenant_id, payment.invoice_id), with_for_update=True, populate_existing=True
    )
    assert invoice is not None, "a payment without its invoice"
    invoice.amount_paid += payment.amount
    invoice.status = (
        InvoiceStatus.PAID if invoice.amount_paid >= invoice.total else InvoiceStatus.PARTIALLY_PAID
    )
    invoice.paid_at = at

    revenue: dict[str, int] = defaultdict(int)
    for line in invoice.lines:
        if line.subscription_id is not None:
            revenue[line.subscription_id] += line.amount
    if revenue:
        subscriptions = await session.scalars(
            select(Subscription)
            .where(Subscription.tenant_id == ctx.tenant_id, Subscription.id.in_(sorted(revenue)))
            .order_by(Subscription.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for subscription in subscriptions:
            subscription.total_collected += revenue[subscription.id]
            if subscription.status == SubscriptionStatus.SUSPENDED:
                subscription.status = SubscriptionStatus.ACTIVE
                record(
                    subscription, ctx, "reactivated", at,
                    from_status=SubscriptionStatus.SUSPENDED, payment_id=payment.id,
                )  # fmt: skip
    customer = await session.get(
        Customer, (ctx.tenant_id, payment.customer_id), with_for_update=True, populate_existing=True
    )
    assert customer is not None, "a payment without its customer"
    customer.lifetime_collected += sum(revenue.values())
    await session.flush()
    await balance.payment_received(session, ctx, payment, at=at)
    await events.emit(
        session, ctx, EventType.PAYMENT_SUCCEEDED,
        payment_data(payment, ctx.currency, paidAt=at.isoformat()),
    )  # fmt: skip
