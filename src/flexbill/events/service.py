"""Writing events and rendering them as FlexPortal webhook payloads.

An event is a row added in the caller's transaction (flush only): it exists exactly when
the change that caused it was committed, so a delivery can neither announce a change that
was rolled back nor miss one that was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.events.models import Event, EventType
from flexbill.tenancy.context import TenantContext


async def emit(
    session: AsyncSession, ctx: TenantContext, event_type: EventType, data: Mapping[str, Any]
) -> Event:
    """Record that ``event_type`` happened now, with ``data`` as the webhook's ``data``.

    ``data`` holds JSON values, with ``Decimal`` for amounts (kept exact).
    """
    event = Event(
        tenant_id=ctx.tenant_id,
        id=new_id("evt"),
        type=event_type,
        occurred_at=clock.now(),
        data=dict(data),
    )
    session.add(event)
    await session.flush()
    return event


def rfc3339(moment: datetime) -> str:
    """``2025-01-15T10:30:00Z``: UTC with a ``Z``, fractions of a second only when present
    (the same form every /v1 time takes)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def payload(event: Event) -> dict[str, Any]:
    """The webhook body of ``event``: ``{"event", "timestamp", "data"}`` (seed 000)."""
    return {"event": event.type, "timestamp": rfc3339(event.occurred_at), "data": event.data}
