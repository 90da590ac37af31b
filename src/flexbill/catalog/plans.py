"""Plans and their prices: creating, reading, changing and deleting them (SubscriptionFlow's
plans, plan prices and link-product-plan, seed 004; ADR 0009).

A price version that an invoice line has billed is never changed in place: a change
writes version N+1 under the same id and marks the old one superseded, so every invoice
line keeps explaining itself. A version nobody billed yet is edited in place.

Every write to a price locks its plan first, so two changes of one price (or a change and
the plan's deletion) run one after the other and never both write version N+1.

Amounts are major-unit decimals per currency (``charge_models.PriceBook``). Unit prices
may have up to six decimals; a flat amount (a flat fee, a tier's flat amount) is money
as it will be billed, so it has at most the currency's decimals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.catalog import plan_queries
from flexbill.catalog.charge_models import PriceBook, Tier, normalised, normalised_quantity
from flexbill.catalog.plan_lookup import current_price, plan_not_found
from flexbill.catalog.plan_models import (
    BillingTiming,
    ChargeModel,
    PeriodUnit,
    Plan,
    PlanPrice,
    PlanStatus,
    PriceCategory,
)
from flexbill.core import clock
from flexbill.core.errors import Conflict, ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.tenancy.context import TenantContext

PLAN_ID_PREFIX = "plan"
PRICE_ID_PREFIX = "price"
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


class Keep(Enum):
    """Marks a field a change leaves as it is (``None`` would clear it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class NewPlan:
    name: str
    description: str | None = None
    status: PlanStatus = PlanStatus.ACTIVE
    effective_start_date: datetime | None = None
    effective_end_date: datetime | None = None
    is_gift: bool = False
    product_ids: Sequence[str] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanChanges:
    """A partial update: ``KEEP`` leaves a field as it is; ``product_ids`` and
    ``custom_fields`` replace the whole list or object."""

    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    status: PlanStatus | Keep = KEEP
    effective_start_date: datetime | Keep | None = KEEP
    effective_end_date: datetime | Keep | None = KEEP
    is_gift: bool | Keep = KEEP
    product_ids: Sequence[str] | Keep = KEEP
    custom_fields: Mapping[str, Any] | Keep = KEEP


@dataclass(frozen=True)
class BookInput:
    """One currency's amounts as a client sent them: ``None`` where it sent nothing."""

    unit_amount: Decimal | None = None
    tiers: Sequence[Tier] | None = None


@dataclass(frozen=True)
class PriceTerms:
    """Everything of a price but its plan and amounts; field names are the columns'."""

    name: str
    description: str | None = None
    status: PlanStatus = PlanStatus.ACTIVE
    category: PriceCategory = PriceCategory.RECURRING
    charge_model: ChargeModel = ChargeModel.FLAT_FEE
    billing_timing: BillingTiming = BillingTiming.IN_ADVANCE
    billing_period: int = 1
    billing_period_unit: PeriodUnit = PeriodUnit.MONTH
    included_units: Decimal = Decimal(0)
    default_quantity: int = 1
    uom: str | None = None
    list_price_base: str | None = None
    trigger_condition: str | None = None
    end_date: date | None = None
    billing_period_alignment: str | None = None
    usage_records_rating_option: str | None = None
    accounting_account_code: str | None = None
    billing_month: int | None = None
    billing_day_type: int | None = None
    billing_week_day: int | None = None


@dataclass(frozen=True)
class NewPlanPrice:
    plan_id: str
    terms: PriceTerms
    amounts: Mapping[str, BookInput]


@dataclass(frozen=True)
class PriceChanges:
    """A partial update of a price; ``KEEP`` leaves a field as it is, ``amounts``
    replaces every currency's amounts."""

    name: str | Keep = KEEP
    description: str | Keep | None = KEEP
    status: PlanStatus | Keep = KEEP
    category: PriceCategory | Keep = KEEP
    charge_model: ChargeModel | Keep = KEEP
    billing_timing: BillingTiming | Keep = KEEP
    billing_period: int | Keep = KEEP
    billing_period_unit: PeriodUnit | Keep = KEEP
    included_units: Decimal | Keep = KEEP
    default_quantity: int | Keep = KEEP
    uom: str | Keep | None = KEEP
    list_price_base: str | Keep | None = KEEP
    trigger_condition: str | Keep | None = KEEP
    end_date: date | Keep | None = KEEP
    billing_period_alignment: str | Keep | None = KEEP
    usage_records_rating_option: str | Keep | None = KEEP
    accounting_account_code: str | Keep | None = KEEP
    billing_month: int | Keep | None = KEEP
    billing_day_type: int | Keep | None = KEEP
    billing_week_day: int | Keep | None = KEEP
    amounts: Mapping[str, BookInput] | Keep = KEEP


@dataclass(frozen=True)
class PriceUpdate:
    """A price after a change: ``new_version`` when the change wrote a new version
    because the previous one had been billed; ``changed`` is false for a change that
    changed nothing."""

    price: PlanPrice
    changed: bool
    new_version: bool


_TERM_NAMES = tuple(f.name for f in fields(PriceTerms))


# ---------------------------------------------------------------- validation (pure)


def _invalid(details: Sequence[ErrorDetail]) -> ValidationFailed:
    return ValidationFailed("Invalid request", details)


def _tiered(model: ChargeModel) -> bool:
    return model in (ChargeModel.TIERED, ChargeModel.VOLUME)


def _from_input(
    model: ChargeModel, book: BookInput, path: str
) -> tuple[PriceBook, list[ErrorDetail]]:
    """What a client sent, as a ``PriceBook``: a flat fee or per-unit price needs a
    ``unitAmount``; a tiered or volume price is priced by its tiers alone."""
    found = []
    if _tiered(model):
        if book.unit_amount is not None:
            found.append(
                ErrorDetail(
                    f"{path}.unitAmount",
                    f"a {model.value} price prices units by its tiers; send tiers only",
                    "unrecognized_keys",
                )
            )
        if book.tiers is None:
            found.append(ErrorDetail(f"{path}.tiers", "Required", "invalid_type"))
    elif book.unit_amount is None:
        found.append(ErrorDetail(f"{path}.unitAmount", "Required", "invalid_type"))
    priced = PriceBook(unit_amount=book.unit_amount or Decimal(0), tiers=tuple(book.tiers or ()))
    return priced, found


def checked_amounts(
    model: ChargeModel, amounts: Mapping[str, PriceBook | BookInput]
) -> dict[str, dict[str, Any]]:
    """The amounts of a price with charge model ``model``, normalised and as stored
    (``{currency: PriceBook.to_json()}``); ``VALIDATION_ERROR`` with one detail per
    problem (``amounts.EUR.tiers.1.upTo``) if anything is wrong."""
    if not amounts:
        raise ValidationFailed.field(
            "amounts", "a price needs an amount in at least one currency", "too_small"
        )
    found: list[ErrorDetail] = []
    stored: dict[str, dict[str, Any]] = {}
    for currency, given in amounts.items():
        path = f"amounts.{currency}"
        if not _CURRENCY_CODE.match(currency):
            found.append(
                ErrorDetail(
                    path, "currencies are ISO 4217 codes: three upper-case letters",
                    "invalid_string",
                )
            )  # fmt: skip
            continue
        if isinstance(given, BookInput):
            book, missing = _from_input(model, given, path)
            if missing:
                found.extend(missing)
                continue
        else:
            book = given
        book, book_problems = normalised(model, book, currency)
        found.extend(
            ErrorDetail(f"{path}.{where}", message, code) for where, message, code in book_problems
        )
        stored[currency] = book.to_json()
    if found:
        raise _invalid(found)
    return stored


def _check_terms(values: Mapping[str, Any]) -> dict[str, Any]:
    """The terms of a price checked together; returns them with ``included_units``
    normalised."""
    found = []
    if (
        values["category"] == PriceCategory.ONE_TIME
        and values["billing_timing"] == BillingTiming.IN_ARREARS
    ):
        found.append(
            ErrorDetail(
                "billingTiming", "a one_time price is billed in advance, on the first invoice",
                "invalid_enum_value",
            )
        )  # fmt: skip
    included, problems = normalised_quantity(values["included_units"])
    found.extend(ErrorDetail("includedUnits", message, code) for message, code in problems)
    if found:
        raise _invalid(found)
    return {**values, "included_units": included}


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(UTC)


def _check_effective_dates(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationFailed.field(
            "effectiveEndDate", "effectiveEndDate must be after effectiveStartDate", "too_small"
        )


# ---------------------------------------------------------------- plans


async def _check_products(
    session: AsyncSession, ctx: TenantContext, product_ids: Sequence[str]
) -> list[str]:
    """Each product listed once and existing in the tenant's catalog."""
    seen: set[str] = set()
    for index, product_id in enumerate(product_ids):
        if product_id in seen:
            raise ValidationFailed.field(
                f"productIds.{index}", f"Product '{product_id}' is listed twice", "duplicate"
            )
        seen.add(product_id)
    existing = await plan_queries.existing_products(session, ctx.tenant_id, seen)
    for index, product_id in enumerate(product_ids):
        if product_id not in existing:
            raise product_not_found(product_id, f"productIds.{index}")
    return list(product_ids)


def product_not_found(product_id: str, path: str) -> FlexbillError:
    message = f"Product '{product_id}' not found"
    return FlexbillError("NOT_FOUND", message, (ErrorDetail(path, message, "not_found"),))


async def _locked_plan(session: AsyncSession, ctx: TenantContext, plan_id: str) -> Plan:
    plan = await session.get(
        Plan, (ctx.tenant_id, plan_id), with_for_update=True, populate_existing=True
    )
    if plan is None:
        raise plan_not_found(plan_id)
    return plan


async def create_plan(
    session: AsyncSession, ctx: TenantContext, new: NewPlan
) -> plan_queries.PlanView:
    """A new plan, without prices yet. Raises ``VALIDATION_ERROR`` (dates, repeated
    products) and ``NOT_FOUND`` for an unknown product (path ``productIds.<index>``)."""
    _check_effective_dates(new.effective_start_date, new.effective_end_date)
    product_ids = await _check_products(session, ctx, new.product_ids)
    plan = Plan(
        tenant_id=ctx.tenant_id, id=new_id(PLAN_ID_PREFIX), name=new.name,
        description=new.description, status=new.status,
        effective_start_date=_utc(new.effective_start_date),
        effective_end_date=_utc(new.effective_end_date), is_gift=new.is_gift,
        product_ids=product_ids, custom_fields=dict(new.custom_fields),
        created_by=ctx.actor,
    )  # fmt: skip
    session.add(plan)
    await session.flush()
    return plan_queries.PlanView(plan, [])


async def update_plan(
    session: AsyncSession, ctx: TenantContext, plan_id: str, changes: PlanChanges
) -> plan_queries.PlanView:
    """Change any field of a plan. An inactive plan takes no new subscriptions; running
    ones go on. Raises ``PLAN_NOT_FOUND`` and the errors of ``create_plan``."""
    plan = await _locked_plan(session, ctx, plan_id)
    values: dict[str, Any] = {}
    for change in fields(changes):
        value = getattr(changes, change.name)
        if value is not KEEP:
            values[change.name] = value
    _check_effective_dates(
        values.get("effective_start_date", plan.effective_start_date),
        values.get("effective_end_date", plan.effective_end_date),
    )
    if "product_ids" in values:
        values["product_ids"] = await _check_products(session, ctx, values["product_ids"])
    for name in ("effective_start_date", "effective_end_date"):
        if name in values:
            values[name] = _utc(values[name])
    if "custom_fields" in values:
        values["custom_fields"] = dict(values["custom_fields"])
    for name, value in values.items():
        if getattr(plan, name) != value:
            setattr(plan, name, value)
    await session.flush()
    return await plan_queries.plan_view(session, ctx.tenant_id, plan)


async def delete_plan(session: AsyncSession, ctx: TenantContext, plan_id: str) -> str:
    """Delete a plan and its prices. Raises ``PLAN_NOT_FOUND``, and ``PLAN_IN_USE``
    (a conflict) while a subscription item or an invoice line names one of its prices:
    deactivate such a plan instead."""
    plan = await _locked_plan(session, ctx, plan_id)
    price_ids = await plan_queries.price_ids_of_plan(session, ctx.tenant_id, plan.id)
    if await plan_queries.prices_in_use(session, ctx.tenant_id, price_ids):
        raise Conflict(
            "PLAN_IN_USE",
            f"Plan '{plan.id}' has prices that subscriptions or invoices name; "
            "set its status to inactive instead",
        )
    await session.execute(
        delete(PlanPrice).where(PlanPrice.tenant_id == ctx.tenant_id, PlanPrice.plan_id == plan.id)
    )
    await session.delete(plan)
    await session.flush()
    return plan.id


async def link_product(
    session: AsyncSession, ctx: TenantContext, plan_id: str, product_id: str
) -> plan_queries.PlanView:
    """Sell the plan with a catalog product (SubscriptionFlow's link-product-plan). A
    product already linked stays linked once. Raises ``PLAN_NOT_FOUND`` and
    ``NOT_FOUND`` for an unknown product (path ``productId``)."""
    plan = await _locked_plan(session, ctx, plan_id)
    if product_id not in plan.product_ids:
        if not await plan_queries.existing_products(session, ctx.tenant_id, [product_id]):
            raise product_not_found(product_id, "productId")
        plan.product_ids = [*plan.product_ids, product_id]
        await session.flush()
    return await plan_queries.plan_view(session, ctx.tenant_id, plan)


async def unlink_product(
    session: AsyncSession, ctx: TenantContext, plan_id: str, product_id: str
) -> plan_queries.PlanView:
    """Stop selling the plan with a product. Raises ``PLAN_NOT_FOUND``, and
    ``NOT_FOUND`` when the product is not linked to the plan."""
    plan = await _locked_plan(session, ctx, plan_id)
    if product_id not in plan.product_ids:
        raise FlexbillError(
            "NOT_FOUND", f"Product '{product_id}' is not linked to plan '{plan.id}'"
        )
    plan.product_ids = [linked for linked in plan.product_ids if linked != product_id]
    await session.flush()
    return await plan_queries.plan_view(session, ctx.tenant_id, plan)


# ---------------------------------------------------------------- prices


async def create_price(session: AsyncSession, ctx: TenantContext, new: NewPlanPrice) -> PlanPrice:
    """Version 1 of a new price of plan ``new.plan_id``. Raises ``PLAN_NOT_FOUND`` (path
    ``planId``) and ``VALIDATION_ERROR`` for terms or amounts that do not fit together."""
    try:
        plan = await _locked_plan(session, ctx, new.plan_id)
    except FlexbillError as error:
        raise FlexbillError(
            error.code, error.message, (ErrorDetail("planId", error.message, "not_found"),)
        ) from None
    terms = _check_terms({name: getattr(new.terms, name) for name in _TERM_NAMES})
    amounts = checked_amounts(terms["charge_model"], new.amounts)
    price = PlanPrice(
        tenant_id=ctx.tenant_id, id=new_id(PRICE_ID_PREFIX), version=1, plan_id=plan.id,
        amounts=amounts, created_by=ctx.actor, **terms,
    )  # fmt: skip
    session.add(price)
    await session.flush()
    return price


def _stored_terms(price: PlanPrice) -> dict[str, Any]:
    return {name: getattr(price, name) for name in _TERM_NAMES}


async def _locked_current_price(
    session: AsyncSession, ctx: TenantContext, price_id: str
) -> PlanPrice:
    """The current version of a price, after locking its plan (the lock every price
    write takes), read again so that a version written meanwhile is seen."""
    price = await current_price(session, ctx, price_id)
    await _locked_plan(session, ctx, price.plan_id)
    statement = (
        plan_queries.current_prices(ctx.tenant_id)
        .where(PlanPrice.id == price_id)
        .execution_options(populate_existing=True)
    )
    locked = await session.scalar(statement)
    if locked is None:
        return await current_price(session, ctx, price_id)  # raises PLAN_PRICE_NOT_FOUND
    return locked


async def update_price(
    session: AsyncSession, ctx: TenantContext, price_id: str, changes: PriceChanges
) -> PriceUpdate:
    """Change any field of a price but its plan. If an invoice line names the current
    version, the change is written as version N+1 (same id, created now) and the old
    version is marked superseded; otherwise the current version changes in place. A
    change that changes nothing writes nothing.

    Raises ``PLAN_PRICE_NOT_FOUND`` and ``VALIDATION_ERROR`` for terms or amounts that
    do not fit together (checked on the price as it would be after the change)."""
    price = await _locked_current_price(session, ctx, price_id)
    before = _stored_terms(price)
    terms = dict(before)
    for name in _TERM_NAMES:
        value = getattr(changes, name)
        if value is not KEEP:
            terms[name] = value
    terms = _check_terms(terms)
    model = ChargeModel(terms["charge_model"])
    if changes.amounts is not KEEP:
        amounts = checked_amounts(model, changes.amounts)
    else:
        stored = {currency: PriceBook.from_json(book) for currency, book in price.amounts.items()}
        amounts = checked_amounts(model, stored)
    if terms == before and amounts == price.amounts:
        return PriceUpdate(price, changed=False, new_version=False)
    if await plan_queries.version_billed(session, ctx.tenant_id, price):
        now = clock.now()
        price.superseded_at = now
        successor = PlanPrice(
            tenant_id=ctx.tenant_id, id=price.id, version=price.version + 1,
            plan_id=price.plan_id, amounts=amounts, created_by=ctx.actor, created_at=now,
            updated_at=now, **terms,
        )  # fmt: skip
        session.add(successor)
        await session.flush()
        return PriceUpdate(successor, changed=True, new_version=True)
    for name, value in terms.items():
        if getattr(price, name) != value:
            setattr(price, name, value)
    if amounts != price.amounts:
        price.amounts = amounts
    await session.flush()
    return PriceUpdate(price, changed=True, new_version=False)


async def delete_price(session: AsyncSession, ctx: TenantContext, price_id: str) -> str:
    """Delete a price (every version). Raises ``PLAN_PRICE_NOT_FOUND``, and
    ``PLAN_PRICE_IN_USE`` (a conflict) while a subscription item or an invoice line
    names it: set its status to inactive instead."""
    price = await _locked_current_price(session, ctx, price_id)
    if await plan_queries.prices_in_use(session, ctx.tenant_id, [price.id]):
        raise Conflict(
            "PLAN_PRICE_IN_USE",
            f"Plan price '{price.id}' is named by subscriptions or invoices; "
            "set its status to inactive instead",
        )
    await session.execute(
        delete(PlanPrice).where(PlanPrice.tenant_id == ctx.tenant_id, PlanPrice.id == price.id)
    )
    await session.flush()
    return price.id
