"""What billing asks of recorded usage: the quantity of each item in a period, and marking
those records rated by an invoice.

STUB — pre-wired signatures; the USAGE helper implements them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession


async def usage_totals(
    session: AsyncSession, tenant_id: str, item_ids: Sequence[str], start: date, end: date
) -> dict[str, Decimal]:
    """The sum of the quantities recorded for each of ``item_ids`` whose ``start_date`` is
    in ``[start, end)``, in one query; items without records are left out."""
    raise NotImplementedError


async def mark_rated(
    session: AsyncSession,
    tenant_id: str,
    item_ids: Sequence[str],
    start: date,
    end: date,
    invoice_id: str,
) -> int:
    """Mark those records ``processed`` by ``invoice_id``; how many were marked."""
    raise NotImplementedError
