"""Event bodies of the /v1 face: the event log (flexbill's addition) in the shape of the
webhook payload FlexPortal sends (seed 000), plus the event's id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from flexbill.api.v1.responses import V1Model
from flexbill.events.models import Event


class EventBody(V1Model):
    event_id: str = Field(description="The event's id (`evt_…`)")
    event: str = Field(description="Its type, e.g. `order.created`")
    timestamp: datetime = Field(description="When it happened")
    data: dict[str, Any] = Field(
        description="The webhook's `data` object, amounts as exact numbers in major units"
    )

    @classmethod
    def of(cls, event: Event) -> EventBody:
        return cls(
            event_id=event.id, event=event.type, timestamp=event.occurred_at, data=event.data
        )


class EventAnswer(V1Model):
    success: bool = True
    event: EventBody


class EventList(V1Model):
    success: bool = True
    events: list[EventBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
