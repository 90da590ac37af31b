"""The worker's side of documents: rendering invoice PDFs (``invoices.py``)."""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.jobs import Job
from flexbill.files import invoices
from flexbill.worker.registry import handles
from flexbill.worker.schedule import Periodic

PERIODIC: Final[tuple[Periodic, ...]] = ()


@handles(invoices.RENDER_INVOICES)
async def render_invoices(session: AsyncSession, job: Job) -> None:
    """Render the PDFs of the invoices one billing batch issued."""
    if job.tenant_id is None:
        raise ValueError("an invoice document job names its tenant")
    await invoices.render_invoice_documents(
        session, job.tenant_id, job.payload["invoice_ids"],
        refresh=bool(job.payload.get("refresh", False)),
    )  # fmt: skip
