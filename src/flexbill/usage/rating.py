"""What billing asks of recorded usage: the quantity of each item in a period, and marking
those records rated by an invoice.

A record belongs to the period that contains its ``start_date``; both functions read
the records of a period through the index ``(tenant_id, item_id, start_date)``.

**Exact sums on both databases.** PostgreSQL sums ``NUMERIC`` exactly. SQLite keeps the
column's values as 64-bit floats (exact for the at most 15 significant digits a quantity
has, ``rules.QUANTITY_LIMIT``), and its ``SUM`` over floats would round at every step. On
SQLite the sum is therefore taken in two exact integer parts: the whole units, and the
millionths (each record's fraction, scaled and rounded to the integer it stands for).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from typing import cast as cast_result

from sqlalchemy import BigInteger, CursorResult, Integer, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.usage.models import UsageRecord, UsageStatus
from flexbill.usage.rules import QUANTITY_PLACES

_SCALE = 10**QUANTITY_PLACES


def _in_period(tenant_id: str, item_ids: Sequence[str], start: date, end: date) -> list[Any]:
    return [
        UsageRecord.tenant_id == tenant_id,
        UsageRecord.item_id.in_(sorted(set(item_ids))),
        UsageRecord.start_date >= start,
        UsageRecord.start_date < end,
    ]


async def usage_totals(
    session: AsyncSession, tenant_id: str, item_ids: Sequence[str], start: date, end: date
) -> dict[str, Decimal]:
    """The sum of the quantities recorded for each of ``item_ids`` whose ``start_date`` is
    in ``[start, end)``, in one query; items without records are left out."""
    if not item_ids:
        return {}
    conditions = _in_period(tenant_id, item_ids, start, end)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        exact = (
            select(UsageRecord.item_id, func.sum(UsageRecord.quantity))
            .where(*conditions)
            .group_by(UsageRecord.item_id)
        )
        return {item_id: Decimal(total) for item_id, total in await session.execute(exact)}
    whole = cast(UsageRecord.quantity, Integer)  # truncates: the whole units
    millionths = cast(func.round((UsageRecord.quantity - whole) * _SCALE), Integer)
    in_parts = (
        select(
            UsageRecord.item_id,
            func.sum(whole, type_=BigInteger),
            func.sum(millionths, type_=BigInteger),
        )
        .where(*conditions)
        .group_by(UsageRecord.item_id)
    )
    return {
        item_id: Decimal(units) + Decimal(fraction).scaleb(-QUANTITY_PLACES)
        for item_id, units, fraction in await session.execute(in_parts)
    }


async def mark_rated(
    session: AsyncSession,
    tenant_id: str,
    item_ids: Sequence[str],
    start: date,
    end: date,
    invoice_id: str,
) -> int:
    """Mark those records ``processed`` by ``invoice_id``; how many were marked."""
    if not item_ids:
        return 0
    statement = (
        update(UsageRecord)
        .where(
            *_in_period(tenant_id, item_ids, start, end),
            UsageRecord.status == UsageStatus.PENDING,
        )
        .values(status=UsageStatus.PROCESSED, invoice_id=invoice_id, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    result = cast_result(CursorResult[Any], await session.execute(statement))
    return max(result.rowcount or 0, 0)
