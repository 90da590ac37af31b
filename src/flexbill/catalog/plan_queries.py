"""Reading the plan catalog: plans with their current prices, the lists with their
filters and sort orders, the versions of a price, and whether anything still names a
plan or a price (subscription items, invoice lines). ``plans.py`` holds the writes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, exists, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

from flexbill.billing.models import InvoiceLine
from flexbill.catalog.models import Product
from flexbill.catalog.plan_lookup import current_price, get_plan, price_version
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    Plan,
    PlanPrice,
    PlanStatus,
)
from flexbill.core.filtering import Filter, FilterSet, boolean, equals, one_of
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.plan_subscriptions.models import SubscriptionItem
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class PlanView:
    plan: Plan
    prices: Sequence[PlanPrice]  # the current versions, oldest first


class JsonArrayHolds(FunctionElement[bool]):
    """Whether a JSON array column holds a string, the same on both databases. The
    string is a bound parameter."""

    inherit_cache = True
    name = "json_array_holds"


@compiles(JsonArrayHolds, "postgresql")
def _json_array_holds_postgresql(element: JsonArrayHolds, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST({column} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT)))"


@compiles(JsonArrayHolds, "sqlite")
def _json_array_holds_sqlite(element: JsonArrayHolds, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    # Both parts are compiled SQL: a column and a bound parameter, never client text.
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"  # noqa: S608


def _holds(name: str, column: InstrumentedAttribute[Any]) -> Filter:
    def condition(value: str) -> ColumnElement[bool]:
        return JsonArrayHolds(column, literal(value, type_=String()))

    return Filter(name, condition)


PLAN_SORT_ORDERS = SortOrders(
    columns={"createdAt": Plan.created_at, "updatedAt": Plan.updated_at, "name": Plan.name},
    id_column=Plan.id,
)

PLAN_FILTERS = FilterSet(
    one_of("status", Plan.status, tuple(PlanStatus)),
    boolean("isGift", Plan.is_gift.is_(True), Plan.is_gift.is_(False)),
    _holds("productId", Plan.product_ids),
    custom_fields=Plan.custom_fields,
)

# Only current versions are listed, so (created_at, id) is unique among them.
PRICE_SORT_ORDERS = SortOrders(columns={"createdAt": PlanPrice.created_at}, id_column=PlanPrice.id)

PRICE_FILTERS = FilterSet(
    equals("planId", PlanPrice.plan_id),
    one_of("status", PlanPrice.status, tuple(PlanStatus)),
    one_of("chargeModel", PlanPrice.charge_model, tuple(ChargeModel)),
    one_of("billingTiming", PlanPrice.billing_timing, tuple(BillingTiming)),
)


def plans(tenant_id: str) -> Select[Plan]:
    return select(Plan).where(Plan.tenant_id == tenant_id)


def current_prices(tenant_id: str) -> Select[PlanPrice]:
    return select(PlanPrice).where(
        PlanPrice.tenant_id == tenant_id, PlanPrice.superseded_at.is_(None)
    )


async def current_prices_of(
    session: AsyncSession, tenant_id: str, plan_ids: Collection[str]
) -> dict[str, list[PlanPrice]]:
    """The current prices of every plan in ``plan_ids``, oldest first, in one query."""
    found: dict[str, list[PlanPrice]] = {plan_id: [] for plan_id in plan_ids}
    if not plan_ids:
        return found
    statement = (
        current_prices(tenant_id)
        .where(PlanPrice.plan_id.in_(sorted(plan_ids)))
        .order_by(PlanPrice.created_at, PlanPrice.id)
    )
    for price in await session.scalars(statement):
        found[price.plan_id].append(price)
    return found


async def version_billed(session: AsyncSession, tenant_id: str, price: PlanPrice) -> bool:
    """Whether an invoice line names this version of the price."""
    statement = select(
        exists().where(
            InvoiceLine.tenant_id == tenant_id,
            InvoiceLine.plan_price_id == price.id,
            InvoiceLine.plan_price_version == price.version,
        )
    )
    return bool(await session.scalar(statement))


async def prices_in_use(session: AsyncSession, tenant_id: str, price_ids: Collection[str]) -> bool:
    """Whether a subscription item or an invoice line names any version of the prices.

    Items are found through their price (indexed), not through their ``plan_id``: an
    item's price always belongs to the item's plan, as prices never change plans."""
    if not price_ids:
        return False
    wanted = sorted(set(price_ids))
    named_by_item = exists().where(
        SubscriptionItem.tenant_id == tenant_id, SubscriptionItem.plan_price_id.in_(wanted)
    )
    named_by_line = exists().where(
        InvoiceLine.tenant_id == tenant_id, InvoiceLine.plan_price_id.in_(wanted)
    )
    return bool(await session.scalar(select(named_by_item | named_by_line)))


async def price_ids_of_plan(session: AsyncSession, tenant_id: str, plan_id: str) -> list[str]:
    """The ids of every price of the plan (each once, whatever its versions)."""
    statement = (
        select(PlanPrice.id)
        .where(PlanPrice.tenant_id == tenant_id, PlanPrice.plan_id == plan_id)
        .distinct()
    )
    return list(await session.scalars(statement))


async def existing_products(
    session: AsyncSession, tenant_id: str, product_ids: Collection[str]
) -> set[str]:
    """Which of ``product_ids`` name products of the tenant's catalog."""
    if not product_ids:
        return set()
    statement = select(Product.id).where(
        Product.tenant_id == tenant_id, Product.id.in_(sorted(set(product_ids)))
    )
    return set(await session.scalars(statement))


