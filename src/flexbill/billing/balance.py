"""The customer's balance and unapplied amount, and their ledger.

STUB (pre-wired for issue 5): the credit-notes helper implements these. Until then the
functions change nothing, so invoicing and settlement behave as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import Invoice, Payment
from flexbill.tenancy.context import TenantContext


async def invoices_issued(
    session: AsyncSession, ctx: TenantContext, invoices: Sequence[Invoice], *, now: datetime
) -> dict[str, int]:
    """Record ``invoices`` (just issued and flushed) on their customers' balances, apply
    each customer's unapplied credit to them in order (``credit_applied`` and
    ``amount_paid`` grow by it), and answer the credit applied per invoice id (invoices
    without credit are left out). An invoice whose total is below
    zero moves its customer's credit up instead."""
    return {}


async def payment_received(
    session: AsyncSession, ctx: TenantContext, payment: Payment, *, at: datetime
) -> None:
    """Record ``payment`` (just settled) on its customer's balance."""


async def invoice_voided(
    session: AsyncSession, ctx: TenantContext, invoice: Invoice, *, at: datetime
) -> None:
    """Record that ``invoice`` (just voided) is no longer owed."""
