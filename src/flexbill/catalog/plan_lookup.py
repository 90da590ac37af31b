"""Finding plans and price versions by id, and whether they can be sold: what general
subscriptions and billing ask of the plan catalog."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog.charge_models import PriceBook
from flexbill.catalog.plan_models import Plan, PlanPrice, PlanStatus
from flexbill.core.errors import FlexbillError, InvalidState
from flexbill.tenancy.context import TenantContext


def plan_not_found(plan_id: str) -> FlexbillError:
    return FlexbillError("PLAN_NOT_FOUND", f"Plan '{plan_id}' not found")


def price_not_found(price_id: str) -> FlexbillError:
    return FlexbillError("PLAN_PRICE_NOT_FOUND", f"Plan price '{price_id}' not found")


async def get_plan(
    session: AsyncSession, ctx: TenantContext, plan_id: str, *, for_share: bool = False
) -> Plan:
    """The tenant's plan. ``for_share`` holds a shared lock on it until the transaction
    ends: a subscription taking one of its prices keeps the plan (and so its prices, as
    every price write locks the plan) from being deleted or changed meanwhile."""
    plan = await session.get(
        Plan,
        (ctx.tenant_id, plan_id),
        with_for_update={"read": True} if for_share else None,
        populate_existing=for_share,
    )
    if plan is None:
        raise plan_not_found(plan_id)
    return plan


async def current_price(session: AsyncSession, ctx: TenantContext, price_id: str) -> PlanPrice:
    """The current version of a price (the one not superseded)."""
    price = await session.scalar(
        select(PlanPrice).where(
            PlanPrice.tenant_id == ctx.tenant_id,
            PlanPrice.id == price_id,
            PlanPrice.superseded_at.is_(None),
        )
    )
    if price is None:
        raise price_not_found(price_id)
    return price


async def price_version(
    session: AsyncSession, ctx: TenantContext, price_id: str, version: int
) -> PlanPrice:
    price = await session.get(PlanPrice, (ctx.tenant_id, price_id, version))
    if price is None:
        raise price_not_found(f"{price_id}@{version}")
    return price


async def price_versions(
    session: AsyncSession, tenant_id: str, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], PlanPrice]:
    """The price versions named by ``(price id, version)`` pairs, in one query."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(PlanPrice).where(
            PlanPrice.tenant_id == tenant_id,
            tuple_(PlanPrice.id, PlanPrice.version).in_(wanted),
        )
    )
    return {(row.id, row.version): row for row in rows}


def book_of(price: PlanPrice, currency: str) -> PriceBook:
    """The price's amounts in ``currency``; ``PRICE_CURRENCY_MISSING`` if it has none."""
    data = price.amounts.get(currency)
    if data is None:
        raise InvalidState(
            "PRICE_CURRENCY_MISSING", f"Plan price '{price.id}' has no amount in {currency}"
        )
    return PriceBook.from_json(data)


def check_sellable(plan: Plan, price: PlanPrice, currency: str, at: datetime) -> None:
    """Whether a new subscription may take ``price`` of ``plan`` at ``at``: plan and price
    active, ``at`` within the plan's effective dates (end exclusive) and before the
    price's end date, an amount in ``currency``."""
    if price.plan_id != plan.id:
        raise price_not_found(price.id)
    effective = (plan.effective_start_date is None or plan.effective_start_date <= at) and (
        plan.effective_end_date is None or at < plan.effective_end_date
    )
    price_open = price.end_date is None or at.date() < price.end_date
    if plan.status != PlanStatus.ACTIVE or price.status != PlanStatus.ACTIVE or not effective:
        raise InvalidState("PLAN_NOT_AVAILABLE", f"Plan '{plan.id}' is not available")
    if not price_open:
        raise InvalidState("PLAN_NOT_AVAILABLE", f"Plan price '{price.id}' has ended")
    book_of(price, currency)
