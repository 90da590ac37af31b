"""``/v1/plan-subscriptions``: general subscriptions of plan prices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.plan_subscriptions.schemas import (
    ItemChangeBody,
    OptionBody,
    PlanSubscriptionAnswer,
    PlanSubscriptionBody,
    PlanSubscriptionCreateBody,
    PlanSubscriptionList,
    PlanSubscriptionResult,
)
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.plan_subscriptions import changes, lifecycle, service
from flexbill.plan_subscriptions.contract import PlanSubscriptionView
from flexbill.plan_subscriptions.models import ScheduledAction

router = APIRouter(prefix="/plan-subscriptions", tags=["Plan subscriptions"])

Reader = Annotated[Call, Depends(require("subscriptions:read"))]
Writer = Annotated[Call, Depends(require("subscriptions:write"))]

_FILTERS = filter_docs(
    {
        "customerId": "Only subscriptions of this customer",
        "status": "`draft`, `pending`, `trial`, `active`, `suspended`, `cancelled` or `expired`",
        "type": "`termed` or `evergreen`",
    }
)


def _message(view: PlanSubscriptionView, action: ScheduledAction, done: str) -> str:
    """``done``, or when the change waits for a later day, the day it will happen."""
    scheduled = view.scheduled_change
    if scheduled is not None and scheduled.action == action:
        return f"{action.value.capitalize()} scheduled for {scheduled.on.isoformat()}"
    return done


@router.post("", response_model=PlanSubscriptionResult, status_code=201)
async def create_plan_subscription(
    call: Writer, body: PlanSubscriptionCreateBody
) -> V1JSONResponse:
    """Subscribe a customer to one or more plan prices, each an item with a quantity
    (the price's `defaultQuantity` by default) and an optional `unitAmountOverride` (major
    units; flat_fee and per_unit prices).

    `type` is `termed` (a term of `initialPeriod` × `initialPeriodUnit` from `termStart`,
    then renewed by `renewalPeriod` × `renewalPeriodUnit` when `autoRenew`, else expired)
    or `evergreen` (no end). `startDate` (today by default) is the first day of service;
    a later one makes the subscription `pending` until then. `trialPeriod` ×
    `trialPeriodUnit` (`days` or `months`) starts with a `trial`, unbilled; billing is then
    anchored on the trial's end. `draft: true` creates it unbilled until
    `POST …/activate`. What is due at once (the first period of prices billed in advance,
    one-time prices) is invoiced in the same request. The subscription bills in the
    business unit's currency.

    Errors: `400 VALIDATION_ERROR`, `404 CUSTOMER_NOT_FOUND`, `404 PLAN_PRICE_NOT_FOUND`,
    `404 PLAN_NOT_FOUND`, `422 PLAN_NOT_AVAILABLE` (plan or price inactive, or outside its
    effective dates), `422 PRICE_CURRENCY_MISSING` (a price has no amount in the business
    unit's currency).
    """
    view = await service.create(call.session, call.ctx, body.to_domain(), created_by=call.ctx.actor)
    return respond(
        PlanSubscriptionResult.of("Subscription created successfully", view), status_code=201
    )


@router.get("", response_model=PlanSubscriptionList, openapi_extra=_FILTERS)
async def list_plan_subscriptions(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List general subscriptions under the key `subscriptions`, newest first by default.

    Sort with `sortBy` = `createdAt` or `updatedAt`. Pass `nextCursor` as `startAfter` to
    get the next page; `nextCursor` is `null` on the last page. A filter value that is
    not one of those listed is `400 VALIDATION_ERROR`.
    """
    page = await service.list_subscriptions(call.session, call.ctx, query.filters, query.page)
    return respond(
        PlanSubscriptionList(
            subscriptions=[PlanSubscriptionBody.of(view) for view in page.items],
            **page_fields(page),
        )
    )


@router.get("/{subscriptionId}", response_model=PlanSubscriptionAnswer)
async def get_plan_subscription(subscriptionId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one subscription with its items (current first, then ended ones), the
    prorations waiting for its next invoice (`pendingCharges`), the change scheduled for
    a later day (`scheduledChange`) and its history.

    Errors: `404 SUBSCRIPTION_NOT_FOUND`.
    """
    view = await service.get(call.session, call.ctx, subscriptionId)
    return respond(PlanSubscriptionAnswer(subscription=PlanSubscriptionBody.of(view)))


@router.post("/{subscriptionId}/suspend", response_model=PlanSubscriptionResult)
async def suspend_plan_subscription(
    subscriptionId: str,  # noqa: N803
    body: OptionBody,
    call: Writer,
) -> V1JSONResponse:
    """Suspend an active subscription: it is not billed and does not renew while
    suspended.

    `option` says when it takes effect: `today`; `end_of_last_invoice_period` (the
    end of the last period invoiced in advance); `specific_date` (with `date`,
    `YYYY-MM-DD`, not before today; a `date` with any other option is refused);
    `end_of_current_term` (a termed subscription's current term end, an evergreen one's
    current period end). A change for a later day shows as `scheduledChange` until the
    billing run applies it on that day; `DELETE …/scheduled-change` withdraws it.

    Errors: `400 VALIDATION_ERROR`, `404 SUBSCRIPTION_NOT_FOUND`,
    `422 INVALID_STATUS_TRANSITION` (not active), `409 CHANGE_ALREADY_SCHEDULED`.
    """
    view = await lifecycle.suspend(
        call.session, call.ctx, subscriptionId, body.change_option, body.date
    )
    return respond(
        PlanSubscriptionResult.of(
            _message(view, ScheduledAction.SUSPEND, "Subscription suspended"), view
        )
    )


@router.post("/{subscriptionId}/resume", response_model=PlanSubscriptionResult)
async def resume_plan_subscription(
    subscriptionId: str,  # noqa: N803
    body: OptionBody,
    call: Writer,
) -> V1JSONResponse:
    """Resume a suspended subscription; billing periods are then counted from the day it
    resumes.

    `option` says when it takes effect: `today`; `end_of_last_invoice_period` (the
    end of the last period invoiced in advance); `specific_date` (with `date`,
    `YYYY-MM-DD`, not before today; a `date` with any other option is refused);
    `end_of_current_term` (a termed subscription's current term end, an evergreen one's
    current period end). A change for a later day shows as `scheduledChange` until the
    billing run applies it on that day; `DELETE …/scheduled-change` withdraws it.

    Errors: `400 VALIDATION_ERROR`, `404 SUBSCRIPTION_NOT_FOUND`,
    `422 INVALID_STATUS_TRANSITION` (not suspended), `409 CHANGE_ALREADY_SCHEDULED`.
    """
    view = await lifecycle.resume(
        call.session, call.ctx, subscriptionId, body.change_option, body.date
    )
    return respond(
        PlanSubscriptionResult.of(
            _message(view, ScheduledAction.RESUME, "Subscription resumed"), view
        )
    )


@router.post("/{subscriptionId}/cancel", response_model=PlanSubscriptionResult)
async def cancel_plan_subscription(
    subscriptionId: str,  # noqa: N803
    body: OptionBody,
    call: Writer,
) -> V1JSONResponse:
    """Cancel a subscription: nothing is billed after the day it takes effect.

    `option` says when it takes effect: `today`; `end_of_last_invoice_period` (the
    end of the last period invoiced in advance); `specific_date` (with `date`,
    `YYYY-MM-DD`, not before today; a `date` with any other option is refused);
    `end_of_current_term` (a termed subscription's current term end, an evergreen one's
    current period end). A change for a later day shows as `scheduledChange` until the
    billing run applies it on that day; `DELETE …/scheduled-change` withdraws it.

    Errors: `400 VALIDATION_ERROR`, `404 SUBSCRIPTION_NOT_FOUND`,
    `422 INVALID_STATUS_TRANSITION` (already cancelled or expired),
    `409 CHANGE_ALREADY_SCHEDULED`.
    """
    view = await lifecycle.cancel(
        call.session, call.ctx, subscriptionId, body.change_option, body.date
    )
    return respond(
        PlanSubscriptionResult.of(
            _message(view, ScheduledAction.CANCEL, "Subscription cancelled"), view
        )
    )


@router.post("/{subscriptionId}/activate", response_model=PlanSubscriptionResult)
async def activate_plan_subscription(
    subscriptionId: str,  # noqa: N803
    call: Writer,
) -> V1JSONResponse:
    """Start a `draft` subscription as if it were created now: what is due at once is
    invoiced in the same request.

    Errors: `404 SUBSCRIPTION_NOT_FOUND`, `422 INVALID_STATUS_TRANSITION` (not a draft),
    `422 PLAN_NOT_AVAILABLE`, `422 PRICE_CURRENCY_MISSING`.
    """
    view = await lifecycle.activate(call.session, call.ctx, subscriptionId)
    return respond(PlanSubscriptionResult.of("Subscription activated", view))


@router.delete("/{subscriptionId}/scheduled-change", response_model=PlanSubscriptionResult)
async def delete_scheduled_change(
    subscriptionId: str,  # noqa: N803
    call: Writer,
) -> V1JSONResponse:
    """Withdraw the suspension, resumption or cancellation waiting for its day
    (`scheduledChange`); the subscription goes on as it was.

    Errors: `404 SUBSCRIPTION_NOT_FOUND`.
    """
    view = await lifecycle.unschedule(call.session, call.ctx, subscriptionId)
    return respond(PlanSubscriptionResult.of("Scheduled change withdrawn", view))


@router.patch("/{subscriptionId}/items/{itemId}", response_model=PlanSubscriptionResult)
async def change_item(
    subscriptionId: str,  # noqa: N803
    itemId: str,  # noqa: N803
    body: ItemChangeBody,
    call: Writer,
) -> V1JSONResponse:
    """Change one item from today: its `quantity`, its `unitAmountOverride` (`null`
    removes it) or its price (`planPriceId`: another price of the item's plan, or the
    item's own price to move it to the price's current version).

    For an item billed in advance whose current period is invoiced already, the change is
    prorated by day: the unused days of the period at the old terms come back as a credit
    (`proration_credit`, negative), and the same days are charged at the new terms
    (`proration_charge`), each rounded half up to the cent. Both wait in `pendingCharges`
    and are billed on the next invoice, beside the next period; with `invoiceNow: true`
    they are billed at once on an invoice of their own (a net credit becomes customer
    credit). A change that leaves a period's amount as it was (a flat fee's quantity)
    costs nothing.

    Another price ends the item today (`endedOn`) and adds a new one from today, charged
    for the rest of its own period. An override follows the item only within its own
    price.

    An item billed in arrears is not prorated: its period is rated at its end, at the
    quantity, override and price version the item has then. Such an item moves only to an
    in-arrears price of the same billing period. A one-time price can be changed until it
    is billed.

    Errors: `400 VALIDATION_ERROR` (nothing to change, a quantity below 1, an override on
    a tiered or volume price), `404 SUBSCRIPTION_NOT_FOUND`,
    `404 SUBSCRIPTION_ITEM_NOT_FOUND`, `404 PLAN_PRICE_NOT_FOUND`,
    `422 INVALID_STATUS_TRANSITION` (the subscription is not active),
    `422 ITEM_NOT_CHANGEABLE` (the item ended, or its one-time price is billed),
    `422 PLAN_NOT_AVAILABLE` (a price of another plan, inactive, or billed another way),
    `422 PRICE_CURRENCY_MISSING`.
    """
    view = await changes.change_item(
        call.session, call.ctx, subscriptionId, itemId, body.to_domain()
    )
    return respond(PlanSubscriptionResult.of("Subscription item changed", view))
