"""Cancelling a subscription: the contract stops without a fee and the unit comes back.

Unlike an early return, a cancellation is the business's decision as much as the
customer's (a failed payment, fraud, an administrator), so it carries a reason from a
fixed list and no fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.assets.models import Asset
from flexbill.core import clock
from flexbill.events.service import rfc3339
from flexbill.subscriptions.closing import close
from flexbill.subscriptions.details import CancellationDetails
from flexbill.subscriptions.lifecycle import SubscriptionStatus, check_cancellable, display_status
from flexbill.subscriptions.models import Subscription
from flexbill.subscriptions.repository import Subscriptions
from flexbill.tenancy.context import TenantContext

MAX_NOTES_LENGTH = 1000


@dataclass(frozen=True)
class CancellationRequest:
    rental_id: str
    reason: str  # customer_request, payment_failure, fraud, admin_decision, other
    notes: str | None = None


@dataclass(frozen=True)
class Cancelled:
    subscription: Subscription
    asset: Asset
    previous_status: str
    cancelled_at: datetime


async def cancel_subscription(
    session: AsyncSession, ctx: TenantContext, request: CancellationRequest
) -> Cancelled:
    """Cancel the live (active, or suspended for non-payment) subscription
    ``request.rental_id``: it becomes ``cancelled``, its unit comes back ``returned``, the
    customer's current counters drop, and ``subscription.ended`` and ``asset.returned``
    are recorded.

    Raises ``NOT_FOUND``, ``ALREADY_CANCELLED`` and ``ALREADY_ENDED``.
    """
    subscription = await Subscriptions(session, ctx.tenant_id).get(
        request.rental_id, for_update=True
    )
    check_cancellable(subscription.status, subscription.end_reason)
    previous = display_status(subscription.status, subscription.end_reason)
    now = clock.now()
    details = CancellationDetails(
        reason=request.reason, notes=request.notes, processed_by=ctx.actor,
        cancelled_at=rfc3339(now),
    )  # fmt: skip
    subscription.cancellation_details = dict(details)
    asset = await close(
        session, ctx, subscription, status=SubscriptionStatus.CANCELLED, end_reason=None,
        asset_status="returned", action="cancelled", at=now, reason=request.reason,
    )  # fmt: skip
    await Subscriptions(session, ctx.tenant_id).load_customers([subscription])
    return Cancelled(
        subscription=subscription, asset=asset, previous_status=previous, cancelled_at=now
    )
