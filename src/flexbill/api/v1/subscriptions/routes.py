"""``/v1/subscriptions``: start, list, read and annotate subscriptions (rentals).

The operations that change a running contract (extend, upgrade, replace, buyout, early
return, cancel) have their own routers in this package; they share its prefix.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.subscriptions.schemas import (
    NotesBody,
    RentalBody,
    RentalList,
    RentalResult,
    SubscriptionCreateBody,
)
from flexbill.subscriptions import queries, service

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])

Reader = Annotated[Call, Depends(require("subscriptions:read"))]
Writer = Annotated[Call, Depends(require("subscriptions:write"))]

_FILTERS = filter_docs(
    {
        "status": "`active`, `cancelled`, `ended_completed`, `ended_buyout`, `ended_upgrade` "
        "or `ended_early_return`",
        "customerId": "Only subscriptions of this customer",
        "orderId": "Only subscriptions fulfilling this order",
        "serialNumber": "Only subscriptions of this device",
        "sku": "Only subscriptions of this variant SKU",
        "billingGroupId": "Only members of this billing group",
        "endDateFrom": "Contract ends on or after this date (YYYY-MM-DD)",
        "endDateTo": "Contract ends on or before this date (YYYY-MM-DD)",
    },
    custom_fields=True,
)


@router.post("", response_model=RentalResult, status_code=201)
async def create_subscription(call: Writer, body: SubscriptionCreateBody) -> V1JSONResponse:
    """Start a subscription: rent the asset `assetSerialNumber` to the customer of the
    confirmed order `orderId`.

    The asset must be `available` and of a SKU the order holds with devices still to rent.
    It becomes `rented_out`; the order item's `rentalStatus` and the order's status move
    (`partial`, then `fulfilled` with the last device); the customer's
    `totalDevicesRented` and `totalMonthlyRevenue` grow. The monthly amount is the order
    item's `unitPrice`; `contractLength` defaults to the item's and `startDate` to today.
    `startDate` is a date (`YYYY-MM-DD`) or an RFC 3339 date-time, whose day in UTC is
    taken, between 2000-01-01 and 2099-12-31. With `billingGroupId` the subscription
    joins that group of the same customer.

    The answer repeats the new subscription's id as `rentalId` next to `rental`.

    Errors: `400 VALIDATION_ERROR`, `404 ORDER_NOT_FOUND`, `422 ORDER_NOT_CONFIRMED`,
    `404 CUSTOMER_NOT_FOUND`, `404 ASSET_NOT_FOUND`, `422 ASSET_NOT_AVAILABLE`,
    `409 SKU_MISMATCH`, `409 ITEM_FULLY_FULFILLED`, `404 BILLING_GROUP_NOT_FOUND`,
    `400 SUBSCRIPTION_DIFFERENT_CUSTOMER` (the group bills another customer).
    """
    subscription = await service.create_subscription(call.session, call.ctx, body.to_domain())
    return respond(
        RentalResult.of("Subscription created successfully", subscription, call.ctx),
        status_code=201,
    )


@router.get("", response_model=RentalList, openapi_extra=_FILTERS)
async def list_subscriptions(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List subscriptions under the key `rentals`, newest first by default.

    Sort with `sortBy` = `createdAt`, `updatedAt`, `startDate`, `endDate`, `monthlyAmount`
    or `status`. Pass `nextCursor` as `startAfter` to get the next page.
    """
    page = await queries.list_subscriptions(call.session, call.ctx, query.filters, query.page)
    return respond(
        RentalList(
            rentals=[RentalBody.of(subscription, call.ctx) for subscription in page.items],
            **page_fields(page),
        )
    )


@router.get("/{subscriptionId}", response_model=RentalBody)
async def get_subscription(subscriptionId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one subscription with its extension, replacement and operation histories."""
    subscription = await service.get_subscription(call.session, call.ctx, subscriptionId)
    return respond(RentalBody.of(subscription, call.ctx))


@router.patch("/{subscriptionId}/notes", response_model=RentalResult)
async def replace_notes(
    subscriptionId: str,  # noqa: N803
    body: NotesBody,
    call: Writer,
) -> V1JSONResponse:
    """Replace the subscription's notes (up to 5000 characters) with `notes`."""
    subscription = await service.replace_notes(call.session, call.ctx, subscriptionId, body.notes)
    return respond(RentalResult.of("Subscription notes updated", subscription, call.ctx))
