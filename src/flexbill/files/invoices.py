"""Invoice PDFs: every invoice gets its document (filled in by the files work)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession


async def enqueue_invoice_documents(
    session: AsyncSession, tenant_id: str, invoice_ids: Sequence[str]
) -> None:
    """Ask the worker, in the caller's transaction, to render the PDFs of ``invoice_ids``
    (one job for the batch, however many invoices a billing run issues at once)."""
