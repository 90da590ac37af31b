"""``/v1/usage``: usage records of subscription items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.usage.schemas import (
    UsageAnswer,
    UsageBatchAnswer,
    UsageBatchBody,
    UsageCreateBody,
    UsageList,
    UsageRecordBody,
    UsageRecorded,
    batch_answer,
    batch_records,
    new_usage,
    read_json,
)
from flexbill.core.errors import FlexbillError
from flexbill.usage import queries, service
from flexbill.usage.rules import NewUsage
from flexbill.usage.service import Outcome, Recorded

router = APIRouter(prefix="/usage", tags=["Usage"])

Reader = Annotated[Call, Depends(require("usage:read"))]
Writer = Annotated[Call, Depends(require("usage:write"))]

_FILTERS = filter_docs(
    {
        "subscriptionId": "Only records of this subscription",
        "itemId": "Only records of this subscription item",
        "customerId": "Only records of this customer's subscriptions",
        "status": "`pending` (not invoiced yet) or `processed`",
    }
)


def _json_body(model: type[UsageCreateBody] | type[UsageBatchBody]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    if "records" in schema.get("properties", {}):
        schema["properties"]["records"]["items"] = definitions["UsageCreateBody"]
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "", response_model=UsageRecorded, status_code=201, openapi_extra=_json_body(UsageCreateBody)
)
async def record_usage(call: Writer, request: Request) -> V1JSONResponse:
    """Record what a customer used of a metered subscription item: `quantity` units from
    `startDate` to `endDate`. The record belongs to the billing period that contains its
    `startDate` and is rated by that period's invoice (`status` becomes `processed`).

    Send your own `id` to make a retry harmless: the same `id` with the same content again
    answers `200` with the stored record and `"duplicate": true` (nothing new is stored);
    with different content it is `409 USAGE_ID_CONFLICT`. A new record answers `201`.

    Refused: an unknown subscription or an item not on it (`404 SUBSCRIPTION_NOT_FOUND`,
    `404 SUBSCRIPTION_ITEM_NOT_FOUND`), a subscription in `draft`, `cancelled` or `expired`
    (`422 SUBSCRIPTION_NOT_BILLABLE`), an item whose price is not rated from usage (flat
    fee or billed in advance: `422 USAGE_NOT_METERED`), a `startDate` before the item
    started or after it ended (`400 VALIDATION_ERROR`), and a `startDate` in a period that
    is invoiced already (`409 USAGE_PERIOD_CLOSED`).
    """
    recorded = await service.record_usage(
        call.session, call.ctx, new_usage(read_json(await request.body()))
    )
    assert recorded.usage is not None
    duplicate = recorded.outcome is Outcome.DUPLICATE
    return respond(
        UsageRecorded(
            message="Usage already recorded" if duplicate else "Usage recorded",
            duplicate=duplicate,
            usage_record=UsageRecordBody.of(recorded.usage),
        ),
        status_code=200 if duplicate else 201,
    )


@router.post("/batch", response_model=UsageBatchAnswer, openapi_extra=_json_body(UsageBatchBody))
async def record_usage_batch(call: Writer, request: Request) -> V1JSONResponse:
    """Record up to 1,000 usage records at once (more is `400 VALIDATION_ERROR`).

    Each record is judged on its own, by the rules of `POST /v1/usage`: the answer holds
    one result per record, in the order sent, with its `index` and a `status` of
    `created`, `duplicate` (stored before under the same `id`, with the same content) or
    `error`, with the error's `code`, `message` and `details`, whose paths name the record
    (`records.3.quantity`). Valid records are stored even when others are refused, so a
    client resends only the refused ones; `created`, `duplicates` and `failed` count them.
    """
    records = batch_records(read_json(await request.body()))
    parsed: list[NewUsage | FlexbillError] = []
    for index, data in enumerate(records):
        try:
            parsed.append(new_usage(data, f"records.{index}"))
        except FlexbillError as error:
            parsed.append(error)
    valid = [new for new in parsed if isinstance(new, NewUsage)]
    recorded = iter(await service.record_batch(call.session, call.ctx, valid))
    outcomes: list[Recorded | FlexbillError] = [
        next(recorded) if isinstance(new, NewUsage) else new for new in parsed
    ]
    return V1JSONResponse(batch_answer(outcomes))


@router.get("", response_model=UsageList, openapi_extra=_FILTERS)
async def list_usage(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List usage records under the key `usageRecords`, newest first by default.

    Sort with `sortBy` = `createdAt`. Pass `nextCursor` as `startAfter` to get the next
    page; `nextCursor` is `null` on the last page.
    """
    page = await queries.list_usage(call.session, call.ctx, query.filters, query.page)
    return respond(
        UsageList(
            usage_records=[UsageRecordBody.of(view) for view in page.items], **page_fields(page)
        )
    )


@router.get("/{usageId}", response_model=UsageAnswer)
async def get_usage(usageId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one usage record by flexbill's id (`usage_…`); an unknown one is
    `404 USAGE_NOT_FOUND`."""
    view = await queries.get_usage(call.session, call.ctx, usageId)
    return respond(UsageAnswer(usage_record=UsageRecordBody.of(view)))
