"""Natural idempotency of orders: one order per customer e-mail + items within a window.

A client that retries ``POST /v1/orders`` (a timeout, a double click, two tills) gets the
order it already placed instead of a second one. The request's fingerprint is claimed as a
row keyed ``(tenant_id, fingerprint)`` in the order's own transaction, so that of two
identical requests arriving together one inserts the row and the other, blocked on the
key until the first commits, finds it and answers with the first order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.orders.models import OrderFingerprint


def fingerprint(
    email: str,
    items: Iterable[tuple[str, int, int | None]],
    *,
    order_type: str = "standard",
    details: Mapping[str, Any] | None = None,
) -> str:
    """What makes two orders "the same": the customer's normalized e-mail and the multiset
    of (sku, quantity, contract length) lines, in any order. A line that leaves the
    contract length out differs from one that names it. Extension and upgrade orders also
    differ by type and by the contract they change (``details``): two upgrades of two
    devices to the same model are two orders."""
    # 0 stands for "not named": contract lengths start at 1 month, and None does not sort.
    lines = sorted([sku, quantity, months or 0] for sku, quantity, months in items)
    canonical = orjson.dumps([email, lines, order_type, details or {}], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def claim(
    session: AsyncSession,
    *,
    tenant_id: str,
    key: str,
    order_id: str,
    now: datetime,
    expires_at: datetime,
) -> str:
    """Reserve ``key`` for the new order ``order_id`` until ``expires_at``, and return
    ``order_id``; or return the id of the order that holds it and has not expired."""
    # Forget the tenant's expired fingerprints as we go; (tenant_id, expires_at) is indexed.
    await session.execute(
        delete(OrderFingerprint).where(
            OrderFingerprint.tenant_id == tenant_id, OrderFingerprint.expires_at <= now
        )
    )
    try:
        async with session.begin_nested():
            session.add(
                OrderFingerprint(
                    tenant_id=tenant_id, fingerprint=key, order_id=order_id, expires_at=expires_at
                )
            )
    except IntegrityError:
        pass
    else:
        return order_id
    holder = (
        await session.scalars(
            select(OrderFingerprint)
            .where(OrderFingerprint.tenant_id == tenant_id, OrderFingerprint.fingerprint == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if holder.expires_at > now:
        return holder.order_id
    # It expired after our clean-up (a concurrent request with a slower clock): take it over.
    holder.order_id, holder.expires_at = order_id, expires_at
    await session.flush()
    return order_id


async def release(session: AsyncSession, *, tenant_id: str, key: str, order_id: str) -> None:
    """Let an identical order be placed again (the holder ``order_id`` was cancelled)."""
    await session.execute(
        delete(OrderFingerprint).where(
            OrderFingerprint.tenant_id == tenant_id,
            OrderFingerprint.fingerprint == key,
            OrderFingerprint.order_id == order_id,
        )
    )
