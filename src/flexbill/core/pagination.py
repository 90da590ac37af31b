"""Keyset (cursor) pagination, the one pagination of every list.

A page is ordered by one sort column and the primary key as a tie-breaker, and continues
strictly after the position of the previous page's last row. Rows inserted or deleted between
two requests therefore never shift the pages: every row that existed throughout the walk is
returned exactly once.

The cursor is an opaque token holding the sort field, direction, the last row's sort value
and its id. A bare resource id is accepted as well (FlexPortal documents ``startAfter`` as
"the last ID"); it is resolved to its row's position inside the tenant.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

import orjson
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from flexbill.core.errors import ValidationFailed

T = TypeVar("T")
SortDirection = Literal["asc", "desc"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    start_after: str | None = None
    sort_by: str = "createdAt"
    sort_dir: SortDirection = "desc"
    max_limit: int = MAX_LIMIT  # a few lists allow more (FlexPortal: variants up to 5000)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    limit: int
    has_more: bool
    next_cursor: str | None


@dataclass(frozen=True)
class SortOrders:
    """The sort orders a list offers: public name → column. Each needs an index that
    leads with ``tenant_id`` and ends with the id."""

    columns: Mapping[str, InstrumentedAttribute[Any]]
    id_column: InstrumentedAttribute[str]

    def column(self, name: str) -> InstrumentedAttribute[Any]:
        try:
            return self.columns[name]
        except KeyError:
            allowed = ", ".join(self.columns)
            raise ValidationFailed.field(
                "sortBy", f"sortBy must be one of: {allowed}", "invalid_enum_value"
            ) from None


def encode_cursor(sort_by: str, sort_dir: str, value: Any, row_id: str) -> str:
    if isinstance(value, date):  # a datetime is a date too
        value = value.isoformat()
    raw = orjson.dumps([sort_by, sort_dir, value, row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(token: str) -> list[Any] | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        return None
    if isinstance(decoded, list) and len(decoded) == 4 and isinstance(decoded[3], str):
        return decoded
    return None


_INT64 = 2**63


def _typed_position_value(value: Any, python_type: type) -> Any:
    """The cursor's sort value, checked against the sort column's type: a forged cursor
    is a VALIDATION_ERROR, never a database error."""
    if python_type is datetime and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _invalid_cursor() from None
        if parsed.tzinfo is not None:
            return parsed
    elif python_type is date and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _invalid_cursor() from None
    elif (python_type is int and type(value) is int and -_INT64 <= value < _INT64) or (
        python_type is str and isinstance(value, str)
    ):
        return value
    raise _invalid_cursor()


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed.field(
        "startAfter", "startAfter is not a cursor returned by this list", "invalid_cursor"
    )


async def _position(
    session: AsyncSession, base: Select[Any], orders: SortOrders, request: PageRequest
) -> tuple[Any, str]:
    """The (sort value, id) after which the page starts."""
    assert request.start_after is not None
    column = orders.column(request.sort_by)
    decoded = _decode_cursor(request.start_after)
    if decoded is not None:
        sort_by, sort_dir, value, row_id = decoded
        if sort_by != request.sort_by or sort_dir != request.sort_dir:
            raise ValidationFailed.field(
                "startAfter", "the cursor belongs to a different sortBy/sortDir", "invalid_cursor"
            )
        return _typed_position_value(value, column.type.python_type), row_id
    # A bare id: find that row (inside the tenant, through ``base``) and continue after it.
    lookup = base.with_only_columns(column).where(orders.id_column == request.start_after)
    value = (await session.execute(lookup)).scalar_one_or_none()
    if value is None:
        raise _invalid_cursor()
    return value, request.start_after


async def paginate(
    session: AsyncSession, base: Select[T], orders: SortOrders, request: PageRequest
) -> Page[T]:
    """One page of ``base`` (already scoped to a tenant and filtered)."""
    if not 1 <= request.limit <= request.max_limit:
        raise ValidationFailed.field(
            "limit", f"limit must be between 1 and {request.max_limit}", "too_big"
        )
    column = orders.column(request.sort_by)
    statement = base
    if request.start_after:
        value, row_id = await _position(session, base, orders, request)
        position = tuple_(column, orders.id_column)
        bound = tuple_(
            literal(value, type_=column.type), literal(row_id, type_=orders.id_column.type)
        )
        statement = statement.where(
            position < bound if request.sort_dir == "desc" else position > bound
        )
    if request.sort_dir == "desc":
        statement = statement.order_by(column.desc(), orders.id_column.desc())
    else:
        statement = statement.order_by(column.asc(), orders.id_column.asc())
    rows = list((await session.scalars(statement.limit(request.limit + 1))).all())
    has_more = len(rows) > request.limit
    items = rows[: request.limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = encode_cursor(
            request.sort_by,
            request.sort_dir,
            getattr(last, column.key),
            getattr(last, orders.id_column.key),
        )
    return Page(items=items, limit=request.limit, has_more=has_more, next_cursor=next_cursor)
