"""Suspending, resuming, cancelling and activating general subscriptions.

Each change takes one of SubscriptionFlow's four options (``options.effective_on``):
a change whose day is today applies at once, in the request's transaction; a later one
is stored on the subscription (``scheduled_action`` / ``scheduled_option`` /
``scheduled_on``, one at a time: ``CHANGE_ALREADY_SCHEDULED`` otherwise, until
``unschedule`` drops it) and the billing run applies it on its day.

Allowed: suspend an active or trial subscription (a pending one may have its suspension
scheduled for after its start); resume a suspended one; cancel a draft, pending, trial,
active or suspended one. Anything else is ``INVALID_STATUS_TRANSITION``. A scheduled
change that no longer fits when its day comes (a suspension of a subscription cancelled
since) is dropped, with a history entry.

Before any change, the subscription is billed up to today (what the billing run would
have done by now), so the change starts from its true state. What a suspension or a
cancellation bills, and what a resumption starts, is ``days.Days.apply``'s.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.billing import test_clocks
from flexbill.core.errors import Conflict, InvalidState
from flexbill.customers.models import Customer
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.plan_subscriptions import billing, options, queries
from flexbill.plan_subscriptions.contract import PlanSubscriptionView
from flexbill.plan_subscriptions.days import Change, Days, allowed, transition_refused
from flexbill.plan_subscriptions.events import subscription_data
from flexbill.plan_subscriptions.models import (
    ChangeOption,
    PlanSubscription,
    PlanSubscriptionStatus,
    ScheduledAction,
    SubscriptionType,
)
from flexbill.plan_subscriptions.service import (
    history_entry,
    schedule,
    start_items,
    starting_status,
)
from flexbill.settings.service import get_settings
from flexbill.tenancy.context import TenantContext

Status = PlanSubscriptionStatus


async def _now(
    session: AsyncSession, ctx: TenantContext, subscription: PlanSubscription
) -> datetime:
    customer = await session.get(Customer, (ctx.tenant_id, subscription.customer_id))
    assert customer is not None, "a subscription's customer exists (a foreign key)"
    return await test_clocks.customer_now(session, ctx, customer)


async def _open(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> tuple[Days, datetime]:
    """The subscription locked, billed up to today on its customer's clock."""
    subscription = await queries.find(session, ctx, subscription_id, for_update=True)
    now = await _now(session, ctx, subscription)
    days = await billing.load(session, ctx, subscription, now)
    await billing.run_due(days, now.date())
    return days, now


async def _close(session: AsyncSession, ctx: TenantContext, days: Days) -> PlanSubscriptionView:
    settings = await get_settings(session, ctx)
    await billing.finish(session, ctx, settings, days)
    return await queries.get(session, ctx, days.subscription.id)


def dates(days: Days, today: date) -> options.Dates:
    """What the options read from the subscription today."""
    s = days.subscription
    termed = s.type == SubscriptionType.TERMED
    return options.Dates(
        today=today,
        last_invoice_period_end=s.last_invoice_period_end,
        current_term_end=s.current_term_end if termed else None,
        current_period_end=days.current_period_end(today),
    )


def _may_schedule(subscription: PlanSubscription, action: ScheduledAction) -> bool:
    if action is ScheduledAction.SUSPEND and subscription.status == Status.PENDING:
        return True  # suspended after it starts
    return allowed(subscription.status, action)


async def _change(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, action: ScheduledAction,
    option: ChangeOption, on: date | None,
) -> PlanSubscriptionView:  # fmt: skip
    days, now = await _open(session, ctx, subscription_id)
    s, today = days.subscription, now.date()
    effective = options.effective_on(option, dates(days, today), on)
    if effective == today:
        await days.run(today, Change(action, option))
        s.next_bill_date = days.next_bill_date(today)
        return await _close(session, ctx, days)
    if not _may_schedule(s, action):
        raise transition_refused(s, action)
    if s.scheduled_action is not None:
        raise Conflict(
            "CHANGE_ALREADY_SCHEDULED",
            f"A {s.scheduled_action} is scheduled for {s.scheduled_on}: unschedule it first",
        )
    s.scheduled_action, s.scheduled_option, s.scheduled_on = action, option, effective
    entry = history_entry(now, f"{action.value}_scheduled", s.status, s.status, effective, option)
    s.history = [*s.history, entry]
    s.next_bill_date = days.next_bill_date(today)
    return await _close(session, ctx, days)


async def suspend(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Suspend today, or schedule it (``on`` only with ``SPECIFIC_DATE``)."""
    return await _change(session, ctx, subscription_id, ScheduledAction.SUSPEND, option, on)


async def resume(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Resume a suspended subscription today, or schedule it."""
    return await _change(session, ctx, subscription_id, ScheduledAction.RESUME, option, on)


async def cancel(
    session: AsyncSession, ctx: TenantContext, subscription_id: str, option: ChangeOption,
    on: date | None = None,
) -> PlanSubscriptionView:  # fmt: skip
    """Cancel today, or schedule it."""
    return await _change(session, ctx, subscription_id, ScheduledAction.CANCEL, option, on)


async def activate(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """Start a ``draft`` subscription as if created now: from its start date if that is
    still to come, else from today (its trial and first term move with it)."""
    days, now = await _open(session, ctx, subscription_id)
    s, today = days.subscription, now.date()
    if s.status != Status.DRAFT:
        raise InvalidState(
            "INVALID_STATUS_TRANSITION",
            f"Only a draft subscription is activated; this one is {s.status}",
        )
    start = max(s.start_date, today)
    term_start = None if s.term_start in (None, s.start_date) else s.term_start
    schedule(s, start, term_start)
    s.status = starting_status(s, today)
    start_items(s, days.items)
    s.history = [*s.history, history_entry(now, "activated", Status.DRAFT, s.status, start)]
    await events.emit(
        session, ctx, EventType.SUBSCRIPTION_ACTIVATED,
        {**subscription_data(s), "effectiveOn": start.isoformat()},
    )  # fmt: skip
    s.next_bill_date = days.next_bill_date(date.fromordinal(start.toordinal() - 1))
    await billing.run_due(days, today)
    return await _close(session, ctx, days)


async def unschedule(
    session: AsyncSession, ctx: TenantContext, subscription_id: str
) -> PlanSubscriptionView:
    """Drop the change waiting for its day (nothing to drop is not an error)."""
    days, now = await _open(session, ctx, subscription_id)
    s = days.subscription
    if s.scheduled_action is not None and s.scheduled_on is not None:
        entry = history_entry(
            now, f"{s.scheduled_action}_unscheduled", s.status, s.status, s.scheduled_on,
            s.scheduled_option,
        )  # fmt: skip
        s.history = [*s.history, entry]
        s.scheduled_action = s.scheduled_option = s.scheduled_on = None
        s.next_bill_date = days.next_bill_date(now.date())
    return await _close(session, ctx, days)
