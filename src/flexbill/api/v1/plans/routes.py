"""``/v1/plans`` and ``/v1/plan-prices``: the catalog of general subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.plans.schemas import (
    PlanAnswer,
    PlanBody,
    PlanCreateBody,
    PlanDeleted,
    PlanList,
    PlanPriceAnswer,
    PlanPriceBody,
    PlanPriceCreateBody,
    PlanPriceDeleted,
    PlanPriceList,
    PlanPriceResult,
    PlanPriceUpdateBody,
    PlanPriceUpdated,
    PlanPriceVersions,
    PlanResult,
    PlanUpdateBody,
    ProductLinkBody,
)
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.catalog import plan_queries, plans

router = APIRouter(prefix="/plans", tags=["Plans"])
prices_router = APIRouter(prefix="/plan-prices", tags=["Plan prices"])

Reader = Annotated[Call, Depends(require("plans:read"))]
Writer = Annotated[Call, Depends(require("plans:write"))]

_PLAN_FILTERS = filter_docs(
    {
        "status": "`active` or `inactive`",
        "isGift": "`true` or `false`",
        "productId": "Only plans sold with this catalog product",
    },
    custom_fields=True,
)
_PRICE_FILTERS = filter_docs(
    {
        "planId": "Only prices of this plan",
        "status": "`active` or `inactive`",
        "chargeModel": "`flat_fee`, `per_unit`, `tiered` or `volume`",
        "billingTiming": "`in_advance` or `in_arrears`",
    }
)


# ---------------------------------------------------------------- plans


@router.post("", response_model=PlanResult, status_code=201)
async def create_plan(call: Writer, body: PlanCreateBody) -> V1JSONResponse:
    """Create a plan: a set of prices sold together. Add its prices with
    `POST /v1/plan-prices`.

    A plan takes new subscriptions while its `status` is `active` and the time is between
    `effectiveStartDate` and `effectiveEndDate` (exclusive), when given; the end must be
    after the start (`400 VALIDATION_ERROR`). `productIds` names catalog products the plan
    is sold with, each once; an unknown one is `404 NOT_FOUND` with the path
    `productIds.<index>`.
    """
    view = await plans.create_plan(call.session, call.ctx, body.to_domain())
    return respond(
        PlanResult(message="Plan created successfully", plan=PlanBody.of(view, call.ctx)),
        status_code=201,
    )


@router.get("", response_model=PlanList, openapi_extra=_PLAN_FILTERS)
async def list_plans(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List plans under the key `plans`, newest first by default, each with its current
    prices.

    Sort with `sortBy` = `createdAt`, `updatedAt` or `name`. Pass `nextCursor` as
    `startAfter` to get the next page; `nextCursor` is `null` on the last page. An unknown
    filter value is `400 VALIDATION_ERROR`.
    """
    page = await plan_queries.list_plans(call.session, call.ctx, query.filters, query.page)
    return respond(
        PlanList(plans=[PlanBody.of(view, call.ctx) for view in page.items], **page_fields(page))
    )


