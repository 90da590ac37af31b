"""Changing an item mid-period: quantity, unit amount override or price, prorated by day.

The change takes effect today (on the customer's clock), once the subscription is billed
up to today as the billing run would have billed it by now. What it costs is
``item_changes_rules.effect``: for an item billed in advance whose current period is
invoiced, a credit for the unused days at the old terms and a charge for them at the new
ones, written as ``PendingCharge`` rows that the subscription's next invoice bills beside
its next period, or billed at once on an invoice of their own (``invoice_now``). An item
billed in arrears is rated at its period's end at the terms it has then: nothing is
prorated. Another price (or version) of an item billed in advance ends the item today
and starts a new one; an in-arrears or one-time item changes in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import invoicing
from flexbill.billing.models import Invoice, LineKind
from flexbill.billing.test_clocks import customer_now
from flexbill.catalog import plan_lookup
from flexbill.catalog.plan_models import ChargeModel, PlanPrice
from flexbill.core.errors import FlexbillError, InvalidState, ValidationFailed
from flexbill.core.ids import new_id
from flexbill.core.money import to_major
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.events.service import rfc3339
from flexbill.plan_subscriptions import billing, lines, queries
from flexbill.plan_subscriptions.contract import ItemChange, PlanSubscriptionView
from flexbill.plan_subscriptions.events import item_data, subscription_data
from flexbill.plan_subscriptions.item_changes_rules import (
    Effect,
    Part,
    Terms,
    check_changeable,
    check_replacement,
    effect,
)
from flexbill.plan_subscriptions.models import (
    ITEM_ID_PREFIX,
    PendingCharge,
    PlanSubscription,
    PlanSubscriptionStatus,
    SubscriptionItem,
)
from flexbill.settings.rules import BusinessSettings
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

PENDING_CHARGE_PREFIX = "pch"


def item_not_found(item_id: str) -> FlexbillError:
    return FlexbillError("SUBSCRIPTION_ITEM_NOT_FOUND", f"Subscription item '{item_id}' not found")


def _check_request(change: ItemChange) -> None:
    if change.quantity is not None and change.quantity < 1:
        raise ValidationFailed.field("quantity", "Must be at least 1", "too_small")
    if change.unit_amount_override is not None and change.unit_amount_override < 0:
        raise ValidationFailed.field("unitAmountOverride", "Must not be negative", "too_small")
    if change.clear_override and change.unit_amount_override is not None:
        raise ValidationFailed.field(
            "unitAmountOverride", "Either clear the override or set one, not both"
        )
    nothing = (
        change.quantity is None
        and change.unit_amount_override is None
        and not change.clear_override
        and change.plan_price_id is None
    )
    if nothing:
        raise ValidationFailed(
            "Nothing to change: send quantity, unitAmountOverride or planPriceId"
        )


async def _item(
    session: AsyncSession, ctx: TenantContext, subscription: PlanSubscription, item_id: str
) -> SubscriptionItem:
    item = await session.get(SubscriptionItem, (ctx.tenant_id, item_id))
    if item is None or item.subscription_id != subscription.id:
        raise item_not_found(item_id)
    return item


async def _new_terms(
    session: AsyncSession,
    ctx: TenantContext,
    item: SubscriptionItem,
    old: Terms,
    change: ItemChange,
    now: datetime,
    currency: str,
) -> Terms:
    """The item's terms after ``change``. Another price (or the current version of the
    item's own price) must be sellable today; an override given with another price id
    replaces the item's, which otherwise does not follow it to another price."""
    price = old.price
    if change.plan_price_id is not None:
        target = await plan_lookup.current_price(session, ctx, change.plan_price_id)
        if (target.id, target.version) != (price.id, price.version):
            check_replacement(item, price, target)
            plan = await plan_lookup.get_plan(session, ctx, target.plan_id)
            plan_lookup.check_sellable(plan, target, currency, now)
            price = target
    override = old.unit_amount_override if price.id == old.price.id else None
    if change.clear_override:
        override = None
    elif change.unit_amount_override is not None:
        if ChargeModel(price.charge_model) not in lines.OVERRIDABLE:
            raise ValidationFailed.field(
                "unitAmountOverride",
                "Only flat_fee and per_unit prices take a unit amount override",
            )
        override = change.unit_amount_override
    plan_lookup.book_of(price, currency)  # PRICE_CURRENCY_MISSING before anything is written
    return Terms(price, change.quantity or old.quantity, override)


def _describe(kind: LineKind, price: PlanPrice, part: Part) -> str:
    what = "Unused time" if kind is LineKind.PRORATION_CREDIT else "Remaining time"
    times = f" × {part.quantity}" if part.quantity != 1 else ""
    last_day = date.fromordinal(part.span.end.toordinal() - 1)
    return f"{what} – {price.name}{times}, {part.span.start.isoformat()} to {last_day.isoformat()}"


