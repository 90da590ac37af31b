"""Customers as orders see them: matched by e-mail, or created from the order.

FlexPortal has no customer-create call for its clients: the order's ``customer.email``
finds the customer, and an unknown e-mail creates one. Placing the order then moves the
customer's order counter, order ids and last addresses in the same transaction.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import Conflict
from flexbill.customers.models import Customer
from flexbill.customers.service import (
    Address,
    Customers,
    NewCustomer,
    create_customer,
    normalize_email,
)
from flexbill.tenancy.context import TenantContext


async def _locked_by_email(customers: Customers, email: str) -> Customer | None:
    # Locked and re-read: concurrent orders of one customer each add to its counters.
    statement = (
        customers.select()
        .where(Customer.email == normalize_email(email))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await customers.session.scalars(statement)).one_or_none()


async def match_or_create(session: AsyncSession, ctx: TenantContext, new: NewCustomer) -> Customer:
    """The tenant's customer with ``new.email``, created from ``new`` if there is none."""
    customers = Customers(session, ctx.tenant_id)
    existing = await _locked_by_email(customers, new.email)
    if existing is not None:
        return existing
    try:
        # In a savepoint: if a concurrent order created the same customer first, only this
        # insert is undone and the order goes on with that customer.
        async with session.begin_nested():
            return await create_customer(session, ctx, new)
    except Conflict as conflict:
        if conflict.code != "CUSTOMER_EXISTS":
            raise
    created_meanwhile = await _locked_by_email(customers, new.email)
    assert created_meanwhile is not None, "CUSTOMER_EXISTS without a customer"
    return created_meanwhile


def record_order(
    customer: Customer, order_id: str, billing: Address, shipping: Address | None
) -> None:
    """Count the order on its customer and remember the addresses it used last."""
    customer.total_orders += 1
    # A new list, not an append: the ORM notices a JSON column change by assignment.
    customer.order_ids = [*customer.order_ids, order_id]
    customer.last_billing_address = asdict(billing)
    if shipping is not None:
        customer.last_shipping_address = asdict(shipping)
