"""What follows an invoice's issue outside billing: its PDF (and the customer's e-mail),
queued in the transaction that issued it, so that neither exists without the other."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import Invoice
from flexbill.files.invoices import enqueue_invoice_documents
from flexbill.tenancy.context import TenantContext


async def invoices_issued(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice]
) -> None:
    if invoices:
        await enqueue_invoice_documents(session, ctx.tenant_id, [i.id for i in invoices])


async def invoices_changed(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice]
) -> None:
    """Invoices given a new line after their issue (a late fee): their PDFs are rendered
    again."""
    if invoices:
        await enqueue_invoice_documents(
            session, ctx.tenant_id, [i.id for i in invoices], refresh=True
        )
