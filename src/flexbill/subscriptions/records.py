"""The records a subscription keeps of itself: its history of operations.

Every operation appends one entry, so ``GET /v1/subscriptions/{id}`` tells the whole
story of the contract (extensions and replacements also keep their own lists, see
``details``). Keys are snake_case; entries hold no amounts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flexbill.events.service import rfc3339
from flexbill.subscriptions.lifecycle import display_status
from flexbill.subscriptions.models import Subscription
from flexbill.tenancy.context import TenantContext


def record(
    subscription: Subscription,
    ctx: TenantContext,
    action: str,
    at: datetime,
    *,
    from_status: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    """Append one history entry for ``action`` done ``at``; ``details`` (snake_case keys,
    JSON values) are stored as given. ``to_status`` is the status after the action."""
    entry: dict[str, Any] = {
        "at": rfc3339(at),
        "action": action,
        "from_status": from_status,
        "to_status": display_status(subscription.status, subscription.end_reason),
        "processed_by": ctx.actor,
        **details,
    }
    # A new list, not an append: the ORM notices a JSON column change by assignment.
    subscription.history = [*subscription.history, entry]
    subscription.updated_at = at
    return entry
