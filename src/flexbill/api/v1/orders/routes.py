"""``/v1/orders``: place, list, get, annotate, confirm and cancel orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.orders.schemas import (
    CancelBody,
    NotesBody,
    OrderBody,
    OrderCreateBody,
    OrderCreated,
    OrderList,
    OrderResult,
)
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.orders import changes, create, queries

router = APIRouter(prefix="/orders", tags=["Orders"])

Reader = Annotated[Call, Depends(require("orders:read"))]
Writer = Annotated[Call, Depends(require("orders:write"))]

_FILTERS = filter_docs(
    {
        "status": "`pending`, `confirmed`, `partial`, `fulfilled` or `cancelled`",
        "customerId": "Only orders of this customer",
        "channel": "`online` or `in_store`",
        "orderType": "`standard`, `extension` or `upgrade`",
    },
    custom_fields=True,
)


@router.post(
    "",
    response_model=OrderCreated,
    status_code=201,
    responses={200: {"model": OrderCreated, "description": "The identical order placed earlier"}},
)
async def create_order(call: Writer, body: OrderCreateBody) -> V1JSONResponse:
    """Place an order. Its customer is found by `customer.email`, or created.

    Each item is priced from its variant (`sku`) for its `contractLength` in months (the
    variant's shortest when left out): `unitPrice` is the monthly price after discounts.
    `totals.subtotal` is the order's monthly amount; VAT follows the business unit's
    settings. `extensionDetails` is required for `orderType` `extension`, `upgradeDetails`
    for `upgrade`.

    Sending the same order again (same customer e-mail, same items in any order) within
    the business unit's window (10 minutes unless configured) answers `200` with the order
    already placed instead of creating a second one.
    """
    placed = await create.place_order(call.session, call.ctx, body.to_domain())
    if placed.created:
        message, status = "Order created successfully", 201
    else:
        minutes = placed.window_minutes
        window = "minute" if minutes == 1 else f"{minutes} minutes"
        message = (
            f"An identical order was placed within the last {window}; "
            "returning it instead of creating a duplicate"
        )
        status = 200
    return respond(
        OrderCreated(
            message=message, order_id=placed.order.id, order=OrderBody.of(placed.order, call.ctx)
        ),
        status_code=status,
    )


@router.get("", response_model=OrderList, openapi_extra=_FILTERS)
async def list_orders(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List orders, newest first by default.

    Sort with `sortBy` = `createdAt`, `updatedAt`, `orderId`, `status` or `totals.total`.
    Pass `nextCursor` as `startAfter` to get the next page; `nextCursor` is `null` on the
    last page.
    """
    page = await queries.list_orders(call.session, call.ctx, query.filters, query.page)
    return respond(
        OrderList(
            orders=[OrderBody.of(order, call.ctx) for order in page.items],
            **page_fields(page),
        )
    )


@router.get("/{orderId}", response_model=OrderBody)
async def get_order(orderId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one order by ID."""
    order = await queries.get_order(call.session, call.ctx, orderId)
    return respond(OrderBody.of(order, call.ctx))


@router.patch("/{orderId}/notes", response_model=OrderResult)
async def replace_notes(
    orderId: str,  # noqa: N803
    body: NotesBody,
    call: Writer,
) -> V1JSONResponse:
    """Replace the order's notes (up to 5000 characters) with `notes`."""
    order = await changes.replace_notes(call.session, call.ctx, orderId, body.notes)
    return respond(OrderResult(message="Order notes updated", order=OrderBody.of(order, call.ctx)))


@router.post("/{orderId}/confirm", response_model=OrderResult)
async def confirm_order(orderId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Confirm a pending order, so that subscriptions can fulfil it (a flexbill addition:
    FlexPortal confirms in its dashboard).

    Any other status is refused with `422 INVALID_ORDER_STATUS`.
    """
    order = await changes.confirm_order(call.session, call.ctx, orderId)
    return respond(OrderResult(message="Order confirmed", order=OrderBody.of(order, call.ctx)))


@router.post("/{orderId}/cancel", response_model=OrderResult)
async def cancel_order(
    orderId: str,  # noqa: N803
    call: Writer,
    body: CancelBody | None = None,
) -> V1JSONResponse:
    """Cancel a pending or confirmed order, with an optional `reason`.

    Refused with `400 ORDER_NOT_CANCELLABLE` once a subscription fulfils any of its
    devices, or when the order is already fulfilled or cancelled.
    """
    reason = body.reason if body else None
    order = await changes.cancel_order(call.session, call.ctx, orderId, reason)
    return respond(OrderResult(message="Order cancelled", order=OrderBody.of(order, call.ctx)))
