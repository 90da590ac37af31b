"""The /v1 list conventions (seed 000): ``limit``, ``startAfter``, ``sortBy``, ``sortDir``,
filters as query parameters, and the envelope ``{<resources>, count, limit, hasMore,
nextCursor}``.

No ``from __future__ import annotations`` here: FastAPI must see the real annotations of
the parameter function built in ``list_query_up_to``, which refer to its ``max_limit``.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Query
from starlette.requests import Request

from flexbill.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest

PAGING_PARAMETERS = frozenset({"limit", "startAfter", "sortBy", "sortDir"})


@dataclass(frozen=True)
class ListQuery:
    page: PageRequest
    filters: dict[str, str]


def list_query_up_to(max_limit: int) -> Callable[..., Awaitable[ListQuery]]:
    """The list parameters of a list that allows up to ``max_limit`` items per page."""

    async def list_query(
        request: Request,
        limit: Annotated[
            int, Query(ge=1, le=max_limit, description=f"Items per page (max {max_limit})")
        ] = DEFAULT_LIMIT,
        start_after: Annotated[
            str | None,
            Query(alias="startAfter", description="`nextCursor` of the previous page"),
        ] = None,
        sort_by: Annotated[
            str, Query(alias="sortBy", description="Field to sort by (varies per endpoint)")
        ] = "createdAt",
        sort_dir: Annotated[
            Literal["asc", "desc"], Query(alias="sortDir", description="Sort direction")
        ] = "desc",
    ) -> ListQuery:
        filters = {k: v for k, v in request.query_params.items() if k not in PAGING_PARAMETERS}
        page = PageRequest(
            limit=limit,
            start_after=start_after or None,
            sort_by=sort_by,
            sort_dir=sort_dir,
            max_limit=max_limit,
        )
        return ListQuery(page=page, filters=filters)

    return list_query


list_query = list_query_up_to(MAX_LIMIT)
"""The list parameters of an ordinary list (``limit`` up to 100)."""


def page_fields(page: Page[Any]) -> dict[str, Any]:
    """The envelope fields every list answers with, beside its ``<resources>`` array."""
    return {
        "count": len(page.items),
        "limit": page.limit,
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


def filter_docs(parameters: Mapping[str, str], *, custom_fields: bool = False) -> dict[str, Any]:
    """OpenAPI entries for the filter parameters a list accepts (validated by its FilterSet)."""
    documented = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in parameters.items()
    ]
    if custom_fields:
        documented.append(
            {
                "name": "customField_<name>",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "Only resources whose custom field `<name>` equals this value",
            }
        )
    return {"parameters": documented}
