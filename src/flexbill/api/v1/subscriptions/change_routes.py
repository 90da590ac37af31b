"""``/v1/subscriptions``: extend, upgrade and replace a running subscription."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.subscriptions.change_schemas import (
    ExtendBody,
    ExtendResult,
    ReplaceBody,
    ReplaceResult,
    UpgradeBody,
    UpgradeResult,
)
from flexbill.subscriptions import extension, replacement, upgrade

router = APIRouter(prefix="/subscriptions", tags=["Subscriptions"])

Writer = Annotated[Call, Depends(require("subscriptions:write"))]


@router.post("/{subscriptionId}/extend", response_model=ExtendResult)
async def extend_subscription(
    subscriptionId: str,  # noqa: N803
    body: ExtendBody,
    call: Writer,
) -> V1JSONResponse:
    """Extend an active subscription by `extensionMonths` months, optionally at a new
    `newMonthlyAmount` from now on.

    `contractLength` grows by the months and `endDate` moves to the start date plus the
    new length, so the day of the month stays that of the start date (or the month's last
    day when it is shorter: a contract started on 31 January ends on 28 or 29 February
    when 13 months long). The extension is appended to `extensionHistory`. The
    business unit's extension settings apply: `extensionMonths` must be one of its
    `availableLengths`, a subscription is extended at most `maxExtensions` times, and no
    later than `minDaysBeforeEnd` days before its end. `approvalRequired` concerns the
    dashboard's workflow only: the holder of an API key is the approver.

    Unless the settings' `createTrackingOrder` is off, an order of type `extension`
    (already `fulfilled`) records the extension for the books; its id is
    `trackingOrderId`. A `subscription.extended` event is recorded.

    Only `extensionMonths` is required: `rentalId` is optional (when sent it must be the
    path's id) and so is `reason`. The answer names the device (`assetSerialNumber`).

    Errors: `400 VALIDATION_ERROR` (`rentalId` differs from the path), `404 NOT_FOUND`,
    `422 SUBSCRIPTION_NOT_ACTIVE`, `400 INVALID_EXTENSION_MONTHS`,
    `422 MAX_EXTENSIONS_REACHED`, `422 EXTENSION_TOO_LATE`.
    """
    change = body.to_domain(subscriptionId, call.ctx)
    extended = await extension.extend_subscription(call.session, call.ctx, change)
    return respond(ExtendResult.of(extended, call.ctx))


@router.post("/{subscriptionId}/upgrade", response_model=UpgradeResult)
async def upgrade_subscription(
    subscriptionId: str,  # noqa: N803
    body: UpgradeBody,
    call: Writer,
) -> V1JSONResponse:
    """Swap the subscription's device for the unit `newSerialNumber` of the variant
    `newSku`, on a new contract of `contractLength` months at `newMonthlyAmount`.

    The subscription ends as `ended_upgrade` (its `upgradedToRentalId` names the new one)
    and its device comes back as `returned`. A new subscription starts today on the new
    unit, which becomes `rented_out`; it names the old one in `upgradeFromRentalId` and
    keeps its billing group (its history records `billing_group_joined`) and custom
    fields. An order of type `upgrade` (already `fulfilled`) records the swap. The
    customer's `totalDevicesRented` stays the same and `totalMonthlyRevenue` moves by the
    difference. A `subscription.upgraded` event is recorded.

    In the answer, `oldDevice` and `newDevice` name the devices as
    `<productName> (<serialNumber>)`; `oldDeviceDetails` and `newDeviceDetails` give
    their SKU, serial number and product name; `rental` is the new subscription.
    `rentalId` is optional; when sent it must be the path's id.

    Errors: `400 VALIDATION_ERROR` (`rentalId` differs from the path), `404 NOT_FOUND`,
    `422 SUBSCRIPTION_NOT_ACTIVE`, `404 VARIANT_NOT_FOUND`, `422 VARIANT_INACTIVE`,
    `404 ASSET_NOT_FOUND`, `422 ASSET_NOT_AVAILABLE`, `409 SKU_MISMATCH` (the unit is not
    of `newSku`), `409 CONCURRENT_UPDATE` (other requests kept moving the subscription
    between billing groups meanwhile: retry).
    """
    change = body.to_domain(subscriptionId, call.ctx)
    upgraded = await upgrade.upgrade_subscription(call.session, call.ctx, change)
    return respond(UpgradeResult.of(upgraded, call.ctx))


@router.post("/{subscriptionId}/replace", response_model=ReplaceResult)
async def replace_device(
    subscriptionId: str,  # noqa: N803
    body: ReplaceBody,
    call: Writer,
) -> V1JSONResponse:
    """Replace a damaged, stolen, defective or lost device by the unit `newSerialNumber`
    of the same SKU; the contract goes on unchanged.

    The old unit becomes `unavailable` (a repair makes it `available` again through
    `PUT /v1/assets/{serialNumber}`); the new one becomes `rented_out` to the same
    subscription and customer. The replacement is appended to `replacementHistory`, and
    the events `asset.returned` (old unit) and `asset.assigned` (new unit) are recorded.
    `insuranceClaim` is `true`/`false`, or the claim as an object or as text. The answer
    repeats `replacementReason` as `reason`. `rentalId` is optional; when sent it must be
    the path's id.

    Errors: `400 VALIDATION_ERROR` (`rentalId` differs from the path), `404 NOT_FOUND`,
    `422 SUBSCRIPTION_NOT_ACTIVE`, `404 ASSET_NOT_FOUND`, `422 ASSET_NOT_AVAILABLE`,
    `409 SKU_MISMATCH` (`newSku` or the new unit is not of the subscription's SKU).
    """
    replaced = await replacement.replace_device(
        call.session, call.ctx, body.to_domain(subscriptionId)
    )
    return respond(ReplaceResult.of(replaced, call.ctx))
