"""The next invoice of a general subscription, computed without writing anything.

STUB — pre-wired signature; the plan-subscriptions DOMAIN helper implements it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.plan_subscriptions.contract import UpcomingInvoice
from flexbill.tenancy.context import TenantContext


async def next_invoice(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> UpcomingInvoice | None:
    """What the next invoice will hold (the same line builder the billing run uses)."""
    raise NotImplementedError
