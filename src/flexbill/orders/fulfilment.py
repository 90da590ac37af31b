"""Fulfilment: subscriptions rent an order's devices one by one.

``record_rental`` is what subscription creation calls, in its own transaction, once per
device it rents out. When the order's last device is rented the order is ``fulfilled`` and
``order.fulfilled`` is recorded.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.orders import lifecycle
from flexbill.orders.errors import sku_mismatch
from flexbill.orders.event_data import order_summary
from flexbill.orders.lifecycle import OrderStatus
from flexbill.orders.models import Order, OrderItem
from flexbill.orders.repository import Orders
from flexbill.tenancy.context import TenantContext


def _open_item(order: Order, sku: str) -> OrderItem:
    """The first item of ``sku`` that still has a device to rent."""
    items = [item for item in order.items if item.sku == sku]
    if not items:
        raise sku_mismatch(order.id, sku)
    for item in items:
        if len(item.rental_ids) < item.quantity:
            return item
    raise lifecycle.fully_fulfilled(
        f"Every device of SKU '{sku}' in order '{order.id}' is already rented"
    )


async def record_rental(
    session: AsyncSession, ctx: TenantContext, order_id: str, item_sku: str, rental_id: str
) -> Order:
    """Record that subscription ``rental_id`` rents one device of the item ``item_sku``.

    Moves the item's ``rental_status`` (pending → partial → completed) and the order's
    status (confirmed → partial → fulfilled). Recording the same ``rental_id`` again
    changes nothing. Raises ``ORDER_NOT_FOUND``, ``SKU_MISMATCH`` (no such item),
    ``ITEM_FULLY_FULFILLED`` or ``ORDER_NOT_CONFIRMED`` (pending or cancelled order).
    """
    order = await Orders(session, ctx.tenant_id).get(order_id, for_update=True)
    if rental_id in order.rental_ids:
        return order
    item = _open_item(order, item_sku)
    status = lifecycle.rent(OrderStatus(order.status), order.rented_devices, order.total_devices)
    # New lists, not appends: the ORM notices a JSON column change by assignment.
    item.rental_ids = [*item.rental_ids, rental_id]
    item.rental_status = lifecycle.item_status(len(item.rental_ids), item.quantity)
    order.rental_ids = [*order.rental_ids, rental_id]
    order.rented_devices += 1
    order.status = status
    await session.flush()
    if status is OrderStatus.FULFILLED:
        await events.emit(
            session, ctx, EventType.ORDER_FULFILLED, order_summary(order, ctx.currency)
        )
    return order
