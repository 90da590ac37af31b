"""``/v1/assets``: register, list, get (with history), update and soft delete units by
serial number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.assets.schemas import (
    AssetBody,
    AssetCreateBody,
    AssetDetail,
    AssetList,
    AssetResult,
    AssetUpdateBody,
)
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.pagination import ListQuery, filter_docs, list_query, page_fields
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.assets import service
from flexbill.assets.models import Asset
from flexbill.core.errors import ValidationFailed

router = APIRouter(prefix="/assets", tags=["Assets"])

Reader = Annotated[Call, Depends(require("assets:read"))]
Writer = Annotated[Call, Depends(require("assets:write"))]

_FILTERS = filter_docs(
    {
        "status": "`available`, `rented_out`, `returned`, `sold` or `unavailable`",
        "sku": "Exact product variant SKU",
        "customerId": "Only units currently rented by this customer",
        "rentalId": "Only the unit currently assigned to this subscription",
    }
)


def _result(message: str, asset: Asset, call: Call) -> AssetResult:
    return AssetResult(
        message=message, serial_number=asset.serial_number, asset=AssetBody.of(asset, call.ctx)
    )


@router.get("", response_model=AssetList, openapi_extra=_FILTERS)
async def list_assets(
    call: Reader, query: Annotated[ListQuery, Depends(list_query)]
) -> V1JSONResponse:
    """List assets, newest first by default.

    Filter with `status`, `sku`, `customerId` and `rentalId`; for example
    `?status=available&sku=LAPTOP-PRO-16` lists the units ready to be assigned. Sort with
    `sortBy` = `createdAt`, `updatedAt`, `serialNumber`, `status` or `sku`. Pass `nextCursor`
    (or the last `serialNumber` of a page) as `startAfter` to get the next page; `nextCursor`
    is `null` on the last page. Deleted assets are listed with status `unavailable`.
    """
    page = await service.list_assets(call.session, call.ctx, query.filters, query.page)
    return respond(
        AssetList(
            assets=[AssetBody.of(asset, call.ctx) for asset in page.items],
            **page_fields(page),
        )
    )


@router.post("", response_model=AssetResult, status_code=201)
async def create_asset(call: Writer, body: AssetCreateBody) -> V1JSONResponse:
    """Register a physical unit in inventory.

    `serialNumber` and `sku` (the product variant SKU) are required. A new asset is
    `available` unless `status` says `unavailable`; `rented_out`, `returned` and `sold`
    are reached through subscriptions only. `acquisitionCost` is in the business unit's
    currency, with no more decimals than that currency has; `acquisitionDate` (YYYY-MM-DD)
    defaults to today.

    The serial number is unique within the business unit's environment: registering it
    again, even after the asset was deleted, is refused with `409 ASSET_EXISTS`, so a
    retried request never creates a second unit.
    """
    asset = await service.register_asset(call.session, call.ctx, body.to_domain(call.ctx))
    return respond(_result("Asset created successfully", asset, call), status_code=201)


@router.get("/{serialNumber}", response_model=AssetDetail)
async def get_asset(serialNumber: str, call: Reader) -> V1JSONResponse:  # noqa: N803
    """Retrieve one asset by serial number, with its `history`: every registration, update,
    status change, assignment to a subscription and return, oldest first.

    A deleted asset is still returned, with status `unavailable` and `deletedAt` set.
    """
    record = await service.get_asset_with_history(call.session, call.ctx, serialNumber)
    return respond(AssetDetail.of_record(record, call.ctx))


@router.put("/{serialNumber}", response_model=AssetResult)
async def update_asset(
    serialNumber: str,  # noqa: N803
    body: AssetUpdateBody,
    call: Writer,
) -> V1JSONResponse:
    """Update an asset: `sku`, `productName`, `status`, `acquisitionCost`,
    `acquisitionDate`, `location`, `condition` and `notes`.

    Send the asset object (as read from `GET`) with your changes; `sku` is required. A field
    left out keeps its value and a field sent as `null` is cleared. `serialNumber`, if sent,
    must match the path: serial numbers never change. Read-only fields (`tenantId`,
    `customerId`, `rentalId`, `currency`, timestamps, `history`) are ignored.

    Status changes allowed here: `available` ↔ `unavailable`, and `returned` → `available`
    or `unavailable` (setting `available` on a deleted asset restores it). `rented_out` and
    `sold` are set and cleared only by subscriptions and buyouts: any other change answers
    `422 INVALID_STATUS_TRANSITION`. The SKU of a rented-out asset cannot change
    (`409 ASSET_IN_USE`).
    """
    if body.serial_number is not None and body.serial_number != serialNumber:
        raise ValidationFailed.field(
            "serialNumber",
            "serialNumber in the body must match the serialNumber in the path",
            "invalid_string",
        )
    asset = await service.update_asset(
        call.session, call.ctx, serialNumber, body.to_domain(call.ctx)
    )
    return respond(_result("Asset updated successfully", asset, call))


@router.delete("/{serialNumber}", response_model=AssetResult)
async def delete_asset(serialNumber: str, call: Writer) -> V1JSONResponse:  # noqa: N803
    """Delete an asset. This is a soft delete: the asset becomes `unavailable` and gets a
    `deletedAt`, but it keeps its serial number and history and still answers `GET`.

    Refused with `409 ASSET_IN_USE` while the asset is `rented_out`; end its subscription
    first. Deleting an already deleted asset changes nothing.
    """
    asset = await service.delete_asset(call.session, call.ctx, serialNumber)
    return respond(_result("Asset deleted", asset, call))
