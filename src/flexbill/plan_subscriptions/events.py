"""The ``data`` of the events of general subscriptions (camelCase, amounts as decimals)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flexbill.plan_subscriptions.models import PlanSubscription, SubscriptionItem


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def subscription_data(subscription: PlanSubscription) -> dict[str, Any]:
    """What every event of a subscription says about it."""
    s = subscription
    return {
        "subscriptionId": s.id,
        "customerId": s.customer_id,
        "status": s.status,
        "type": s.type,
        "currentTermStart": _day(s.current_term_start),
        "currentTermEnd": _day(s.current_term_end),
    }


def item_data(item: SubscriptionItem) -> dict[str, Any]:
    return {
        "itemId": item.id,
        "planId": item.plan_id,
        "planPriceId": item.plan_price_id,
        "planPriceVersion": item.plan_price_version,
        "quantity": item.quantity,
        "unitAmountOverride": item.unit_amount_override,
    }


def created_data(
    subscription: PlanSubscription, items: Sequence[SubscriptionItem]
) -> dict[str, Any]:
    """``subscription.created``: the subscription with its items."""
    return {
        **subscription_data(subscription),
        "startDate": _day(subscription.start_date),
        "trialEnd": _day(subscription.trial_end),
        "items": [item_data(item) for item in items],
    }
