"""Reading orders: one by id, and the filtered, sorted, paginated list."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.orders.lifecycle import OrderStatus
from flexbill.orders.models import Channel, Order, OrderType
from flexbill.orders.repository import Orders
from flexbill.tenancy.context import TenantContext

SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Order.created_at,
        "updatedAt": Order.updated_at,
        "orderId": Order.id,
        "status": Order.status,
        "totals.total": Order.total,
    },
    id_column=Order.id,
)

FILTERS = FilterSet(
    one_of("status", Order.status, tuple(OrderStatus)),
    equals("customerId", Order.customer_id),
    one_of("channel", Order.channel, tuple(Channel)),
    one_of("orderType", Order.order_type, tuple(OrderType)),
    custom_fields=Order.custom_fields,
)


async def get_order(session: AsyncSession, ctx: TenantContext, order_id: str) -> Order:
    return await Orders(session, ctx.tenant_id).get(order_id)


async def list_orders(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Order]:
    statement = FILTERS.apply(Orders(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)
