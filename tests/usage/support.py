"""A customer with a general subscription whose items are rated from usage, and usage
record bodies as a client sends them."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import update

from flexbill.catalog.plan_models import BillingTiming, ChargeModel
from flexbill.core.db import Database
from flexbill.plan_subscriptions.models import PlanSubscription, SubscriptionItem
from tests.plan_support import PriceSpec, Subscribed, plan_subscription
from tests.support import Api, Tenant

START = date(2026, 1, 1)
D = Decimal

TIERED = PriceSpec(
    ChargeModel.TIERED,
    timing=BillingTiming.IN_ARREARS,
    tiers=((D(100), D("0.10"), D(0)), (None, D("0.05"), D(0))),
)
PER_UNIT = PriceSpec(ChargeModel.PER_UNIT, timing=BillingTiming.IN_ARREARS, unit_amount=D("0.02"))
FLAT_IN_ARREARS = PriceSpec(
    ChargeModel.FLAT_FEE, timing=BillingTiming.IN_ARREARS, unit_amount=D(10)
)
PER_UNIT_IN_ADVANCE = PriceSpec(ChargeModel.PER_UNIT, unit_amount=D(5))


async def metered(
    api: Api, database: Database, tenant: Tenant, *prices: PriceSpec, **options: Any
) -> Subscribed:
    """A new customer's subscription from ``START`` to ``prices`` (a tiered and a per-unit
    usage price unless given)."""
    customer = await api.create_customer()
    return await plan_subscription(
        database, tenant, customer["customerId"], prices or (TIERED, PER_UNIT), start=START,
        **options,
    )  # fmt: skip


def record(subscribed: Subscribed, item: int = 0, **fields: Any) -> dict[str, Any]:
    """A usage record body for the ``item``-th item, on the subscription's first day."""
    body: dict[str, Any] = {
        "subscriptionId": subscribed.subscription_id,
        "itemId": subscribed.item_ids[item],
        "quantity": 3,
        "startDate": START.isoformat(),
        "endDate": START.isoformat(),
    }
    body.update(fields)
    return body


def exact(response: httpx.Response) -> Any:
    """The response body with numbers as ``Decimal``: quantities compare digit for digit."""
    return json.loads(response.text, parse_float=Decimal)


async def raw_post(api: Api, path: str, text: str) -> httpx.Response:
    """POST a body written by hand: JSON numbers exactly as a client typed them."""
    return await api.client.post(path, content=text.encode(), headers=api.headers)


async def customer_of(database: Database, subscribed: Subscribed) -> str:
    async with database.transaction(write=False) as session:
        subscription = await session.get(
            PlanSubscription, (subscribed.tenant_id, subscribed.subscription_id)
        )
        assert subscription is not None
        return subscription.customer_id


async def bill_through(database: Database, item_id: str, day: date) -> None:
    """Set the item as rated up to ``day`` (what the billing run does after an invoice)."""
    async with database.transaction() as session:
        await session.execute(
            update(SubscriptionItem)
            .where(SubscriptionItem.id == item_id)
            .values(billed_through=day)
        )


async def end_item(database: Database, item_id: str, day: date) -> None:
    async with database.transaction() as session:
        await session.execute(
            update(SubscriptionItem).where(SubscriptionItem.id == item_id).values(ended_on=day)
        )
