"""Which billing group a subscription may join: a live group of the subscription's own
customer (one invoice is addressed to one customer)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing.models import BillingGroup
from flexbill.core.errors import FlexbillError
from flexbill.tenancy.context import TenantContext


def billing_group_not_found(billing_group_id: str) -> FlexbillError:
    return FlexbillError("BILLING_GROUP_NOT_FOUND", f"Billing group '{billing_group_id}' not found")


def different_customer(rental_id: str, customer_id: str) -> FlexbillError:
    return FlexbillError(
        "SUBSCRIPTION_DIFFERENT_CUSTOMER",
        f"Subscription '{rental_id}' belongs to another customer than '{customer_id}'",
    )


async def find_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str, *, for_update: bool = False
) -> BillingGroup:
    """A billing group of the tenant that has not been deleted, or ``BILLING_GROUP_NOT_FOUND``."""
    group = await session.get(
        BillingGroup, (ctx.tenant_id, billing_group_id), with_for_update=for_update or None
    )
    if group is None or group.deleted_at is not None:
        raise billing_group_not_found(billing_group_id)
    return group


async def joinable_group(
    session: AsyncSession, ctx: TenantContext, billing_group_id: str, *, rental_id: str,
    customer_id: str,
) -> BillingGroup:  # fmt: skip
    """The group a subscription of ``customer_id`` is about to join; refused with
    ``SUBSCRIPTION_DIFFERENT_CUSTOMER`` when the group bills another customer."""
    group = await find_group(session, ctx, billing_group_id)
    if group.customer_id != customer_id:
        raise different_customer(rental_id, group.customer_id)
    return group
