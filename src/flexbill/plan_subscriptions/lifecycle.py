"""Suspending, resuming, cancelling and activating general subscriptions.

STUB — pre-wired signatures; the plan-subscriptions DOMAIN helper implements them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.plan_subscriptions.contract import PlanSubscriptionView
from flexbill.plan_subscriptions.models import ChangeOption
from flexbill.tenancy.context import TenantContext


async def suspend(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Suspend today, or schedule it (``on`` only with ``SPECIFIC_DATE``)."""
    raise NotImplementedError


async def resume(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Resume a suspended subscription today, or schedule it."""
    raise NotImplementedError


async def cancel(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Cancel today, or schedule it."""
    raise NotImplementedError


async def activate(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """Start a ``draft`` subscription as if created now."""
    raise NotImplementedError


async def unschedule(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """Drop the change waiting for its day."""
    raise NotImplementedError
