"""``/v1/exports``: CSV exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from flexbill.api.v1.exports.schemas import ExportFilters, RentalExportBody, RentalExportResult
from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.subscriptions import export

router = APIRouter(prefix="/exports", tags=["Exports"])

Reader = Annotated[Call, Depends(require("subscriptions:read"))]


@router.post("/rentals", response_model=RentalExportResult)
async def export_rentals(call: Reader, body: RentalExportBody | None = None) -> V1JSONResponse:
    """Export subscriptions (rentals) as CSV text in `csvData`, oldest first.

    Every field is optional; a field the export does not know is `400 VALIDATION_ERROR`
    (`unrecognized_keys`), so that no filter is ever silently ignored. `startDate` and
    `endDate` bound the subscription's start date (both inclusive; `startDateFrom` and
    `startDateTo` are the same filters under the names of FlexPortal's guides). Each is
    a date (`YYYY-MM-DD`) or an RFC 3339 date-time whose day in UTC is taken, between
    2000-01-01 and 2099-12-31. `status` and `customerIds` (up to 1000) filter further;
    `customerId` adds one customer to `customerIds`.

    `includeFields` switches column groups off (each defaults to `true`): the columns
    Rental ID, Status, Customer ID, Order ID, Start Date, End Date, Contract Length and
    Created At are always written; `customerDetails` adds Customer Email, Customer Name
    and Company; `deviceDetails` SKU, Product Name, Variant Name and Serial Number;
    `financialDetails` Monthly Amount, Currency, Total Collected, Acquisition Cost and
    List Price (major units); `customFields` one `Custom: <name>` column per custom field
    found in the exported subscriptions, sorted by name.

    The answer sums the exported rows up: `totalRentals` (the same as `totalRecords`),
    `activeRentals`, `totalRevenue` (their monthly amounts added up) and
    `averageMonthlyRevenue` (rounded half up to the currency's minor unit; 0 without
    rows).

    Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
    tab or a carriage return) is written with a leading `'`. More than 100,000 matching
    subscriptions is `400 VALIDATION_ERROR`: narrow the range. `format` accepts only
    `csv`.
    """
    body = body or RentalExportBody()
    request = body.to_domain()
    result = await export.export_rentals(call.session, call.ctx, request)
    filters = ExportFilters.of(request, body.status)
    return respond(RentalExportResult.of(result, filters, call.ctx.currency))
