"""``/v1/subscriptions``: buyout, early return and cancellation, and their quotes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.subscriptions.ending_schemas import (
    BuyoutQuoteResult,
    BuyoutRequestBody,
    BuyoutResult,
    CancelRequestBody,
    CancelResult,
    EarlyReturnQuoteResult,
    EarlyReturnRequestBody,
    EarlyReturnResult,
    RentalReferenceBody,
)
from flexbill.subscriptions import buyout, cancellation, early_return

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])

# A quote changes nothing, so reading subscriptions is enough to ask for one.
Reader = Annotated[Call, Depends(require("subscriptions:read"))]
Writer = Annotated[Call, Depends(require("subscriptions:write"))]


@router.post("/calculate-buyout", response_model=BuyoutQuoteResult)
async def calculate_buyout(call: Reader, body: RentalReferenceBody) -> V1JSONResponse:
    """Quote what the customer of the active subscription `rentalId` (or
    `subscriptionId`, the same) would pay today to keep the device, under the business
    unit's buyout settings. Nothing changes.

    `remainingMonths` counts the contract months still to bill: the month in progress is
    paid in advance and not counted, a month beginning today is. The settings' method
    makes the price:

    - `flat_fee`: the flat fee;
    - `remaining_months`: `remainingMonths × monthlyAmount` (`remainingPayments`);
    - `rrp_percentage`: the list price × `listPricePercentage` / 100, rounded half up
      (`depreciatedValue`, 0 for methods that leave the list price out);
    - `remaining_months_plus_rrp`: both parts added.

    When the device's list price is unknown, "Allow RRP estimation" uses its acquisition
    cost, or else monthly amount × original contract length, and says so in
    `calculationBreakdown` (`listPriceEstimated`, `listPriceBasis`).

    Errors: `400 VALIDATION_ERROR` (neither `rentalId` nor `subscriptionId`, or two
    different ones), `404 NOT_FOUND`, `422 SUBSCRIPTION_NOT_ACTIVE`,
    `422 LIST_PRICE_UNKNOWN` (the method needs a list price and estimation is off).
    """
    quote = await buyout.quote_buyout(call.session, call.ctx, body.quoted_id)
    return respond(BuyoutQuoteResult.of(quote, call.ctx.currency))


@router.post("/calculate-early-return-fee", response_model=EarlyReturnQuoteResult)
async def calculate_early_return_fee(call: Reader, body: RentalReferenceBody) -> V1JSONResponse:
    """Quote the fee for returning the device of the active subscription `rentalId` (or
    `subscriptionId`, the same) today, under the business unit's early-return settings.
    Nothing changes.

    Within the grace period (`daysFromStart` up to the settings' grace days) the fee is 0
    and `gracePeriodApplied` is `true`. Otherwise the method decides: `no_fee` 0,
    `flat_fee` the flat fee, `remaining_months` `remainingValue × penaltyPercentage` / 100,
    rounded half up, where `remainingValue` = `remainingMonths × monthlyAmount`.

    `remainingMonths` counts from the start of the current contract month when "charge
    current month" is on (the month in progress counts whole); otherwise from today, the
    rest of the month in progress rounded up or down as the settings say.

    Errors: `400 VALIDATION_ERROR` (neither `rentalId` nor `subscriptionId`, or two
    different ones), `404 NOT_FOUND`, `422 SUBSCRIPTION_NOT_ACTIVE`.
    """
    quote = await early_return.quote_early_return(call.session, call.ctx, body.quoted_id)
    return respond(EarlyReturnQuoteResult.of(quote, call.ctx.currency))


@router.post("/{subscriptionId}/buyout", response_model=BuyoutResult)
async def buy_out(
    subscriptionId: str,  # noqa: N803
    body: BuyoutRequestBody,
    call: Writer,
) -> V1JSONResponse:
    """Sell the rented device to its customer and end the subscription as `ended_buyout`.

    The price is the one `POST /v1/subscriptions/calculate-buyout` quotes, unless
    `buyoutPrice` sets it by hand (allowed while the buyout settings' "Allow manual
    override" is on). The asset becomes `sold` and leaves the customer's rentals; the
    customer's `totalDevicesRented` and `totalMonthlyRevenue` drop. The subscription's
    `buyoutDetails` keep the price and how it was reached.

    `effectiveDate` (a date, or an RFC 3339 date-time whose day in UTC is taken) dates
    the buyout back: the price is quoted for that day, `buyoutDetails.buyoutDate` is that
    day, and `endedAt` is that day at the present time of day. It defaults to today and
    may be neither after today nor before the start date. `rentalId` is optional; when
    sent it must be the path's id.

    Errors: `400 VALIDATION_ERROR` (also for `effectiveDate` out of range),
    `400 INVALID_BUYOUT_PRICE` (negative, more decimals than the currency has, or manual
    prices turned off), `404 NOT_FOUND`, `422 SUBSCRIPTION_NOT_ACTIVE`,
    `422 LIST_PRICE_UNKNOWN`.
    """
    request = body.to_domain(subscriptionId, call.ctx)
    done = await buyout.buy_out(call.session, call.ctx, request)
    return respond(BuyoutResult.of(done, call.ctx))


@router.post("/{subscriptionId}/early-return", response_model=EarlyReturnResult)
async def return_early(
    subscriptionId: str,  # noqa: N803
    body: EarlyReturnRequestBody,
    call: Writer,
) -> V1JSONResponse:
    """End the subscription before its term as `ended_early_return`; the device comes back.

    The fee is the one `POST /v1/subscriptions/calculate-early-return-fee` quotes, unless
    `earlyReturnFee` sets it by hand (allowed while the early-return settings' "Allow
    manual override" is on); `waiveFee: true` makes it 0. The asset becomes `returned`
    (awaiting inspection), or `unavailable` when `returnCondition` is `damaged`; the
    customer's `totalDevicesRented` and `totalMonthlyRevenue` drop. The subscription's
    `earlyReturnDetails` keep the fee, the condition and the reason. The answer names the
    device to collect (`assetSerialNumber`), the `returnDate` and the contract months
    begun before it (`actualMonthsRented`).

    `effectiveDate` (a date, or an RFC 3339 date-time whose day in UTC is taken) dates
    the return back: the fee is quoted for that day, `returnDate` is that day, and
    `returnedAt` and `endedAt` are that day at the present time of day. It defaults to
    today and may be neither after today nor before the start date. `rentalId` is
    optional; when sent it must be the path's id.

    Errors: `400 VALIDATION_ERROR` (also for `effectiveDate` out of range),
    `400 INVALID_FEE` (negative, more decimals than the currency has, or manual fees
    turned off), `404 NOT_FOUND`, `422 SUBSCRIPTION_NOT_ACTIVE`.
    """
    request = body.to_domain(subscriptionId, call.ctx)
    done = await early_return.return_early(call.session, call.ctx, request)
    return respond(EarlyReturnResult.of(done, call.ctx))


@router.post("/{subscriptionId}/cancel", response_model=CancelResult)
async def cancel_subscription(
    subscriptionId: str,  # noqa: N803
    body: CancelRequestBody,
    call: Writer,
) -> V1JSONResponse:
    """Cancel an active subscription, or one suspended for non-payment, without a fee: it
    becomes `cancelled` and its device comes back `returned`.

    The customer's `totalDevicesRented` and `totalMonthlyRevenue` drop; the reason and
    notes are kept in `cancellationDetails`. The answer names the device to collect
    (`assetSerialNumber`) and the status the subscription had (`previousStatus`).
    `rentalId` is optional; when sent it must be the path's id.

    Errors: `400 VALIDATION_ERROR`, `404 NOT_FOUND`, `409 ALREADY_CANCELLED`,
    `409 ALREADY_ENDED`.
    """
    request = body.to_domain(subscriptionId)
    done = await cancellation.cancel_subscription(call.session, call.ctx, request)
    return respond(CancelResult.of(done, call.ctx))
