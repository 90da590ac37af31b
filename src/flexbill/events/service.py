"""Writing events and rendering them as FlexPortal webhook payloads.

An event is a row added in the caller's transaction (flush only): it exists exactly when
the change that caused it was committed. Its webhook deliveries are written in the same
transaction, just before it commits (``webhooks.fanout``), so a delivery can neither
announce a change that was rolled back nor miss one that was stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core import clock
from flexbill.core.ids import new_id
from flexbill.events.models import Event, EventType
from flexbill.tenancy.context import TenantContext
from flexbill.webhooks.fanout import EVENT_PREFIX, note_events


async def emit(
    session: AsyncSession, ctx: TenantContext, event_type: EventType, data: Mapping[str, Any]
) -> Event:
    """Record that ``event_type`` happened now, with ``data`` as the webhook's ``data``;
    when the transaction commits, it is queued for the tenant's webhook endpoints that
    want it.

    ``data`` holds JSON values, with ``Decimal`` for amounts (kept exact).
    """
    return (await emit_many(session, ctx, [(event_type, data)]))[0]


async def emit_many(
    session: AsyncSession,
    ctx: TenantContext,
    events: Sequence[tuple[EventType, Mapping[str, Any]]],
) -> list[Event]:
    """``emit`` for several events at once, in their order, written with one insert."""
    now = clock.now()
    rows = [
        Event(
            tenant_id=ctx.tenant_id, id=new_id(EVENT_PREFIX), type=event_type, occurred_at=now,
            data=dict(data),
        )
        for event_type, data in events
    ]  # fmt: skip
    if not rows:
        return []
    session.add_all(rows)
    await session.flush()
    note_events(session, ctx.tenant_id, [row.id for row in rows])
    return rows


def rfc3339(moment: datetime) -> str:
    """``2025-01-15T10:30:00Z``: UTC with a ``Z``, fractions of a second only when present
    (the same form every /v1 time takes)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def payload(event: Event) -> dict[str, Any]:
    """The webhook body of ``event``: ``{"event", "timestamp", "data"}`` (seed 000)."""
    return {"event": event.type, "timestamp": rfc3339(event.occurred_at), "data": event.data}


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f").encode())
    raise TypeError(f"cannot serialize {type(value).__name__}")


def body(event: Event) -> bytes:
    """``payload(event)`` as the JSON bytes a webhook POSTs, amounts digit for digit."""
    return orjson.dumps(payload(event), default=_exact, option=orjson.OPT_UTC_Z)
