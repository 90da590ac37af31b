"""What billing sets off outside billing, queued in the transaction of the change, so that
neither exists without the other: an issued invoice's PDF and, when the business turned
them on (``notifications`` in the settings), the customer's e-mails about an issued
invoice and a failed payment."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import Invoice, Payment
from flexbill.core.money import to_major
from flexbill.customers.models import Customer
from flexbill.files.invoices import enqueue_invoice_documents
from flexbill.mail import outbox
from flexbill.settings.rules import BusinessSettings
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext
from flexbill.tenancy.models import BusinessUnit

IDS_PER_QUERY = 500


async def invoices_issued(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice]
) -> None:
    if not invoices:
        return
    await enqueue_invoice_documents(session, ctx.tenant_id, [i.id for i in invoices])
    settings = await get_settings(session, ctx)
    if not settings.notifications.email_invoices:
        return
    company = await _company_name(session, ctx, settings)
    customers = await _customers(session, ctx, {i.customer_id for i in invoices})
    for invoice in invoices:
        customer = customers[invoice.customer_id]
        await outbox.send(
            session, ctx.tenant_id, template="invoice_issued", to=customer.email,
            data={
                "invoice_number": invoice.number, "amount": to_major(invoice.total, ctx.currency),
                "currency": ctx.currency, "due_date": invoice.due_date,
                "customer_name": _name(customer), "company_name": company,
            },
        )  # fmt: skip


async def invoices_changed(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice]
) -> None:
    """Invoices given a new line after their issue (a late fee): their PDFs are rendered
    again."""
    if invoices:
        await enqueue_invoice_documents(
            session, ctx.tenant_id, [i.id for i in invoices], refresh=True
        )


async def payment_failed(
    session: AsyncSession, ctx: TenantContext, payment: Payment, reason: str
) -> None:
    """Tell the customer that an attempt to collect ``payment`` failed, and what comes
    next (its ``next_retry_at``, or nothing: it was the last try)."""
    settings = await get_settings(session, ctx)
    if not settings.notifications.email_payment_failures:
        return
    customer = (await _customers(session, ctx, {payment.customer_id}))[payment.customer_id]
    invoice = await session.get(Invoice, (ctx.tenant_id, payment.invoice_id))
    data = {
        "amount": to_major(payment.amount, ctx.currency), "currency": ctx.currency,
        "reason": reason, "company_name": await _company_name(session, ctx, settings),
        "customer_name": _name(customer),
    }  # fmt: skip
    if invoice is not None:
        data["invoice_number"] = invoice.number
    if payment.next_retry_at is not None:
        data["next_retry_at"] = payment.next_retry_at
    await outbox.send(
        session, ctx.tenant_id, template="payment_failed", to=customer.email, data=data
    )


async def _company_name(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings
) -> str:
    if settings.company.name.strip():
        return settings.company.name
    unit = await session.get(BusinessUnit, ctx.business_unit_id)
    return unit.name if unit is not None else ctx.business_unit_id


def _name(customer: Customer) -> str:
    return f"{customer.first_name} {customer.last_name}".strip() or customer.email


async def _customers(
    session: AsyncSession, ctx: TenantContext, ids: set[str]
) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    wanted = sorted(ids)
    for first in range(0, len(wanted), IDS_PER_QUERY):
        statement = select(Customer).where(
            Customer.tenant_id == ctx.tenant_id,
            Customer.id.in_(wanted[first : first + IDS_PER_QUERY]),
        )
        found.update((customer.id, customer) for customer in await session.scalars(statement))
    return found
