"""Plans, prices and general subscriptions for tests, written straight through the models.

For tests of what *uses* a general subscription (usage records, credit notes, balances)
without going through the subscription's own rules. Tests of plans and subscriptions
themselves go through ``/v1`` as a client does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flexbill.catalog.charge_models import PriceBook, Tier
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    Plan,
    PlanPrice,
    PriceCategory,
)
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.plan_subscriptions.models import (
    PlanSubscription,
    PlanSubscriptionStatus,
    SubscriptionItem,
    SubscriptionType,
)
from flexbill.tenancy.service import environment_context
from tests.support import Tenant


@dataclass(frozen=True)
class PriceSpec:
    charge_model: ChargeModel
    timing: BillingTiming = BillingTiming.IN_ADVANCE
    unit_amount: Decimal = Decimal(0)
    tiers: Sequence[tuple[Decimal | None, Decimal, Decimal]] = ()  # (up_to, unit, flat)
    included_units: Decimal = Decimal(0)
    quantity: int = 1
    period: int = 1
    unit: PeriodUnit = PeriodUnit.MONTH


@dataclass(frozen=True)
class Subscribed:
    tenant_id: str  # the environment's tenant id (``tnl_…``), as rows carry it
    subscription_id: str
    item_ids: list[str]
    price_ids: list[str]


async def plan_subscription(
    database: Database,
    tenant: Tenant,
    customer_id: str,
    prices: Sequence[PriceSpec],
    *,
    start: date,
    mode: str = "live",
    status: PlanSubscriptionStatus = PlanSubscriptionStatus.ACTIVE,
) -> Subscribed:
    """An evergreen subscription of ``customer_id`` (made through the API) from ``start``
    to one new plan with ``prices``, one item each, nothing billed yet."""
    async with database.transaction() as session:
        ctx = await environment_context(session, tenant.id, mode)
        plan = Plan(tenant_id=ctx.tenant_id, id=new_id("plan"), name="Test plan", created_by="test")
        session.add(plan)
        await session.flush()
        price_rows = []
        for position, spec in enumerate(prices, start=1):
            book = PriceBook(
                unit_amount=spec.unit_amount,
                tiers=tuple(Tier(up, unit, flat) for up, unit, flat in spec.tiers),
            )
            price_rows.append(
                PlanPrice(
                    tenant_id=ctx.tenant_id,
                    id=new_id("price"),
                    version=1,
                    plan_id=plan.id,
                    name=f"Price {position}",
                    category=PriceCategory.RECURRING,
                    charge_model=spec.charge_model,
                    billing_timing=spec.timing,
                    billing_period=spec.period,
                    billing_period_unit=spec.unit,
                    amounts={ctx.currency: book.to_json()},
                    included_units=spec.included_units,
                    default_quantity=1,
                    created_by="test",
                )
            )
        session.add_all(price_rows)
        subscription = PlanSubscription(
            tenant_id=ctx.tenant_id,
            id=new_id("psub"),
            customer_id=customer_id,
            status=status,
            type=SubscriptionType.EVERGREEN,
            currency=ctx.currency,
            order_date=start,
            start_date=start,
            billing_anchor=start,
            next_bill_date=start,
            created_by="test",
        )
        session.add(subscription)
        await session.flush()
        items = [
            SubscriptionItem(
                tenant_id=ctx.tenant_id,
                id=new_id("si"),
                subscription_id=subscription.id,
                position=position,
                plan_id=plan.id,
                plan_price_id=price.id,
                plan_price_version=1,
                quantity=spec.quantity,
                billed_through=start,
                started_on=start,
            )
            for position, (price, spec) in enumerate(zip(price_rows, prices, strict=True), 1)
        ]
        session.add_all(items)
        await session.flush()
        return Subscribed(
            tenant_id=ctx.tenant_id,
            subscription_id=subscription.id,
            item_ids=[item.id for item in items],
            price_ids=[price.id for price in price_rows],
        )
