"""What the general-subscription tests share: plans and prices written through the models
(the plan catalog's face is built beside this one), subscriptions created and changed
through the domain's services in one transaction each, as a request would, the clock
moved day by day while the worker sweeps, and invoices read back to the cent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import run
from flexbill.billing.models import Invoice, InvoiceLine
from flexbill.catalog.charge_models import PriceBook, Tier
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    Plan,
    PlanPrice,
    PriceCategory,
)
from flexbill.core import clock
from flexbill.core.db import Database
from flexbill.core.ids import new_id
from flexbill.core.money import to_major
from flexbill.plan_subscriptions import service
from flexbill.plan_subscriptions.contract import (
    ItemInput,
    NewPlanSubscription,
    PlanSubscriptionView,
)
from flexbill.plan_subscriptions.models import SubscriptionType
from flexbill.tenancy.context import TenantContext
from flexbill.usage.models import UsageRecord
from flexbill.worker.registry import REGISTRY
from flexbill.worker.runner import Worker
from flexbill.worker.schedule import Periodic
from tests.orders.support import tenant_context
from tests.support import Tenant

D = Decimal
SCHEDULE = (Periodic(run.SWEEP, timedelta(minutes=10)),)
T = TypeVar("T")


@dataclass(frozen=True)
class Price:
    """A plan price as the tests need it; amounts in major units (EUR)."""

    name: str
    charge_model: ChargeModel = ChargeModel.FLAT_FEE
    unit_amount: Decimal = Decimal(0)
    timing: BillingTiming = BillingTiming.IN_ADVANCE
    category: PriceCategory = PriceCategory.RECURRING
    tiers: Sequence[tuple[Decimal | None, Decimal, Decimal]] = ()  # (up to, unit, flat)
    included_units: Decimal = Decimal(0)
    period: int = 1
    unit: PeriodUnit = PeriodUnit.MONTH
    uom: str | None = None
    default_quantity: int = 1


async def in_transaction(
    database: Database, tenant: Tenant,
    work: Callable[[AsyncSession, TenantContext], Awaitable[T]], *, test_mode: bool = False,
) -> T:  # fmt: skip
    """``work`` in one transaction with the tenant's live (or test) context, as a request
    runs."""
    ctx = await tenant_context(database, tenant, test_mode=test_mode)
    async with database.transaction() as session:
        return await work(session, ctx)


async def plan(
    database: Database, tenant: Tenant, *prices: Price, test_mode: bool = False
) -> list[str]:
    """A new active plan with ``prices``; their ids."""

    async def write(session: AsyncSession, ctx: TenantContext) -> list[str]:
        row = Plan(tenant_id=ctx.tenant_id, id=new_id("plan"), name="Plan", created_by="test")
        session.add(row)
        await session.flush()
        rows = [
            PlanPrice(
                tenant_id=ctx.tenant_id, id=new_id("price"), version=1, plan_id=row.id,
                name=price.name, category=price.category, charge_model=price.charge_model,
                billing_timing=price.timing, billing_period=price.period,
                billing_period_unit=price.unit, included_units=price.included_units,
                default_quantity=price.default_quantity, uom=price.uom, created_by="test",
                amounts={
                    ctx.currency: PriceBook(
                        unit_amount=price.unit_amount,
                        tiers=tuple(Tier(up, unit, flat) for up, unit, flat in price.tiers),
                    ).to_json()
                },
            )
            for price in prices
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        return [price.id for price in rows]

    return await in_transaction(database, tenant, write, test_mode=test_mode)


async def subscribe(
    database: Database, tenant: Tenant, customer_id: str, price_ids: Sequence[str],
    *, quantities: Sequence[int | None] = (), test_mode: bool = False, **fields: Any,
) -> PlanSubscriptionView:  # fmt: skip
    """A subscription of ``customer_id`` to ``price_ids`` (evergreen unless told)."""
    items = [
        ItemInput(price_id, quantity=quantities[i] if i < len(quantities) else None)
        for i, price_id in enumerate(price_ids)
    ]
    fields.setdefault("type", SubscriptionType.EVERGREEN)
    new = NewPlanSubscription(customer_id=customer_id, items=items, **fields)

    async def create(session: AsyncSession, ctx: TenantContext) -> PlanSubscriptionView:
        return await service.create(session, ctx, new, created_by="test")

    return await in_transaction(database, tenant, create, test_mode=test_mode)


async def get(database: Database, tenant: Tenant, subscription_id: str) -> PlanSubscriptionView:
    async def read(session: AsyncSession, ctx: TenantContext) -> PlanSubscriptionView:
        return await service.get(session, ctx, subscription_id)

    return await in_transaction(database, tenant, read)


async def record_usage(
    database: Database, tenant: Tenant, view: PlanSubscriptionView, item: int,
    quantity: Decimal, day: date,
) -> None:  # fmt: skip
    """A usage record of one day, written through the model (the usage face is built
    beside this one)."""
    subscription = view.subscription
    async with database.transaction() as session:
        session.add(
            UsageRecord(
                tenant_id=subscription.tenant_id, id=new_id("usage"), client_id=new_id("c"),
                customer_id=subscription.customer_id, subscription_id=subscription.id,
                item_id=view.items[item].id, quantity=quantity, start_date=day, end_date=day,
            )
        )  # fmt: skip


async def travel(database: Database, until: date) -> None:
    """Move the clock a day at a time up to 09:00 of ``until``, the worker sweeping at
    every stop."""
    worker = Worker(database, REGISTRY, schedule=SCHEDULE)
    await worker.run_until_idle()
    while clock.now().date() < until:
        clock.advance(timedelta(days=1))
        await worker.run_until_idle()


Line = tuple[str, str, str | None, str | None, Decimal]
"""An invoice line: kind, description, period start, end (exclusive), total."""


@dataclass(frozen=True)
class Billed:
    key: str
    number: str
    period: tuple[str, str]
    total: Decimal
    status: str
    lines: list[Line]
    rows: list[InvoiceLine]


async def invoices(database: Database) -> list[Billed]:
    """Every invoice, by number, with its lines."""
    async with database.transaction() as session:
        found = (await session.scalars(select(Invoice).order_by(Invoice.number))).all()
        return [
            Billed(
                key=invoice.billing_key, number=invoice.number,
                period=(invoice.period_start.isoformat(), invoice.period_end.isoformat()),
                total=to_major(invoice.total, "EUR"), status=invoice.status,
                lines=[
                    (
                        line.kind, line.description,
                        line.period_start.isoformat() if line.period_start else None,
                        line.period_end.isoformat() if line.period_end else None,
                        to_major(line.total, "EUR"),
                    )
                    for line in invoice.lines
                ],
                rows=list(invoice.lines),
            )
            for invoice in found
        ]  # fmt: skip


async def lifecycle_call(
    database: Database, tenant: Tenant,
    operation: Callable[..., Awaitable[PlanSubscriptionView]], *args: Any, **kwargs: Any,
) -> PlanSubscriptionView:  # fmt: skip
    """``operation(session, ctx, *args, **kwargs)`` in a transaction of its own."""

    async def call(session: AsyncSession, ctx: TenantContext) -> PlanSubscriptionView:
        return await operation(session, ctx, *args, **kwargs)

    return await in_transaction(database, tenant, call)


def summary(billed: Sequence[Billed]) -> list[tuple[str, str, str, Decimal]]:
    """Each invoice as (key without the subscription id, period start, end, total)."""
    return [(invoice.key.partition(":")[2], *invoice.period, invoice.total) for invoice in billed]