def _pending(
    ctx: TenantContext, subscription: PlanSubscription, item_id: str, kind: LineKind,
    price: PlanPrice, part: Part,
) -> PendingCharge:  # fmt: skip
    return PendingCharge(
        tenant_id=ctx.tenant_id, id=new_id(PENDING_CHARGE_PREFIX),
        subscription_id=subscription.id, item_id=item_id, kind=kind.value,
        description=_describe(kind, price, part), quantity=part.quantity, amount=part.amount,
        period_start=part.span.start, period_end=part.span.end,
    )  # fmt: skip


async def _next_position(session: AsyncSession, ctx: TenantContext, subscription_id: str) -> int:
    highest = await session.scalar(
        select(func.max(SubscriptionItem.position)).where(
            SubscriptionItem.tenant_id == ctx.tenant_id,
            SubscriptionItem.subscription_id == subscription_id,
        )
    )
    return (highest or 0) + 1


async def _apply(
    session: AsyncSession,
    ctx: TenantContext,
    subscription: PlanSubscription,
    item: SubscriptionItem,
    new: Terms,
    outcome: Effect,
    day: date,
) -> SubscriptionItem:
    """Write the new terms: on the item itself, or (another price billed in advance) on a
    new item from ``day``, the old one ending on ``day``. The item now billing."""
    replacing = (new.price.id, new.price.version) != (item.plan_price_id, item.plan_price_version)
    recurring_in_advance = not lines.is_one_time(new.price) and lines.in_advance(new.price)
    if replacing and recurring_in_advance:
        item.ended_on = day
        if item.billed_through is not None and item.billed_through > day:
            # Its days from ``day`` on are credited here: nothing may credit them again
            # (a later suspension or cancellation credits what is billed past its day).
            item.billed_through = day
        successor = SubscriptionItem(
            tenant_id=ctx.tenant_id, id=new_id(ITEM_ID_PREFIX), subscription_id=subscription.id,
            position=await _next_position(session, ctx, subscription.id), plan_id=item.plan_id,
            product_id=item.product_id, plan_price_id=new.price.id,
            plan_price_version=new.price.version, quantity=new.quantity,
            unit_amount_override=new.unit_amount_override,
            billed_through=outcome.billed_through, started_on=day,
        )  # fmt: skip
        session.add(successor)
        item = successor
    else:
        item.plan_price_id, item.plan_price_version = new.price.id, new.price.version
        item.quantity, item.unit_amount_override = new.quantity, new.unit_amount_override
        item.billed_through = outcome.billed_through
    due = outcome.billed_through
    if due is not None and (
        subscription.next_bill_date is None or due < subscription.next_bill_date
    ):
        subscription.next_bill_date = due  # a new item billed whole from today
    return item


async def _invoice_now(
    session: AsyncSession,
    ctx: TenantContext,
    settings: BusinessSettings,
    subscription: PlanSubscription,
    charges: Sequence[PendingCharge],
    prices: dict[str, PlanPrice],
    *,
    day: date,
    now: datetime,
) -> str:
    """Bill ``charges`` at once on an invoice of their own; its id."""
    prefix = f"{subscription.id}:{day.isoformat()}:change:"
    earlier = await session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(Invoice.tenant_id == ctx.tenant_id, Invoice.billing_key.startswith(prefix))
    )
    bill = invoicing.Bill(
        key=f"{prefix}{(earlier or 0) + 1}", customer_id=subscription.customer_id,
        subscription_id=subscription.id, billing_group_id=None, period_start=day,
        period_end=max(charge.period_end for charge in charges), charges=[],
        lines=[lines.pending_line(charge, prices) for charge in charges], rental=False,
    )  # fmt: skip
    (issued,) = await invoicing.issue(session, ctx, settings, [bill], now=now)
    assert issued is not None, "a change's invoice key is new"
    for charge in charges:
        charge.invoice_id = issued.invoice.id
    return issued.invoice.id


def _prorations(
    ctx: TenantContext, subscription: PlanSubscription, item: SubscriptionItem,
    changed: SubscriptionItem, old: Terms, new: Terms, outcome: Effect,
) -> list[PendingCharge]:  # fmt: skip
    """The pending charges of ``outcome``: the credit on the item as it was, the charge on
    the item now billing; none for a part that costs nothing."""
    pending = []
    if outcome.credit is not None and outcome.credit.amount != 0:
        kind = LineKind.PRORATION_CREDIT
        pending.append(_pending(ctx, subscription, item.id, kind, old.price, outcome.credit))
    if outcome.charge is not None and outcome.charge.amount != 0:
        kind = LineKind.PRORATION_CHARGE
        pending.append(_pending(ctx, subscription, changed.id, kind, new.price, outcome.charge))
    return pending


