"""Tenant-scoped access to subscriptions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from flexbill.core.errors import NotFound
from flexbill.core.repository import TenantRepository
from flexbill.customers.models import Customer
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

    async def load_customers(self, subscriptions: Iterable[Subscription]) -> None:
        """Make ``subscription.customer`` readable for every one of ``subscriptions``.

        Customers the session holds already (an operation locked them) are taken from it;
        the others are read in one query, whatever the number of subscriptions: a list
        page must not cost a query per row.
        """
        pending = [s for s in subscriptions if "customer" in inspect(s).unloaded]
        found: dict[str, Customer] = {}
        for subscription in pending:
            key = self.session.identity_key(Customer, (self.tenant_id, subscription.customer_id))
            held = self.session.identity_map.get(key)
            if isinstance(held, Customer):
                found[held.id] = held
        missing = {s.customer_id for s in pending} - set(found)
        if missing:
            statement = select(Customer).where(
                Customer.tenant_id == self.tenant_id, Customer.id.in_(sorted(missing))
            )
            found.update(
                (customer.id, customer) for customer in await self.session.scalars(statement)
            )
        for subscription in pending:
            # Loaded, not changed: the relationship is read-only and nothing is flushed.
            set_committed_value(subscription, "customer", found[subscription.customer_id])
