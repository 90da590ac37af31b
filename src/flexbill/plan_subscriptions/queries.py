"""Reading general subscriptions: one by id (inside the tenant), lists with filters and
keyset pages, and the views the faces render (items and unbilled pending charges of a
whole page loaded with one query each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.plan_subscriptions.billing import items_of, unbilled_charges
from flexbill.plan_subscriptions.contract import PlanSubscriptionView
from flexbill.plan_subscriptions.models import (
    PendingCharge,
    PlanSubscription,
    PlanSubscriptionStatus,
    SubscriptionItem,
    SubscriptionType,
)
from flexbill.tenancy.context import TenantContext


class PlanSubscriptions(TenantRepository[PlanSubscription]):
    model = PlanSubscription
    noun = "Subscription"


SORT_ORDERS = SortOrders(
    columns={"createdAt": PlanSubscription.created_at, "updatedAt": PlanSubscription.updated_at},
    id_column=PlanSubscription.id,
)

FILTERS = FilterSet(
    equals("customerId", PlanSubscription.customer_id),
    one_of("status", PlanSubscription.status, tuple(PlanSubscriptionStatus)),
    one_of("type", PlanSubscription.type, tuple(SubscriptionType)),
)


def not_found(subscription_id: str) -> FlexbillError:
    return FlexbillError("SUBSCRIPTION_NOT_FOUND", f"Subscription '{subscription_id}' not found")


async def find(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, *, for_update: bool = False
) -> PlanSubscription:
    """The subscription, locked and re-read with ``for_update``."""
    subscription = await session.get(
        PlanSubscription, (ctx.tenant_id, subscription_id),
        with_for_update=for_update or None, populate_existing=for_update,
    )  # fmt: skip
    if subscription is None:
        raise not_found(subscription_id)
    return subscription


def ordered(items: Sequence[SubscriptionItem]) -> list[SubscriptionItem]:
    """Current items by position, then the ended ones by position."""
    return sorted(items, key=lambda item: (item.ended_on is not None, item.position))


def view(
    subscription: PlanSubscription,
    items: Sequence[SubscriptionItem],
    pending: Sequence[PendingCharge] = (),
) -> PlanSubscriptionView:
    return PlanSubscriptionView(subscription, ordered(items), list(pending))


async def views(
    session: AsyncSession, ctx: TenantContext, subscriptions: Sequence[PlanSubscription]
) -> list[PlanSubscriptionView]:
    ids = [subscription.id for subscription in subscriptions]
    items = await items_of(session, ctx.tenant_id, ids)
    pending = await unbilled_charges(session, ctx.tenant_id, ids)
    return [view(s, items[s.id], pending[s.id]) for s in subscriptions]


async def get(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    subscription = await find(session, ctx, subscription_id)
    return (await views(session, ctx, [subscription]))[0]


async def list_page(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PlanSubscriptionView]:
    statement = FILTERS.apply(PlanSubscriptions(session, ctx.tenant_id).select(), filters)
    found = await paginate(session, statement, SORT_ORDERS, page)
    return Page(
        items=await views(session, ctx, found.items),
        limit=found.limit,
        has_more=found.has_more,
        next_cursor=found.next_cursor,
    )
