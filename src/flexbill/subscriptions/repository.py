"""Tenant-scoped access to subscriptions."""

from __future__ import annotations

from flexbill.core.errors import NotFound
from flexbill.core.repository import TenantRepository
from flexbill.subscriptions.models import Subscription


class Subscriptions(TenantRepository[Subscription]):
    model = Subscription
    noun = "Subscription"

    async def get(self, row_id: str, *, for_update: bool = False) -> Subscription:
        """The subscription ``row_id`` of this tenant, or ``NOT_FOUND``.

        With ``for_update`` the row is locked and re-read, so that an operation computed
        from it (status, end date) starts from what concurrent transactions committed.
        """
        subscription = await self.session.get(
            Subscription,
            (self.tenant_id, row_id),
            with_for_update=for_update or None,
            populate_existing=for_update,
        )
        if subscription is None:
            raise NotFound(self.noun, row_id)
        return subscription
