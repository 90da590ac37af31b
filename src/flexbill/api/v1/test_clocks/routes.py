"""``/v1/test-clocks``: time travel for the test environment (flexbill's addition).

Attach test customers to a clock, then advance it: every billing period, payment attempt
and contract end that falls due in between happens, day by day, as it would have.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.test_clocks.schemas import (
    AdvanceBody,
    AttachBody,
    TestClockBody,
    TestClockCreateBody,
    TestClockDeleted,
    TestClockList,
    TestClockResult,
)
from flexbill.billing import test_clocks
from flexbill.billing.models import TestClock

router = APIRouter(prefix="/test-clocks", tags=["Test clocks"])

Reader = Annotated[Call, Depends(require("settings:read"))]
Writer = Annotated[Call, Depends(require("settings:write"))]


async def _body(call: Call, clock: TestClock) -> TestClockBody:
    customers = await test_clocks.attached_customers(call.session, call.ctx, clock.id)
    return TestClockBody.of(clock, call.ctx.business_unit_id, customers)


async def _result(call: Call, clock: TestClock, message: str, status: int = 200) -> V1JSONResponse:
    return respond(
        TestClockResult(message=message, test_clock=await _body(call, clock)), status_code=status
    )


@router.post("", response_model=TestClockResult, status_code=201)
async def create_test_clock(call: Writer, body: TestClockCreateBody) -> V1JSONResponse:
    """Create a clock frozen at `frozenTime`. Only with a test API key
    (`403 TEST_MODE_ONLY` otherwise)."""
    clock = await test_clocks.create_clock(
        call.session, call.ctx, frozen_time=body.frozen_time, name=body.name
    )
    return await _result(call, clock, "Test clock created", 201)


@router.get("", response_model=TestClockList)
async def list_test_clocks(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List the test environment's clocks (`sortBy` `createdAt` or `frozenTime`)."""
    page = await test_clocks.list_clocks(call.session, call.ctx, query.filters, query.page)
    attached = await test_clocks.customers_by_clock(
        call.session, call.ctx, [clock.id for clock in page.items]
    )
    bodies = [
        TestClockBody.of(clock, call.ctx.business_unit_id, attached[clock.id])
        for clock in page.items
    ]
    return respond(TestClockList(test_clocks=bodies, **page_fields(page)))


@router.get("/{testClockId}", response_model=TestClockBody)
async def get_test_clock(testClockId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve a clock with the customers attached to it."""
    clock = await test_clocks.get_clock(call.session, call.ctx, testClockId)
    return respond(await _body(call, clock))


@router.delete("/{testClockId}")
async def delete_test_clock(testClockId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete a clock; its customers are billed on the real time again."""
    await test_clocks.delete_clock(call.session, call.ctx, testClockId)
    return respond(TestClockDeleted(test_clock_id=testClockId))


@router.post("/{testClockId}/customers", response_model=TestClockResult)
async def attach_customer(
    testClockId: str,  # noqa: N803
    body: AttachBody,
    call: Writer,
) -> V1JSONResponse:
    """Attach a customer: from now on it is billed on this clock's time."""
    clock = await test_clocks.attach(call.session, call.ctx, testClockId, body.customer_id)
    return await _result(call, clock, "Customer attached")


@router.delete("/{testClockId}/customers/{customerId}", response_model=TestClockResult)
async def detach_customer(
    testClockId: str,  # noqa: N803
    customerId: str,  # noqa: N803
    call: Writer,
) -> V1JSONResponse:
    """Detach a customer: it is billed on the real time again."""
    clock = await test_clocks.detach(call.session, call.ctx, testClockId, customerId)
    return await _result(call, clock, "Customer detached")


@router.post("/{testClockId}/advance", response_model=TestClockResult)
async def advance_test_clock(
    testClockId: str,  # noqa: N803
    body: AdvanceBody,
    call: Writer,
) -> V1JSONResponse:
    """Move the clock forward to `frozenTime` (at most two years at once). Everything due
    for its customers in between (billing periods, payment attempts and retries, contract
    ends) happens first, day by day, in order, within this request."""
    clock = await test_clocks.advance(call.session, call.ctx, testClockId, body.frozen_time)
    return await _result(call, clock, "Test clock advanced")
