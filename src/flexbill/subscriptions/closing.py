"""Ending a contract: what buyout, early return, cancellation and upgrade share.

The subscription leaves ``active`` (or ``suspended``, which only a cancellation ends: the
other operations check for ``active`` first) for good, its unit leaves it (back to stock,
or sold), the customer's current counters drop, one history entry is written, and the events
``subscription.ended`` (unless the caller announces the end its own way, as an upgrade
does with ``subscription.upgraded``) and ``asset.returned`` (unless the unit was sold)
are recorded, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import service as assets
from flexbill.assets.models import Asset
from flexbill.assets.service import ReleaseStatus
from flexbill.core.errors import InvalidState, ValidationFailed
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.subscriptions import accounting
from flexbill.subscriptions.event_data import asset_data, subscription_data
from flexbill.subscriptions.lifecycle import EndReason, SubscriptionStatus, display_status, is_live
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.tenancy.context import TenantContext


def effective_day(requested: date | None, subscription: Subscription, now: datetime) -> date:
    """The day an ending takes effect: ``requested`` when the caller dates it, today
    otherwise. A date may lie in the past but not before the contract's start, and not in
    the future: an ending is recorded when it happens, never scheduled.

    Raises ``VALIDATION_ERROR`` on ``effectiveDate``.
    """
    today = now.date()
    if requested is None:
        return today
    if requested > today:
        raise ValidationFailed.field(
            "effectiveDate", f"effectiveDate cannot be after today ({today.isoformat()})", "too_big"
        )
    if requested < subscription.start_date:
        raise ValidationFailed.field(
            "effectiveDate",
            "effectiveDate cannot be before the subscription's start date "
            f"({subscription.start_date.isoformat()})",
            "too_small",
        )
    return requested


def moment_on(day: date, now: datetime) -> datetime:
    """When an ending dated ``day`` took effect: ``now`` itself for today, else the same time
    of day on ``day`` (the request says which day, not when on it)."""
    return datetime.combine(day, now.timetz())


async def close(
    session: AsyncSession,
    ctx: TenantContext,
    subscription: Subscription,
    *,
    status: SubscriptionStatus,
    end_reason: EndReason | None,
    asset_status: ReleaseStatus,
    action: str,
    at: datetime,
    ended_at: datetime | None = None,
    announce_end: bool = True,
    **history_details: Any,
) -> Asset:
    """End the live (active or suspended) ``subscription``, locked by the caller, with
    ``status`` (and ``end_reason`` when ``ended``); its unit moves to ``asset_status``.
    ``action`` names the history entry, in the past tense (``bought_out``), written ``at``
    (now); ``ended_at`` is when the contract ended, ``at`` unless the operation took
    effect on an earlier day. Returns the unit.

    Raises ``SUBSCRIPTION_NOT_ACTIVE`` when it already ended.
    """
    previous = display_status(subscription.status, subscription.end_reason)
    if not is_live(subscription.status):
        raise InvalidState(
            "SUBSCRIPTION_NOT_ACTIVE", f"The subscription has already ended ('{previous}')"
        )
    subscription.status = status
    subscription.end_reason = end_reason
    subscription.ended_at = at if ended_at is None else ended_at
    subscription.next_billing_date = None
    record(subscription, ctx, action, at, from_status=previous, **history_details)
    customer = await accounting.locked_customer(session, ctx, subscription.customer_id)
    accounting.count_end(customer, subscription)
    asset = await assets.release(session, ctx, subscription.serial_number, to_status=asset_status)
    await session.flush()
    if announce_end:
        data = subscription_data(subscription, ctx.currency, previousStatus=previous)
        await events.emit(session, ctx, EventType.SUBSCRIPTION_ENDED, data)
    if asset_status != "sold":
        await events.emit(session, ctx, EventType.ASSET_RETURNED, asset_data(asset, subscription))
    return asset