def _major(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def _record(
    subscription: PlanSubscription, now: datetime, item: SubscriptionItem,
    changed: SubscriptionItem, old: Terms, new: Terms, invoice_id: str | None,
) -> None:  # fmt: skip
    entry = {
        "at": rfc3339(now), "action": "item_changed", "fromStatus": subscription.status,
        "toStatus": subscription.status, "effectiveOn": now.date().isoformat(),
        "itemId": item.id, "newItemId": changed.id if changed is not item else None,
        "fromPlanPriceId": old.price.id, "fromPlanPriceVersion": old.price.version,
        "toPlanPriceId": new.price.id, "toPlanPriceVersion": new.price.version,
        "fromQuantity": old.quantity, "toQuantity": new.quantity,
        "fromUnitAmountOverride": _major(old.unit_amount_override),
        "toUnitAmountOverride": _major(new.unit_amount_override), "invoiceId": invoice_id,
    }  # fmt: skip
    # A new list, not an append: the ORM notices a JSON column change by assignment.
    subscription.history = [*subscription.history, entry]
    subscription.updated_at = now


def _event_data(
    subscription: PlanSubscription, item: SubscriptionItem, changed: SubscriptionItem,
    pending: Sequence[PendingCharge], invoice_id: str | None, day: date,
) -> dict[str, Any]:  # fmt: skip
    currency = subscription.currency
    return {
        **subscription_data(subscription),
        "item": item_data(changed),
        "endedItemId": item.id if changed is not item else None,
        "effectiveOn": day.isoformat(),
        "prorationCredit": to_major(sum(p.amount for p in pending if p.amount < 0), currency),
        "prorationCharge": to_major(sum(p.amount for p in pending if p.amount > 0), currency),
        "invoiceId": invoice_id,
    }


async def _billed_to_today(
    session: AsyncSession, ctx: TenantContext, settings: BusinessSettings, subscription_id: str
) -> tuple[PlanSubscription, datetime]:
    """The subscription locked and billed up to today on its customer's clock (what the
    billing run would have done by now), so that the change starts from its true state:
    a period starting today is invoiced before it is prorated."""
    subscription = await queries.find(session, ctx, subscription_id, for_update=True)
    customer = await session.get(Customer, (ctx.tenant_id, subscription.customer_id))
    assert customer is not None, "a subscription's customer exists (foreign key)"
    now = await customer_now(session, ctx, customer)
    await billing.bill_until(session, ctx, settings, subscription, now)
    return subscription, now


async def change_item(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, item_id: str,
    change: ItemChange,
) -> PlanSubscriptionView:  # fmt: skip
    """Apply ``change`` from today: a credit for the unused part of the current period
    at the old terms, a charge for the rest at the new ones; on the next invoice or at
    once (``change.invoice_now``)."""
    _check_request(change)
    settings = await get_settings(session, ctx)
    subscription, now = await _billed_to_today(session, ctx, settings, subscription_id)
    if subscription.status != PlanSubscriptionStatus.ACTIVE:
        raise InvalidState(
            "INVALID_STATUS_TRANSITION",
            f"Only an active subscription's items change; '{subscription.id}' is "
            f"{subscription.status}",
        )
    item = await _item(session, ctx, subscription, item_id)
    old_price = await plan_lookup.price_version(
        session, ctx, item.plan_price_id, item.plan_price_version
    )
    check_changeable(item, old_price)
    day, currency = now.date(), subscription.currency
    old = Terms(old_price, item.quantity, item.unit_amount_override)
    new = await _new_terms(session, ctx, item, old, change, now, currency)
    anchor = subscription.billing_anchor or subscription.start_date
    outcome = effect(item, old, new, anchor=anchor, day=day, currency=currency)
    changed = await _apply(session, ctx, subscription, item, new, outcome, day)
    pending = _prorations(ctx, subscription, item, changed, old, new, outcome)
    session.add_all(pending)
    await session.flush()
    invoice_id = None
    if change.invoice_now and pending:
        prices = {item.id: old.price, changed.id: new.price}
        invoice_id = await _invoice_now(
            session, ctx, settings, subscription, pending, prices, day=day, now=now
        )
    _record(subscription, now, item, changed, old, new, invoice_id)
    await session.flush()
    data = _event_data(subscription, item, changed, pending, invoice_id, day)
    await events.emit(session, ctx, EventType.SUBSCRIPTION_UPDATED, data)
    # A new item whose first period starts today is billed now, as the run would today.
    await billing.bill_until(session, ctx, settings, subscription, now)
    return await queries.get(session, ctx, subscription.id)
