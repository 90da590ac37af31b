"""``/v1/events``: the event log (flexbill's addition), what webhooks announce."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.events.schemas import EventAnswer, EventBody, EventList
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.events import queries

router = APIRouter(prefix="/events", tags=["Events"])

Reader = Annotated[Call, Depends(require("events:read"))]

_FILTERS = filter_docs(
    {
        "type": "Only events of these types, comma-separated (`order.created,payment.failed`)",
        "createdFrom": "Only events that happened at or after this time (RFC 3339 date-time, "
        "or a date for its start)",
        "createdTo": "Only events that happened at or before this time (RFC 3339 date-time, "
        "or a date for its end)",
    }
)


@router.get("", response_model=EventList, openapi_extra=_FILTERS)
async def list_events(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List the events of this environment under the key `events`, newest first by
    default. Each is what a webhook delivers (`event`, `timestamp`, `data`) with its
    `eventId`: a client that missed webhooks can catch up from here.

    Sort with `sortBy` = `createdAt` (the event's `timestamp`). Pass `nextCursor` as
    `startAfter` to get the next page; `nextCursor` is `null` on the last page.
    An unknown `type` or a malformed time is `400 VALIDATION_ERROR`.
    """
    page = await queries.list_events(call.session, call.ctx, query.filters, query.page)
    return respond(EventList(events=[EventBody.of(e) for e in page.items], **page_fields(page)))


@router.get("/{eventId}", response_model=EventAnswer)
async def get_event(eventId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one event. An unknown one is `404 EVENT_NOT_FOUND`."""
    event = await queries.get_event(call.session, call.ctx, eventId)
    return respond(EventAnswer(event=EventBody.of(event)))
