"""Changing an order by hand: confirm it, cancel it, replace its notes.

Status changes follow ``lifecycle``; every function works in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.orders import dedup, lifecycle
from flexbill.orders.lifecycle import OrderStatus
from flexbill.orders.models import Order
from flexbill.orders.repository import Orders
from flexbill.tenancy.context import TenantContext


async def confirm_order(session: AsyncSession, ctx: TenantContext, order_id: str) -> Order:
    """pending → confirmed: the order may now be fulfilled by subscriptions.

    Raises ``INVALID_ORDER_STATUS`` from any other status.
    """
    order = await Orders(session, ctx.tenant_id).get(order_id, for_update=True)
    order.status = lifecycle.confirm(OrderStatus(order.status))
    order.confirmed_at = clock.now()
    await session.flush()
    return order


async def cancel_order(
    session: AsyncSession, ctx: TenantContext, order_id: str, reason: str | None = None
) -> Order:
    """Cancel a pending or confirmed order that no subscription fulfils yet.

    Raises ``ORDER_NOT_CANCELLABLE`` otherwise. The order's e-mail + items combination is
    released, so the customer can place the same order again at once.
    """
    order = await Orders(session, ctx.tenant_id).get(order_id, for_update=True)
    order.status = lifecycle.cancel(OrderStatus(order.status), order.rented_devices)
    order.cancelled_at = clock.now()
    order.cancellation_reason = reason
    await dedup.release(session, tenant_id=ctx.tenant_id, key=order.fingerprint, order_id=order.id)
    await session.flush()
    return order


async def replace_notes(
    session: AsyncSession, ctx: TenantContext, order_id: str, notes: str
) -> Order:
    """Replace the order's notes (in any status: notes are for people, not for rules)."""
    order = await Orders(session, ctx.tenant_id).get(order_id, for_update=True)
    order.notes = notes
    await session.flush()
    return order
