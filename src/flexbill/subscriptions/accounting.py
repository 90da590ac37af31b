"""What subscriptions change on their customer: devices rented, monthly revenue, the
rental ids, and the acquisition cost tracked for cost recovery.

``total_devices_rented`` and ``total_monthly_revenue`` describe the customer now (active
subscriptions); ``rental_ids``, ``total_acquisition_cost`` and ``subscriptions_tracked``
accumulate over the customer's life.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.customers.models import Customer
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.context import TenantContext


async def locked_customer(session: AsyncSession, ctx: TenantContext, customer_id: str) -> Customer:
    """The customer, locked and re-read (concurrent subscriptions of one customer each move
    its counters), or ``CUSTOMER_NOT_FOUND``."""
    customer = await session.get(
        Customer, (ctx.tenant_id, customer_id), with_for_update=True, populate_existing=True
    )
    if customer is None:
        raise FlexbillError("CUSTOMER_NOT_FOUND", f"Customer '{customer_id}' not found")
    return customer


def count_start(customer: Customer, subscription: Subscription) -> None:
    customer.total_devices_rented += 1
    customer.total_monthly_revenue += subscription.monthly_amount
    customer.rental_ids = [*customer.rental_ids, subscription.id]
    if subscription.acquisition_cost is not None:
        customer.total_acquisition_cost += subscription.acquisition_cost
        customer.subscriptions_tracked += 1


def count_end(customer: Customer, subscription: Subscription) -> None:
    customer.total_devices_rented -= 1
    customer.total_monthly_revenue -= subscription.monthly_amount


def count_new_amount(customer: Customer, old_amount: int, new_amount: int) -> None:
    customer.total_monthly_revenue += new_amount - old_amount
