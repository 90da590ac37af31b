"""Creating, reading and listing general subscriptions.

Creating one (``create``) checks, in this order: the customer; at least one item; for
each item its price (the current version), the price's plan and that both can be sold
today in the business unit's currency (``catalog.plan_lookup.check_sellable``); the
quantity (default the price's ``default_quantity``, at least 1) and the unit amount
override (not negative; only for flat-fee and per-unit prices); the terms (a termed
subscription needs ``initial_period`` ≥ 1 and its unit, an evergreen one takes no term
fields); the trial; the gift's recipient (another customer of the tenant).

Dates are the customer's: today is its test clock's day when it has one. The status it
starts in:

- ``draft`` when asked: nothing is billed until ``lifecycle.activate``;
- ``pending`` when it starts after today (it starts on that day, in the billing run);
- ``trial`` with a trial: billing is anchored on the trial's end, the first day billed;
- ``active`` otherwise, anchored on its start: what is due today (the first in-advance
  period, one-time prices; for a start in the past, every period since) is billed in
  the same transaction.

A termed subscription's current term is ``[term_start, term_start + initial period)``;
renewals (``auto_renew``) last ``renewal_period`` units, by default the initial ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import test_clocks
from flexbill.catalog.plan_lookup import check_sellable, current_price, get_plan
from flexbill.catalog.plan_models import ChargeModel, PeriodUnit, PlanPrice
from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.pagination import Page, PageRequest
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.events.service import rfc3339
from flexbill.plan_subscriptions import billing, queries, terms
from flexbill.plan_subscriptions.contract import (
    ItemInput,
    NewPlanSubscription,
    PlanSubscriptionView,
)
from flexbill.plan_subscriptions.days import Days
from flexbill.plan_subscriptions.events import created_data
from flexbill.plan_subscriptions.lines import OVERRIDABLE
from flexbill.plan_subscriptions.models import (
    ID_PREFIX,
    ITEM_ID_PREFIX,
    PlanSubscription,
    PlanSubscriptionStatus,
    SubscriptionItem,
    SubscriptionType,
    TrialUnit,
)
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

Status = PlanSubscriptionStatus


async def customer_of(
    session: AsyncSession, ctx: TenantContext, customer_id: str, *, path: str = "customerId"
) -> Customer:
    customer = await session.get(Customer, (ctx.tenant_id, customer_id))
    if customer is None:
        message = f"Customer '{customer_id}' not found"
        raise FlexbillError(
            "CUSTOMER_NOT_FOUND", message, (ErrorDetail(path, message, "not_found"),)
        )
    return customer


def history_entry(
    at: datetime, action: str, from_status: str | None, to_status: str, effective_on: date,
    option: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "at": rfc3339(at), "action": action, "fromStatus": from_status, "toStatus": to_status,
        "option": option, "effectiveOn": effective_on.isoformat(),
    }  # fmt: skip


def _invalid(path: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed.field(path, message, code)


async def _item(
    session: AsyncSession, ctx: TenantContext, index: int, wanted: ItemInput, now: datetime
) -> tuple[SubscriptionItem, PlanPrice]:
    """A new item (not added yet) for ``wanted``, checked."""
    path = f"items.{index}"
    try:
        price = await current_price(session, ctx, wanted.plan_price_id)
        plan = await get_plan(session, ctx, price.plan_id)
        check_sellable(plan, price, ctx.currency, now)
    except FlexbillError as error:
        detail = ErrorDetail(f"{path}.planPriceId", error.message, error.code.lower())
        raise replace(error, details=(detail,)) from None
    quantity = price.default_quantity if wanted.quantity is None else wanted.quantity
    if quantity < 1:
        raise _invalid(f"{path}.quantity", "quantity must be at least 1", "too_small")
    override = wanted.unit_amount_override
    if override is not None:
        if override < 0:
            raise _invalid(
                f"{path}.unitAmountOverride", "unitAmountOverride must not be negative",
                "too_small",
            )  # fmt: skip
        if ChargeModel(price.charge_model) not in OVERRIDABLE:
            raise _invalid(
                f"{path}.unitAmountOverride",
                f"A {price.charge_model} price takes no unit amount override: its tiers price it",
            )
    item = SubscriptionItem(
        tenant_id=ctx.tenant_id, id=new_id(ITEM_ID_PREFIX), position=index + 1, plan_id=plan.id,
        product_id=wanted.product_id, plan_price_id=price.id, plan_price_version=price.version,
        quantity=quantity, unit_amount_override=override, one_time_billed=False,
    )  # fmt: skip
    return item, price


def _positive(value: int | None, path: str) -> None:
    if value is not None and value < 1:
        raise _invalid(path, f"{path} must be at least 1", "too_small")


def _check_terms(new: NewPlanSubscription) -> None:
    if new.type == SubscriptionType.EVERGREEN:
        given = {
            "termStart": new.term_start, "initialPeriod": new.initial_period,
            "initialPeriodUnit": new.initial_period_unit, "renewalPeriod": new.renewal_period,
            "renewalPeriodUnit": new.renewal_period_unit, "renewalType": new.renewal_type,
            "autoRenew": new.auto_renew or None,
        }  # fmt: skip
        for path, value in given.items():
            if value is not None:
                raise _invalid(path, f"An evergreen subscription has no term: {path} not taken")
        return
    if new.initial_period is None:
        raise _invalid("initialPeriod", "A termed subscription needs initialPeriod", "required")
    _positive(new.initial_period, "initialPeriod")
    if new.initial_period_unit is None:
        raise _invalid(
            "initialPeriodUnit", "A termed subscription needs initialPeriodUnit", "required"
        )
    _positive(new.renewal_period, "renewalPeriod")


def _check_trial(new: NewPlanSubscription) -> None:
    if new.trial_period is None:
        if new.trial_period_unit is not None:
            raise _invalid("trialPeriod", "trialPeriodUnit needs a trialPeriod", "required")
        return
    _positive(new.trial_period, "trialPeriod")
    if new.trial_period_unit is None:
        raise _invalid("trialPeriodUnit", "A trial needs its unit (days or months)", "required")


async def _check_gift(session: AsyncSession, ctx: TenantContext, new: NewPlanSubscription) -> None:
    if not new.is_gift:
        if new.recipient_id is not None:
            raise _invalid("recipientId", "recipientId is only taken with isGift")
        return
    if new.recipient_id is None:
        raise _invalid("recipientId", "A gift needs its recipient", "required")
    if new.recipient_id == new.customer_id:
        raise _invalid("recipientId", "A gift's recipient is another customer")
    await customer_of(session, ctx, new.recipient_id, path="recipientId")


def schedule(subscription: PlanSubscription, start: date, term_start: date | None) -> None:
    """Set the dates that follow from starting on ``start``: the trial's end, the billing
    anchor and, for a termed subscription, its first term (from ``term_start``, by
    default ``start``)."""
    s = subscription
    s.start_date = start
    s.trial_end = None
    if s.trial_period is not None and s.trial_period_unit is not None:
        s.trial_end = terms.trial_end(start, s.trial_period, TrialUnit(s.trial_period_unit))
    s.billing_anchor = s.trial_end or start
    if s.type != SubscriptionType.TERMED:
        return
    assert s.initial_period is not None, "checked by _check_terms"
    assert s.initial_period_unit is not None, "checked by _check_terms"
    s.term_start = term_start or start
    first = terms.term(s.term_start, s.initial_period, PeriodUnit(s.initial_period_unit))
    s.current_term_start, s.current_term_end = first.start, first.end
    s.billing_end_date = None if s.auto_renew else first.end


def starting_status(subscription: PlanSubscription, today: date) -> Status:
    """The status of a subscription starting on its ``start_date`` as of ``today``."""
    if subscription.start_date > today:
        return Status.PENDING
    if subscription.trial_end is not None:
        return Status.TRIAL
    return Status.ACTIVE


def start_items(subscription: PlanSubscription, items: Sequence[SubscriptionItem]) -> None:
    for item in items:
        item.started_on = subscription.start_date
        item.billed_through = subscription.billing_anchor


async def create(
    session: AsyncSession, ctx: TenantContext, new: NewPlanSubscription, *, created_by: str
) -> PlanSubscriptionView:
    """Start ``new``: validate it (customer, plans and prices usable today, terms), write
    the subscription and its items, bill what is due at once (the first in-advance period
    unless there is a trial or it starts later) and emit ``subscription.created``."""
    customer = await customer_of(session, ctx, new.customer_id)
    now = await test_clocks.customer_now(session, ctx, customer)
    today = now.date()
    if not new.items:
        raise _invalid("items", "A subscription needs at least one item", "too_small")
    made = [await _item(session, ctx, i, wanted, now) for i, wanted in enumerate(new.items)]
    _check_terms(new)
    _check_trial(new)
    await _check_gift(session, ctx, new)
    start = new.start_date or today
    termed = new.type == SubscriptionType.TERMED
    subscription = PlanSubscription(
        tenant_id=ctx.tenant_id, id=new_id(ID_PREFIX), customer_id=customer.id, name=new.name,
        status=Status.DRAFT, type=new.type, currency=ctx.currency,
        order_date=new.order_date or today,
        initial_period=new.initial_period, initial_period_unit=new.initial_period_unit,
        renewal_type=new.renewal_type,
        renewal_period=(new.renewal_period or new.initial_period) if termed else None,
        renewal_period_unit=(
            (new.renewal_period_unit or new.initial_period_unit) if termed else None
        ),
        auto_renew=new.auto_renew, renewal_count=0, trial_period=new.trial_period,
        trial_period_unit=new.trial_period_unit, is_gift=new.is_gift,
        recipient_id=new.recipient_id, invoice_separately=new.invoice_separately,
        custom_fields=dict(new.custom_fields), notes=new.notes, total_collected=0,
        created_by=created_by,
    )  # fmt: skip
    schedule(subscription, start, new.term_start)
    status = Status.DRAFT if new.draft else starting_status(subscription, today)
    subscription.status = status
    subscription.history = [history_entry(now, "created", None, status, start)]
    items = [item for item, _ in made]
    for item in items:
        item.subscription_id = subscription.id
    start_items(subscription, items)
    session.add(subscription)
    await session.flush()  # items name their subscription (a foreign key)
    session.add_all(items)
    days = Days(
        subscription, items, {item.id: price for item, price in made}, [],
        billing.usage_reader(session, ctx.tenant_id), now,
    )  # fmt: skip
    subscription.next_bill_date = (
        None if status is Status.DRAFT else days.next_bill_date(start - timedelta(days=1))
    )
    await session.flush()
    await events.emit(
        session, ctx, EventType.SUBSCRIPTION_CREATED, created_data(subscription, items)
    )
    if subscription.next_bill_date is not None and subscription.next_bill_date <= today:
        settings = await get_settings(session, ctx)
        await billing.bill_until(session, ctx, settings, subscription, now, days=days)
    return queries.view(subscription, items)


async def get(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """One subscription with its items; another tenant's is ``SUBSCRIPTION_NOT_FOUND``."""
    return await queries.get(session, ctx, subscription_id)


async def list_subscriptions(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[PlanSubscriptionView]:
    """Filtered by ``customerId``, ``status``, ``type``; sorted by ``createdAt`` or
    ``updatedAt``; the items of the whole page come from one query."""
    return await queries.list_page(session, ctx, filters, page)
