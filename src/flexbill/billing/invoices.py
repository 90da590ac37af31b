"""Reading invoices (one with its lines, the filtered list) and voiding one.

An invoice is what one subscription or billing group owes for one period; its scheduled
payment is the ``Payment`` whose ``idempotency_key`` is the invoice's ``billing_key``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from flexbill.billing import balance, payment_lifecycle
from flexbill.billing.models import Invoice, InvoiceStatus, Payment, PaymentStatus
from flexbill.core.filtering import Filter, FilterSet, FilterValueError, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.tenancy.context import TenantContext

DEFAULT_VOID_REASON = "Invoice voided"


class Invoices(TenantRepository[Invoice]):
    model = Invoice
    noun = "Invoice"


def parse_day(name: str, value: str) -> date:
    """A date filter's value: ``2025-01-31``, or the date of an ISO 8601 time."""
    text = value.strip()
    try:
        if len(text) > 10 and text[10] in "Tt ":
            return datetime.fromisoformat(text).date()
        return date.fromisoformat(text)
    except ValueError:
        raise FilterValueError(f"{name} must be a date (YYYY-MM-DD)", "invalid_date") from None


def date_range(prefix: str, column: InstrumentedAttribute[date]) -> tuple[Filter, Filter]:
    """``<prefix>From`` and ``<prefix>To`` filters, both inclusive."""

    def since(value: str) -> ColumnElement[bool]:
        return column >= parse_day(f"{prefix}From", value)

    def until(value: str) -> ColumnElement[bool]:
        return column <= parse_day(f"{prefix}To", value)

    return Filter(f"{prefix}From", since), Filter(f"{prefix}To", until)


SORT_ORDERS = SortOrders(
    columns={"createdAt": Invoice.created_at, "dueDate": Invoice.due_date},
    id_column=Invoice.id,
)

FILTERS = FilterSet(
    one_of("status", Invoice.status, tuple(InvoiceStatus)),
    equals("customerId", Invoice.customer_id),
    equals("subscriptionId", Invoice.subscription_id),
    equals("billingGroupId", Invoice.billing_group_id),
    *date_range("dueDate", Invoice.due_date),
)


def amount_due(invoice: Invoice) -> int:
    """What is still owed: nothing on a void invoice, never below zero."""
    if invoice.status == InvoiceStatus.VOID:
        return 0
    return max(invoice.total - invoice.amount_paid, 0)


async def get_invoice(session: AsyncSession, ctx: TenantContext, invoice_id: str) -> Invoice:
    """The invoice with its lines; ``NOT_FOUND`` outside the caller's tenant."""
    return await Invoices(session, ctx.tenant_id).get(invoice_id)


async def list_invoices(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Invoice]:
    """Invoices filtered by ``status``, ``customerId``, ``subscriptionId``,
    ``billingGroupId``, ``dueDateFrom`` and ``dueDateTo``; the lines of the whole page come
    from one more query."""
    statement = FILTERS.apply(Invoices(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)


async def invoices_by_id(
    session: AsyncSession, ctx: TenantContext, invoice_ids: Sequence[str]
) -> dict[str, Invoice]:
    """The invoices named, with their lines, in one query."""
    if not invoice_ids:
        return {}
    statement = (
        Invoices(session, ctx.tenant_id).select().where(Invoice.id.in_(sorted(set(invoice_ids))))
    )
    return {invoice.id: invoice for invoice in await session.scalars(statement)}


async def locked_payments(
    session: AsyncSession, ctx: TenantContext, invoice: Invoice
) -> list[Payment]:
    """The payments of ``invoice``, locked and re-read (found through the unique index of
    the billing key, which every invoice's payment carries as its idempotency key)."""
    statement = (
        select(Payment)
        .where(
            Payment.tenant_id == ctx.tenant_id,
            Payment.idempotency_key == invoice.billing_key,
            Payment.invoice_id == invoice.id,
        )
        .order_by(Payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(statement))


def mark_void(invoice: Invoice, at: datetime) -> None:
    """Void ``invoice`` (locked by the caller). Raises ``INVALID_STATUS`` unless no money
    was paid for it (customer credit may have been)."""
    invoice.status = payment_lifecycle.void_invoice(
        InvoiceStatus(invoice.status), invoice.amount_paid, invoice.credit_applied
    )
    invoice.voided_at = at
    invoice.updated_at = at


def cancel_payment_row(payment: Payment, reason: str, at: datetime) -> None:
    """Cancel ``payment`` (locked by the caller). Raises ``ALREADY_PAID``,
    ``PAYMENT_CANCELLED`` or ``PAYMENT_PROCESSING``."""
    payment.status = payment_lifecycle.cancel(PaymentStatus(payment.status))
    payment.cancellation_reason = reason
    payment.cancelled_at = at
    payment.next_retry_at = None
    payment.updated_at = at


async def void_invoice(
    session: AsyncSession,
    ctx: TenantContext,
    invoice_id: str,
    *,
    now: datetime,
    reason: str | None = None,
) -> Invoice:
    """Void an invoice no money was paid for; its pending or failed payment is cancelled
    with ``reason``, and customer credit applied to it goes back to the customer
    (``balance.invoice_voided``).

    Raises ``NOT_FOUND``, ``INVALID_STATUS`` (paid with money, void, or partly paid with
    money) and ``PAYMENT_PROCESSING`` while a collection attempt for it runs.
    """
    invoices = Invoices(session, ctx.tenant_id)
    found = await invoices.get(invoice_id)
    # Payment before invoice: the order in which settling and cancelling lock them too.
    payments = await locked_payments(session, ctx, found)
    invoice = await session.get(
        Invoice, (ctx.tenant_id, found.id), with_for_update=True, populate_existing=True
    )
    assert invoice is not None, "an invoice vanished while locked"
    open_payments = [p for p in payments if p.status != PaymentStatus.CANCELLED]
    # Every rule is checked before anything changes.
    payment_lifecycle.void_invoice(
        InvoiceStatus(invoice.status), invoice.amount_paid, invoice.credit_applied
    )
    for payment in open_payments:
        payment_lifecycle.cancel(PaymentStatus(payment.status))
    mark_void(invoice, now)
    for payment in open_payments:
        cancel_payment_row(payment, reason or DEFAULT_VOID_REASON, now)
    await session.flush()
    await balance.invoice_voided(session, ctx, invoice, at=now)
    return invoice
