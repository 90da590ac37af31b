"""Reading the event log: one event, and lists filtered by type and time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import FlexbillError
from flexbill.core.filtering import Condition, Filter, FilterSet, FilterValueError
from flexbill.core.pagination import Page, PageRequest, SortOrders, paginate
from flexbill.core.repository import TenantRepository
from flexbill.events.models import Event, EventType
from flexbill.tenancy.context import TenantContext

_PLAIN_DATE_LENGTH = len("2025-01-15")


class Events(TenantRepository[Event]):
    model = Event
    noun = "Event"


SORT_ORDERS = SortOrders(columns={"createdAt": Event.occurred_at}, id_column=Event.id)


def parse_moment(name: str, value: str, *, end_of_day: bool) -> datetime:
    """A time filter's bound: an RFC 3339 date-time (without an offset: UTC), or a date,
    which stands for its first moment, or with ``end_of_day`` for its last."""
    text = value.strip()
    try:
        if len(text) == _PLAIN_DATE_LENGTH:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1, microseconds=-1) if end_of_day else start
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError):
        raise FilterValueError(
            f"{name} must be a date (YYYY-MM-DD) or an RFC 3339 date-time", "invalid_date"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _types(value: str) -> Condition:
    names = [name.strip() for name in value.split(",") if name.strip()]
    known = {t.value for t in EventType}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise FilterValueError(
            f"type must be one or more of (comma-separated): {', '.join(sorted(known))}",
            "invalid_enum_value",
        )
    return Event.type.in_(names)


FILTERS = FilterSet(
    Filter("type", _types),
    Filter(
        "createdFrom",
        lambda value: Event.occurred_at >= parse_moment("createdFrom", value, end_of_day=False),
    ),
    Filter(
        "createdTo",
        lambda value: Event.occurred_at <= parse_moment("createdTo", value, end_of_day=True),
    ),
)


async def get_event(session: AsyncSession, ctx: TenantContext, event_id: str) -> Event:
    """The tenant's event ``event_id``, or ``EVENT_NOT_FOUND``."""
    event = await Events(session, ctx.tenant_id).find(event_id)
    if event is None:
        raise FlexbillError("EVENT_NOT_FOUND", f"Event '{event_id}' not found")
    return event


async def list_events(
    session: AsyncSession, ctx: TenantContext, filters: Mapping[str, str], page: PageRequest
) -> Page[Event]:
    """The tenant's events filtered by ``type`` (one or several, comma-separated),
    ``createdFrom`` and ``createdTo`` (inclusive)."""
    statement = FILTERS.apply(Events(session, ctx.tenant_id).select(), filters)
    return await paginate(session, statement, SORT_ORDERS, page)
