"""Creating, reading and listing general subscriptions.

STUB — pre-wired signatures; the plan-subscriptions DOMAIN helper implements them.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.pagination import Page, PageRequest
from flexbill.plan_subscriptions.contract import NewPlanSubscription, PlanSubscriptionView
from flexbill.tenancy.context import TenantContext


async def create(
    session: AsyncSession, ctx: TenantContext, new: NewPlanSubscription, *, created_by: str
) -> PlanSubscriptionView:
    """Start ``new``: validate it (customer, plans and prices usable today, terms), write
    the subscription and its items, bill what is due at once (the first in-advance period
    unless there is a trial or it starts later) and emit ``subscription.created``."""
    raise NotImplementedError


async def get(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """One subscription with its items; another tenant's is ``SUBSCRIPTION_NOT_FOUND``."""
    raise NotImplementedError


async def list_subscriptions(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PlanSubscriptionView]:
    """Filtered by ``customerId``, ``status``, ``type``; sorted by ``createdAt`` or
    ``updatedAt``; the items of the whole page come from one query."""
    raise NotImplementedError
