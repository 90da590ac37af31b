"""The /v1 list conventions (seed 000): ``limit``, ``startAfter``, ``sortBy``, ``sortDir``,
filters as query parameters, and the envelope ``{<resources>, count, limit, hasMore,
nextCursor}``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Query
from starlette.requests import Request

from flexbill.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest

PAGING_PARAMETERS = frozenset({"limit", "startAfter", "sortBy", "sortDir"})


@dataclass(frozen=True)
class ListQuery:
    page: PageRequest
    filters: dict[str, str]


async def list_query(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (max {MAX_LIMIT})")
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
    return ListQuery(
        page=PageRequest(
            limit=limit, start_after=start_after or None, sort_by=sort_by, sort_dir=sort_dir
        ),
        filters=filters,
    )


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
