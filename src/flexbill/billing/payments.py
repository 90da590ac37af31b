"""Scheduled payments as people handle them (FlexPortal's Payments): read one, list them,
record money received outside the gateways (mark paid), cancel one.

Status rules live in ``payment_lifecycle``; money received is recorded by
``settlement.settle``, whoever collected it. Every function works in the caller's
transaction and takes the time it acts at as ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import balance, payment_lifecycle
from flexbill.billing.invoices import cancel_payment_row, date_range, invoices_by_id, mark_void
from flexbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from flexbill.billing.settlement import settle
from flexbill.core.errors import NotFound, ValidationFailed
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.tenancy.context import TenantContext

MANUAL_PROVIDER = "manual"


class Payments(TenantRepository[Payment]):
    model = Payment
    noun = "Payment"

    async def get(self, row_id: str, *, for_update: bool = False) -> Payment:
        """The payment ``row_id`` of this tenant, or ``NOT_FOUND``; with ``for_update``
        locked and re-read, so that its status is what concurrent transactions committed."""
        payment = await self.session.get(
            Payment,
            (self.tenant_id, row_id),
            with_for_update=for_update or None,
            populate_existing=for_update,
        )
        if payment is None:
            raise NotFound(self.noun, row_id)
        return payment


@dataclass(frozen=True)
class PaymentView:
    """A payment with the invoice it collects (its number, totals and lines)."""

    payment: Payment
    invoice: Invoice


@dataclass(frozen=True)
class ManualPayment:
    """Money received outside the gateways (bank transfer, cash, cheque)."""

    paid_at: datetime | None = None  # when it was received; now if not given
    reference: str | None = None  # the bank reference, cheque number, …
    notes: str | None = None


SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Payment.created_at,
        "updatedAt": Payment.updated_at,
        "dueDate": Payment.due_date,
        "amount": Payment.amount,
    },
    id_column=Payment.id,
)

FILTERS = FilterSet(
    one_of("status", Payment.status, tuple(PaymentStatus)),
    equals("customerId", Payment.customer_id),
    equals("rentalId", Payment.rental_id),
    equals("billingGroupId", Payment.billing_group_id),
    *date_range("dueDate", Payment.due_date),
)


async def _invoice_of(session: AsyncSession, ctx: TenantContext, payment: Payment) -> Invoice:
    invoice = await session.get(Invoice, (ctx.tenant_id, payment.invoice_id))
    assert invoice is not None, "a payment without its invoice"
    return invoice


async def _locked_invoice(session: AsyncSession, ctx: TenantContext, payment: Payment) -> Invoice:
    invoice = await session.get(
        Invoice, (ctx.tenant_id, payment.invoice_id), with_for_update=True, populate_existing=True
    )
    assert invoice is not None, "a payment without its invoice"
    return invoice


async def get_payment(session: AsyncSession, ctx: TenantContext, payment_id: str) -> PaymentView:
    """The payment ``payment_id``; ``NOT_FOUND`` outside the caller's tenant."""
    payment = await Payments(session, ctx.tenant_id).get(payment_id)
    return PaymentView(payment, await _invoice_of(session, ctx, payment))


async def list_payments(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PaymentView]:
    """Payments filtered by ``status``, ``customerId``, ``rentalId`` (the individual
    payments of a subscription), ``billingGroupId`` (a group's consolidated payments),
    ``dueDateFrom`` and ``dueDateTo`` (inclusive); the invoices of the whole page come from
    one more query."""
    statement = FILTERS.apply(Payments(session, ctx.tenant_id).select(), filters)
    payments = await paginate(session, statement, SORT_ORDERS, page)
    invoices = await invoices_by_id(session, ctx, [p.invoice_id for p in payments.items])
    return Page(
        items=[PaymentView(p, invoices[p.invoice_id]) for p in payments.items],
        limit=payments.limit,
        has_more=payments.has_more,
        next_cursor=payments.next_cursor,
    )


async def mark_paid(
    session: AsyncSession,
    ctx: TenantContext,
    payment_id: str,
    received: ManualPayment,
    *,
    now: datetime,
) -> PaymentView:
    """Record that a pending or failed payment was paid outside the gateways: it becomes
    ``paid`` (``manuallyMarked``, provider ``manual``), its invoice counts the money, the
    subscriptions it bills and their customer count the revenue, and
    ``payment.succeeded`` is recorded.

    Raises ``NOT_FOUND``, ``ALREADY_PAID``, ``PAYMENT_CANCELLED``, ``PAYMENT_PROCESSING``,
    and ``VALIDATION_ERROR`` for a ``paid_at`` in the future.
    """
    payment = await Payments(session, ctx.tenant_id).get(payment_id, for_update=True)
    payment_lifecycle.mark_paid(PaymentStatus(payment.status))
    paid_at = received.paid_at or now
    if paid_at > now:
        raise ValidationFailed.field(
            "paidAt", "paidAt is when the money was received; it cannot be in the future",
            "too_big",
        )  # fmt: skip
    payment.updated_at = now
    await settle(
        session, ctx, payment, at=paid_at, provider=MANUAL_PROVIDER,
        reference=received.reference, manually=True, notes=received.notes,
    )  # fmt: skip
    return PaymentView(payment, await _invoice_of(session, ctx, payment))


async def cancel_payment(
    session: AsyncSession, ctx: TenantContext, payment_id: str, reason: str, *, now: datetime
) -> PaymentView:
    """Cancel a pending or failed payment with ``reason``: it will never be collected, and
    its invoice becomes void.

    Raises ``NOT_FOUND``, ``ALREADY_PAID``, ``PAYMENT_CANCELLED`` and
    ``PAYMENT_PROCESSING``.
    """
    payment = await Payments(session, ctx.tenant_id).get(payment_id, for_update=True)
    payment_lifecycle.cancel(PaymentStatus(payment.status))
    invoice = await _locked_invoice(session, ctx, payment)
    voiding = invoice.status != InvoiceStatus.VOID
    if voiding:  # checked before anything changes
        payment_lifecycle.void_invoice(
            InvoiceStatus(invoice.status), invoice.amount_paid, invoice.credit_applied
        )
    cancel_payment_row(payment, reason, now)
    if voiding:
        mark_void(invoice, now)
    await session.flush()
    if voiding:
        await balance.invoice_voided(session, ctx, invoice, at=now)
    return PaymentView(payment, invoice)