@router.get("/{planId}", response_model=PlanAnswer)
async def get_plan(planId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one plan with its current prices (`prices`, oldest first).

    An unknown plan is `404 PLAN_NOT_FOUND`.
    """
    view = await plan_queries.get_plan_view(call.session, call.ctx, planId)
    return respond(PlanAnswer(plan=PlanBody.of(view, call.ctx)))


@router.patch("/{planId}", response_model=PlanResult)
async def update_plan(planId: str, body: PlanUpdateBody, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Change any field of a plan; fields left out stay as they are. `description` and
    the effective dates are cleared with `null`; `productIds` and `customFields` replace
    the whole list or object.

    Setting `status` to `inactive` stops new subscriptions; running ones go on.

    Errors: `404 PLAN_NOT_FOUND`; `400 VALIDATION_ERROR` for an end date not after the
    start or a product listed twice; `404 NOT_FOUND` for an unknown product (path
    `productIds.<index>`).
    """
    view = await plans.update_plan(call.session, call.ctx, planId, body.to_domain())
    return respond(
        PlanResult(message="Plan updated successfully", plan=PlanBody.of(view, call.ctx))
    )


@router.delete("/{planId}", response_model=PlanDeleted)
async def delete_plan(planId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete a plan and all its prices.

    A plan whose prices a subscription or an invoice names cannot be deleted
    (`409 PLAN_IN_USE`): set its `status` to `inactive` instead. An unknown plan is
    `404 PLAN_NOT_FOUND`.
    """
    deleted_id = await plans.delete_plan(call.session, call.ctx, planId)
    return respond(PlanDeleted(message="Plan deleted successfully", plan_id=deleted_id))


@router.post("/{planId}/products", response_model=PlanResult)
async def link_product(planId: str, body: ProductLinkBody, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Sell the plan with a catalog product (SubscriptionFlow's link-product-plan); the
    product joins `productIds`. Linking a product already linked changes nothing.

    Errors: `404 PLAN_NOT_FOUND`; `404 NOT_FOUND` for an unknown product (path
    `productId`).
    """
    view = await plans.link_product(call.session, call.ctx, planId, body.product_id)
    return respond(
        PlanResult(message="Product linked to the plan", plan=PlanBody.of(view, call.ctx))
    )


@router.delete("/{planId}/products/{productId}", response_model=PlanResult)
async def unlink_product(planId: str, productId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Stop selling the plan with a product; it leaves `productIds`.

    Errors: `404 PLAN_NOT_FOUND`; `404 NOT_FOUND` when the product is not linked to the
    plan.
    """
    view = await plans.unlink_product(call.session, call.ctx, planId, productId)
    return respond(
        PlanResult(message="Product unlinked from the plan", plan=PlanBody.of(view, call.ctx))
    )


# ---------------------------------------------------------------- prices


@prices_router.post("", response_model=PlanPriceResult, status_code=201)
async def create_plan_price(call: Writer, body: PlanPriceCreateBody) -> V1JSONResponse:
    """Add a price to a plan (version 1).

    `chargeModel` says how a quantity is priced: `flat_fee` (one amount whatever the
    quantity), `per_unit`, `tiered` (each unit at the price of the tier it falls in, plus
    the flat amount of every tier used) or `volume` (every unit at the price of the tier
    the whole quantity reaches, plus that tier's flat amount). The first `includedUnits`
    of each period cost nothing.

    `amounts` holds one object per ISO 4217 currency code (three upper-case letters):
    `{"EUR": {"unitAmount": "9.99"}}` for `flat_fee` and `per_unit`, `{"EUR": {"tiers":
    [{"upTo": 100, "unitAmount": "0.10", "flatAmount": "0"}, {"upTo": null, "unitAmount":
    "0.08"}]}}` for `tiered` and `volume`. Amounts are major units, as JSON numbers or
    strings; unit amounts take up to 6 decimals, a flat fee and flat amounts at most the
    currency's decimals. Tier limits (`upTo`, inclusive) rise, and only the last tier is
    unbounded (`null`). A subscription bills in its business unit's currency, so a price
    sold there needs an amount in it.

    `category` `recurring` bills every `billingPeriod` × `billingPeriodUnit`;
    `one_time` bills once, on the first invoice, and is always `in_advance`.
    `in_arrears` prices bill a period when it ends; `per_unit`, `tiered` and `volume`
    ones are then rated from the usage recorded.

    Errors: `404 PLAN_NOT_FOUND` for an unknown `planId`; `400 VALIDATION_ERROR` for
    anything invalid, with one detail per problem whose path names the field
    (`amounts.EUR.tiers.1.upTo`). Nothing is written on an error.
    """
    price = await plans.create_price(call.session, call.ctx, body.to_domain())
    return respond(
        PlanPriceResult(
            message="Plan price created successfully", plan_price=PlanPriceBody.of(price)
        ),
        status_code=201,
    )


@prices_router.get("", response_model=PlanPriceList, openapi_extra=_PRICE_FILTERS)
async def list_plan_prices(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List the current version of every price under the key `planPrices`, newest first
    by default (`sortBy` = `createdAt`; a new version counts as created when it was
    written).

    Pass `nextCursor` as `startAfter` to get the next page; `nextCursor` is `null` on
    the last page. An unknown filter value is `400 VALIDATION_ERROR`.
    """
    page = await plan_queries.list_prices(call.session, call.ctx, query.filters, query.page)
    return respond(
        PlanPriceList(
            plan_prices=[PlanPriceBody.of(price) for price in page.items], **page_fields(page)
        )
    )


@prices_router.get("/{priceId}", response_model=PlanPriceAnswer)
async def get_plan_price(
    priceId: str,  # noqa: N803
    call: Reader,
    version: Annotated[int | None, Query(ge=1, description="An older version")] = None,
) -> V1JSONResponse:
    """Retrieve the current version of a price, or the version `version`.

    An unknown price or version is `404 PLAN_PRICE_NOT_FOUND`.
    """
    price = await plan_queries.get_price(call.session, call.ctx, priceId, version)
    return respond(PlanPriceAnswer(plan_price=PlanPriceBody.of(price)))


@prices_router.get("/{priceId}/versions", response_model=PlanPriceVersions)
async def list_plan_price_versions(priceId: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Every version of a price, newest first, under the key `planPrices`; the current
    one has `supersededAt: null`.

    An unknown price is `404 PLAN_PRICE_NOT_FOUND`.
    """
    versions = await plan_queries.price_versions(call.session, call.ctx, priceId)
    return respond(
        PlanPriceVersions(
            plan_prices=[PlanPriceBody.of(price) for price in versions], count=len(versions)
        )
    )


@prices_router.patch("/{priceId}", response_model=PlanPriceUpdated)
async def update_plan_price(
    priceId: str,  # noqa: N803
    body: PlanPriceUpdateBody,
    call: Writer,
) -> V1JSONResponse:
    """Change any field of a price but its plan; fields left out stay as they are, and
    `amounts` replaces every currency's amounts.

    A version that an invoice has billed never changes: the change is written as a new
    version (same `id`, `version` one higher, created now), and the old version gets
    `supersededAt` and stays readable with `?version=`. Subscriptions keep billing the
    version their items name until the item is changed. A version nobody billed yet is
    changed in place. `newVersion` says which happened; a change that changes nothing
    writes nothing.

    Errors: `404 PLAN_PRICE_NOT_FOUND`; `400 VALIDATION_ERROR` when the price as it would
    be after the change is invalid (the rules of `POST /v1/plan-prices`, e.g. a new
    `chargeModel` without `amounts` that fit it).
    """
    update = await plans.update_price(call.session, call.ctx, priceId, body.to_domain())
    if update.new_version:
        message = f"Plan price version {update.price.version} created"
    elif update.changed:
        message = "Plan price updated successfully"
    else:
        message = "Plan price unchanged"
    return respond(
        PlanPriceUpdated(
            message=message,
            new_version=update.new_version,
            plan_price=PlanPriceBody.of(update.price),
        )
    )


@prices_router.delete("/{priceId}", response_model=PlanPriceDeleted)
async def delete_plan_price(priceId: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete a price and all its versions.

    A price that a subscription or an invoice names cannot be deleted
    (`409 PLAN_PRICE_IN_USE`): set its `status` to `inactive` instead, which stops new
    subscriptions taking it. An unknown price is `404 PLAN_PRICE_NOT_FOUND`.
    """
    deleted_id = await plans.delete_price(call.session, call.ctx, priceId)
    return respond(PlanPriceDeleted(message="Plan price deleted successfully", id=deleted_id))
