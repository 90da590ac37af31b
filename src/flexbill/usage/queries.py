"""Reading usage records: one by id, and the list with its filters."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.core.filtering import FilterSet, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.tenancy.context import TenantContext
from flexbill.usage.models import UsageRecord, UsageStatus
from flexbill.usage.views import UsageView


class UsageRecords(TenantRepository[UsageRecord]):
    model = UsageRecord
    noun = "Usage record"


SORT_ORDERS = SortOrders(columns={"createdAt": UsageRecord.created_at}, id_column=UsageRecord.id)

FILTERS = FilterSet(
    equals("subscriptionId", UsageRecord.subscription_id),
    equals("itemId", UsageRecord.item_id),
    equals("customerId", UsageRecord.customer_id),
    one_of("status", UsageRecord.status, tuple(UsageStatus)),
)


def usage_not_found(usage_id: str) -> FlexbillError:
    return FlexbillError("USAGE_NOT_FOUND", f"Usage record '{usage_id}' not found")


async def get_usage(session: AsyncSession, ctx: TenantContext, usage_id: str) -> UsageView:
    record = await UsageRecords(session, ctx.tenant_id).find(usage_id)
    if record is None:
        raise usage_not_found(usage_id)
    return UsageView.of_record(record)


async def list_usage(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[UsageView]:
    """Usage records filtered by ``subscriptionId``, ``itemId``, ``customerId`` and
    ``status``, by ``createdAt``."""
    statement = FILTERS.apply(UsageRecords(session, ctx.tenant_id).select(), filters)
    records = await paginate(session, statement, SORT_ORDERS, page)
    return Page(
        items=[UsageView.of_record(record) for record in records.items],
        limit=records.limit,
        has_more=records.has_more,
        next_cursor=records.next_cursor,
    )
