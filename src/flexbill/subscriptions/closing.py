"""Ending a contract: what buyout, early return, cancellation and upgrade share.

The subscription leaves ``active`` for good, its unit leaves it (back to stock, or sold),
the customer's current counters drop, one history entry is written, and the events
``subscription.ended`` (unless the caller announces the end its own way, as an upgrade
does with ``subscription.upgraded``) and ``asset.returned`` (unless the unit was sold)
are recorded, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets import service as assets
from flexbill.assets.models import Asset
from flexbill.assets.service import ReleaseStatus
from flexbill.events import service as events
from flexbill.events.models import EventType
from flexbill.subscriptions import accounting
from flexbill.subscriptions.event_data import asset_data, subscription_data
from flexbill.subscriptions.lifecycle import (
    EndReason,
    SubscriptionStatus,
    check_active,
    display_status,
)
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.records import record
from flexbill.tenancy.context import TenantContext


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
    announce_end: bool = True,
    **history_details: Any,
) -> Asset:
    """End the active ``subscription`` (locked by the caller) with ``status`` (and
    ``end_reason`` when ``ended``); its unit moves to ``asset_status``. ``action`` names
    the history entry, in the past tense (``bought_out``). Returns the unit.

    Raises ``SUBSCRIPTION_NOT_ACTIVE`` when it already ended.
    """
    check_active(subscription.status, subscription.end_reason, "ended")
    previous = display_status(subscription.status, subscription.end_reason)
    subscription.status = status
    subscription.end_reason = end_reason
    subscription.ended_at = at
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
