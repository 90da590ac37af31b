"""Reading subscriptions: the filtered, sorted, paginated list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.filtering import Condition, Filter, FilterSet, FilterValueError, equals
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.subscriptions.lifecycle import DISPLAY_STATUSES, parse_display_status
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

SORT_ORDERS = SortOrders(
    columns={
        "createdAt": Subscription.created_at,
        "updatedAt": Subscription.updated_at,
        "startDate": Subscription.start_date,
        "endDate": Subscription.end_date,
        "monthlyAmount": Subscription.monthly_amount,
        "status": Subscription.status,
    },
    id_column=Subscription.id,
)


def _status(value: str) -> Condition:
    try:
        status, end_reason = parse_display_status(value)
    except ValueError:
        raise FilterValueError(
            f"status must be one of: {', '.join(DISPLAY_STATUSES)}", "invalid_enum_value"
        ) from None
    if end_reason is None:
        return Subscription.status == status
    return and_(Subscription.status == status, Subscription.end_reason == end_reason)


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value[:10] if len(value) > 10 and value[10] == "T" else value)
    except ValueError:
        raise FilterValueError(f"{name} must be a date (YYYY-MM-DD)", "invalid_date") from None


FILTERS = FilterSet(
    Filter("status", _status),
    equals("customerId", Subscription.customer_id),
    equals("orderId", Subscription.order_id),
    equals("serialNumber", Subscription.serial_number),
    equals("sku", Subscription.sku),
    equals("billingGroupId", Subscription.billing_group_id),
    Filter("endDateFrom", lambda value: Subscription.end_date >= _date("endDateFrom", value)),
    Filter("endDateTo", lambda value: Subscription.end_date <= _date("endDateTo", value)),
    custom_fields=Subscription.custom_fields,
)


async def list_subscriptions(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Subscription]:
    """One page of the tenant's subscriptions, each with its customer (read for the whole
    page in one query)."""
    subscriptions = Subscriptions(session, ctx.tenant_id)
    statement = FILTERS.apply(subscriptions.select(), filters)
    found = await paginate(session, statement, SORT_ORDERS, page)
    await subscriptions.load_customers(found.items)
    return found
