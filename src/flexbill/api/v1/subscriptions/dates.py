"""The calendar dates /v1 bodies of subscriptions, extensions and exports accept.

FlexPortal documents some of them as ``date-time`` (a JavaScript client sends
``new Date().toISOString()``) and shows others as ``YYYY-MM-DD``, so both forms are read:
a date-time names the day it falls on in UTC. Every date must lie between 2000-01-01 and
2099-12-31: contract arithmetic (a start plus 120 months, extensions) then always stays
far inside the calendar, and a typo such as ``9999`` is a validation error, not a 500.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
_PLAIN_DATE_LENGTH = len("2025-03-12")
_RANGE_MESSAGE = f"Must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}"


def _utc_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        return moment.date()  # no offset: taken as UTC
    try:
        return moment.astimezone(UTC).date()
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is in year 10000 in UTC
        raise PydanticCustomError("less_than_equal", _RANGE_MESSAGE) from None


def _parse(text: str) -> date:
    day_part, time_part = text[:_PLAIN_DATE_LENGTH], text[_PLAIN_DATE_LENGTH:]
    moment: datetime | None = None
    if len(day_part) == _PLAIN_DATE_LENGTH and day_part[4] == day_part[7] == "-":
        try:
            if not time_part:
                return date.fromisoformat(day_part)
            if time_part[0] in "Tt":
                moment = datetime.fromisoformat(text)
        except ValueError:
            pass
    if moment is None:
        raise PydanticCustomError(
            "date_parsing", "Expected a date (YYYY-MM-DD) or an RFC 3339 date-time"
        )
    return _utc_day(moment)


def calendar_date(value: Any) -> date:
    """``value`` (text, or a ``date``/``datetime`` from Python callers) as the day it names,
    within ``EARLIEST`` … ``LATEST``."""
    if isinstance(value, datetime):
        day = _utc_day(value)
    elif isinstance(value, date):
        day = value
    elif isinstance(value, str):
        day = _parse(value)
    else:
        raise PydanticCustomError("date_type", "Expected a date (YYYY-MM-DD) as a string")
    if day < EARLIEST:
        raise PydanticCustomError("greater_than_equal", _RANGE_MESSAGE)
    if day > LATEST:
        raise PydanticCustomError("less_than_equal", _RANGE_MESSAGE)
    return day


CalendarDate = Annotated[
    date,
    BeforeValidator(calendar_date),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "description": "YYYY-MM-DD, or an RFC 3339 date-time (its day in UTC); "
            f"{EARLIEST.isoformat()} to {LATEST.isoformat()}",
        }
    ),
]
"""A date in a /v1 body: ``YYYY-MM-DD`` or an RFC 3339 date-time, 2000-01-01 to 2099-12-31."""
