"""``/v1/billing-groups``: consolidated billing of one customer's subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.billing_groups.schemas import (
    BillingGroupAnswer,
    BillingGroupBody,
    BillingGroupCreateBody,
    BillingGroupDeleted,
    BillingGroupList,
    BillingGroupResult,
    BillingGroupUpdateBody,
)
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.billing import groups

router = APIRouter(prefix="/billing-groups", tags=["Billing groups"])

Reader = Annotated[Call, Depends(require("billing-groups:read"))]
Writer = Annotated[Call, Depends(require("billing-groups:write"))]

_FILTERS = filter_docs(
    {
        "customerId": "Only groups of this customer",
        "status": "`active` or `inactive`",
    }
)


@router.post("", response_model=BillingGroupResult, status_code=201)
async def create_billing_group(call: Writer, body: BillingGroupCreateBody) -> V1JSONResponse:
    """Bill several subscriptions of one customer together: one consolidated payment per
    month, on `billingDay` (1–28, else `400 INVALID_BILLING_DAY`).

    `rentalIds` lists the subscriptions, at least one, each once. An unknown `customerId`
    is `404 CUSTOMER_NOT_FOUND`.

    Each rental id must name an active subscription of the group's customer that is in no
    other billing group. The first that does not is refused, named in the message and in a
    detail with the path `rentalIds.<index>`: `404 SUBSCRIPTION_NOT_FOUND`,
    `400 SUBSCRIPTION_DIFFERENT_CUSTOMER`, `422 SUBSCRIPTION_NOT_ACTIVE`,
    `409 SUBSCRIPTION_IN_ANOTHER_GROUP`.
    """
    view = await groups.create_group(call.session, call.ctx, body.to_domain())
    return respond(
        BillingGroupResult(
            message="Billing group created successfully",
            billing_group=BillingGroupBody.of(view, call.ctx),
        ),
        status_code=201,
    )


@router.get("", response_model=BillingGroupList, openapi_extra=_FILTERS)
async def list_billing_groups(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List billing groups under the key `billingGroups`, newest first by default.

    Sort with `sortBy` = `createdAt` or `updatedAt`. Pass `nextCursor` as `startAfter` to
    get the next page; `nextCursor` is `null` on the last page.
    """
    page = await groups.list_groups(call.session, call.ctx, query.filters, query.page)
    return respond(
        BillingGroupList(
            billing_groups=[BillingGroupBody.of(view, call.ctx) for view in page.items],
            **page_fields(page),
        )
    )


@router.get("/{billingGroupId}", response_model=BillingGroupAnswer)
async def get_billing_group(billingGroupId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one billing group with its member subscriptions (`rentalIds`; how many are
    still active in `activeRentalCount`), their active monthly total and the next billing
    date.

    A deleted group is `404 BILLING_GROUP_NOT_FOUND`.
    """
    view = await groups.get_group(call.session, call.ctx, billingGroupId)
    return respond(BillingGroupAnswer(billing_group=BillingGroupBody.of(view, call.ctx)))


@router.patch("/{billingGroupId}", response_model=BillingGroupResult)
async def update_billing_group(
    billingGroupId: str,  # noqa: N803
    body: BillingGroupUpdateBody,
    call: Writer,
) -> V1JSONResponse:
    """Change `groupName`, `billingDay`, `status` (`active` or `inactive`) or `notes`;
    fields left out stay as they are.

    `rentalIds` **replaces** the member list: subscriptions left out go back to individual
    billing, new ones join; an empty list takes every member out (the group stays, empty).
    Members already in the group may stay even if they have ended since. An unknown or
    deleted group is `404 BILLING_GROUP_NOT_FOUND`.

    Each rental id must name an active subscription of the group's customer that is in no
    other billing group. The first that does not is refused, named in the message and in a
    detail with the path `rentalIds.<index>`: `404 SUBSCRIPTION_NOT_FOUND`,
    `400 SUBSCRIPTION_DIFFERENT_CUSTOMER`, `422 SUBSCRIPTION_NOT_ACTIVE`,
    `409 SUBSCRIPTION_IN_ANOTHER_GROUP`.
    """
    view = await groups.update_group(call.session, call.ctx, billingGroupId, body.to_domain())
    return respond(
        BillingGroupResult(
            message="Billing group updated successfully",
            billing_group=BillingGroupBody.of(view, call.ctx),
        )
    )


@router.delete("/{billingGroupId}", response_model=BillingGroupDeleted)
async def delete_billing_group(billingGroupId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete a billing group; its subscriptions go back to individual billing.

    The group is gone for clients afterwards: any request naming it is
    `404 BILLING_GROUP_NOT_FOUND`.
    """
    deleted_id = await groups.delete_group(call.session, call.ctx, billingGroupId)
    return respond(
        BillingGroupDeleted(
            message="Billing group deleted successfully", billing_group_id=deleted_id
        )
    )