async def plan_view(session: AsyncSession, tenant_id: str, plan: Plan) -> PlanView:
    prices = await current_prices_of(session, tenant_id, [plan.id])
    return PlanView(plan, prices[plan.id])


async def get_plan_view(session: AsyncSession, ctx: TenantContext, plan_id: str) -> PlanView:
    """The plan with its current prices; ``PLAN_NOT_FOUND`` if it is not the tenant's."""
    return await plan_view(session, ctx.tenant_id, await get_plan(session, ctx, plan_id))


async def list_plans(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PlanView]:
    """Plans filtered by ``status``, ``isGift``, ``productId`` and custom fields; the
    current prices of the whole page come from one query."""
    statement = PLAN_FILTERS.apply(plans(ctx.tenant_id), filters)
    found = await paginate(session, statement, PLAN_SORT_ORDERS, page)
    prices = await current_prices_of(session, ctx.tenant_id, [plan.id for plan in found.items])
    return Page(
        items=[PlanView(plan, prices[plan.id]) for plan in found.items],
        limit=found.limit, has_more=found.has_more, next_cursor=found.next_cursor,
    )  # fmt: skip


async def get_price(
    session: AsyncSession, ctx: TenantContext, price_id: str, version: int | None = None
) -> PlanPrice:
    """The current version of a price, or version ``version``; ``PLAN_PRICE_NOT_FOUND``
    if there is no such price or version in the tenant."""
    if version is None:
        return await current_price(session, ctx, price_id)
    return await price_version(session, ctx, price_id, version)


async def list_prices(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PlanPrice]:
    """Current versions, filtered by ``planId``, ``status``, ``chargeModel`` and
    ``billingTiming``."""
    statement = PRICE_FILTERS.apply(current_prices(ctx.tenant_id), filters)
    return await paginate(session, statement, PRICE_SORT_ORDERS, page)


async def price_versions(
    session: AsyncSession, ctx: TenantContext, price_id: str
) -> list[PlanPrice]:
    """Every version of a price, newest first; ``PLAN_PRICE_NOT_FOUND`` if none."""
    statement = (
        select(PlanPrice)
        .where(PlanPrice.tenant_id == ctx.tenant_id, PlanPrice.id == price_id)
        .order_by(PlanPrice.version.desc())
    )
    versions = list(await session.scalars(statement))
    if not versions:
        await current_price(session, ctx, price_id)  # raises PLAN_PRICE_NOT_FOUND
    return versions
