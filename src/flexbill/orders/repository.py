"""Tenant-scoped access to orders (always loaded with their items)."""

from __future__ import annotations

from flexbill.core.repository import TenantRepository
from flexbill.orders.errors import order_not_found
from flexbill.orders.models import Order


class Orders(TenantRepository[Order]):
    model = Order
    noun = "Order"

    async def get(self, row_id: str, *, for_update: bool = False) -> Order:
        """The order ``row_id`` of this tenant, or ``ORDER_NOT_FOUND``.

        With ``for_update`` the row is locked and re-read, so that a change computed from
        it (counters, status) starts from what concurrent transactions committed.
        """
        order = await self.session.get(
            Order,
            (self.tenant_id, row_id),
            with_for_update=for_update or None,
            populate_existing=for_update,
        )
        if order is None:
            raise order_not_found(row_id)
        return order
