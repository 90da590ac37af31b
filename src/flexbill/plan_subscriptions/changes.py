"""Changing an item mid-period: quantity, unit amount override or price, prorated by day.

STUB — pre-wired signature; the plan-subscriptions API helper implements it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.plan_subscriptions.contract import ItemChange, PlanSubscriptionView
from flexbill.tenancy.context import TenantContext


async def change_item(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, item_id: str,
    change: ItemChange,
) -> PlanSubscriptionView:  # fmt: skip
    """Apply ``change`` from today: a credit for the unused part of the current period
    at the old terms, a charge for the rest at the new ones; on the next invoice or at
    once (``change.invoice_now``)."""
    raise NotImplementedError
