"""Invoice PDFs: every invoice gets its document.

Billing asks for them in the transaction that issues the invoices (``billing/notices``),
as one job per batch; the worker renders and stores each invoice's PDF. An invoice that
already has its document is skipped, and the database holds at most one per invoice, so
a retried or doubled job never makes two. Each PDF is stored under a key named after its
invoice: an attempt that dies after writing the bytes is overwritten by the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import Invoice
from flexbill.core import clock
from flexbill.core.jobs import enqueue
from flexbill.customers.models import Customer
from flexbill.files.invoice_pdf import InvoiceData, InvoiceLineData, render_invoice
from flexbill.files.letterhead import Letterhead, customer_party, seller
from flexbill.files.models import FileCategory, FileType, StoredFile
from flexbill.files.service import NewFile, put_file, replace_content
from flexbill.files.sniffing import PDF
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.service import system_context

RENDER_INVOICES = "files.render_invoices"
IDS_PER_QUERY = 500
SYSTEM = "system"


async def enqueue_invoice_documents(
    session: AsyncSession, tenant_id: str, invoice_ids: Sequence[str], *, refresh: bool = False
) -> None:
    """Ask the worker, in the caller's transaction, to render the PDFs of ``invoice_ids``
    (one job for the batch, however many invoices a billing run issues at once);
    ``refresh`` renders again those that changed since (a late fee added a line)."""
    if invoice_ids:
        payload = {"invoice_ids": list(invoice_ids), "refresh": refresh}
        await enqueue(session, RENDER_INVOICES, payload, tenant_id=tenant_id)


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[first : first + IDS_PER_QUERY] for first in range(0, len(ids), IDS_PER_QUERY)]


async def _documents(
    session: AsyncSession, tenant_id: str, ids: Sequence[str]
) -> dict[str, StoredFile]:
    """The documents the invoices ``ids`` already have, by invoice id."""
    found: dict[str, StoredFile] = {}
    for chunk in _chunks(ids):
        statement = select(StoredFile).where(
            StoredFile.tenant_id == tenant_id, StoredFile.invoice_id.in_(chunk)
        )
        found.update(
            (row.invoice_id, row)
            for row in await session.scalars(statement)
            if row.invoice_id is not None
        )
    return found


async def render_invoice_documents(
    session: AsyncSession, tenant_id: str, invoice_ids: Sequence[str], *, refresh: bool = False
) -> list[StoredFile]:
    """Render and store the PDF of each invoice of ``invoice_ids`` that has none yet (with
    ``refresh``: of each, replacing the bytes of the document it has), in invoice-number
    order; the documents made or replaced. Unknown ids are passed over."""
    ctx = await system_context(session, tenant_id)
    existing = await _documents(session, tenant_id, invoice_ids)
    todo = [i for i in dict.fromkeys(invoice_ids) if refresh or i not in existing]
    invoices: list[Invoice] = []
    for chunk in _chunks(todo):
        statement = select(Invoice).where(Invoice.tenant_id == tenant_id, Invoice.id.in_(chunk))
        invoices.extend(await session.scalars(statement))
    if not invoices:
        return []
    customers = await _customers(session, tenant_id, {i.customer_id for i in invoices})
    orders = await _orders_of(session, tenant_id, {i.subscription_id for i in invoices})
    letterhead = await seller(session, ctx)
    made = []
    for invoice in sorted(invoices, key=lambda i: i.number):
        data = invoice_data(invoice, customers[invoice.customer_id], letterhead, ctx.currency)
        document = NewFile(
            category=FileCategory.GENERATED, type=FileType.INVOICE,
            filename=f"invoice-{invoice.number}.pdf", content_type=PDF,
            # Rendering takes milliseconds of pure Python per page: off the event loop, so
            # an API served by the same process keeps answering during a large batch.
            data=await asyncio.to_thread(render_invoice, data),
            order_id=orders.get(invoice.subscription_id or ""), customer_id=invoice.customer_id,
            invoice_id=invoice.id, details={"invoiceNumber": invoice.number},
        )  # fmt: skip
        key = f"{tenant_id}/invoices/{invoice.id}.pdf"
        current = existing.get(invoice.id)
        if current is None:
            made.append(await put_file(tenant_id, SYSTEM, document, key=key))
        else:
            made.append(await replace_content(current, document.data))
    session.add_all(made)
    await session.flush()
    return made


async def _customers(session: AsyncSession, tenant_id: str, ids: set[str]) -> dict[str, Customer]:
    rows: dict[str, Customer] = {}
    for chunk in _chunks(sorted(ids)):
        statement = select(Customer).where(Customer.tenant_id == tenant_id, Customer.id.in_(chunk))
        rows.update((row.id, row) for row in await session.scalars(statement))
    return rows


async def _orders_of(
    session: AsyncSession, tenant_id: str, subscription_ids: set[str | None]
) -> dict[str, str]:
    """The order each subscription fulfils, by subscription id."""
    wanted = sorted(i for i in subscription_ids if i is not None)
    orders: dict[str, str] = {}
    for chunk in _chunks(wanted):
        statement = select(Subscription.id, Subscription.order_id).where(
            Subscription.tenant_id == tenant_id, Subscription.id.in_(chunk)
        )
        orders.update((row.id, row.order_id) for row in await session.execute(statement))
    return orders


def invoice_data(
    invoice: Invoice, customer: Customer, letterhead: Letterhead, currency: str
) -> InvoiceData:
    """What the PDF of ``invoice`` shows."""
    reference = (
        f"Subscription {invoice.subscription_id}"
        if invoice.subscription_id
        else f"Billing group {invoice.billing_group_id}"
    )
    issued = invoice.issued_at or invoice.created_at
    return InvoiceData(
        seller=letterhead.party, seller_footer=letterhead.footer,
        customer=customer_party(
            customer.first_name, customer.last_name, company=customer.company,
            email=customer.email, phone=customer.phone, address=customer.last_billing_address,
        ),
        number=invoice.number, issue_date=issued.date(), due_date=invoice.due_date,
        period_start=invoice.period_start, period_end=invoice.period_end, reference=reference,
        currency=currency, vat_rate=invoice.vat_rate, vat_mode=invoice.vat_mode,
        lines=tuple(
            InvoiceLineData(
                quantity=line.quantity, description=line.description, net=line.amount,
                vat=line.tax_amount, gross=line.total,
            )
            for line in invoice.lines
        ),
        subtotal=invoice.subtotal, tax_amount=invoice.tax_amount, total=invoice.total,
        amount_paid=invoice.amount_paid, created=clock.now(),
    )  # fmt: skip
