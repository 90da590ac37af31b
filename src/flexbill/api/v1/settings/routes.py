"""``/v1/settings``: the business unit's rules, read and changed per environment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from flexbill.api.v1.guard import Call, require
from flexbill.api.v1.responses import V1JSONResponse, respond
from flexbill.api.v1.settings.schemas import (
    PATCH_EXAMPLE,
    SettingsBody,
    SettingsEnvelope,
    SettingsResult,
    domain_patch,
    with_wire_paths,
)
from flexbill.core.errors import ValidationFailed
from flexbill.settings import service

router = APIRouter(prefix="/settings", tags=["Settings"])

Reader = Annotated[Call, Depends(require("settings:read"))]
Writer = Annotated[Call, Depends(require("settings:write"))]

SettingsPatch = Annotated[
    dict[str, Any],
    Body(
        description="The fields to change, in the shape of `settings` (JSON Merge Patch)",
        openapi_examples={"several sections": {"value": PATCH_EXAMPLE}},
    ),
]


@router.get("", response_model=SettingsEnvelope)
async def get_settings(call: Reader) -> V1JSONResponse:
    """Retrieve the business unit's settings for the environment of the API key.

    Live and test keys each see their own settings, so the test environment can try rules
    without touching live. Every section is present: a setting never changed has its
    default, and `updatedAt` is `null` until the settings are first saved. Amounts are in
    the business unit's `currency`, percentages are numbers from 0 to 100.
    """
    settings = await service.get_settings(call.session, call.ctx)
    return respond(SettingsEnvelope(settings=SettingsBody.of(settings)))


@router.patch("", response_model=SettingsResult)
async def update_settings(call: Writer, patch: SettingsPatch) -> V1JSONResponse:
    """Change some settings and keep the others (JSON Merge Patch, RFC 7386).

    Send only what changes: objects merge field by field, lists and single values replace
    what was there, and `null` returns a field (or a whole section) to its default. The
    settings that result are checked as a whole; if anything is wrong, nothing is saved
    and `400 VALIDATION_ERROR` lists each problem with its path (`vat.rate`,
    `billingCycle.dayOfMonth`). Unknown fields are refused, as are amounts with more
    decimals than the currency has. `currency` is fixed when the business unit is created
    and `updatedAt` is set by the server; neither can be sent.

    Rules checked across fields: `billingCycle.dayOfMonth` (1–28) is required when
    `billingCycle.type` is `fixed_day` and refused otherwise; `lateFees.amount` or
    `lateFees.percentage` is required for enabled late fees of that type;
    `buyout.flatFee` for the `flat_fee` method and `buyout.rrpPercentage` for the methods
    using the RRP; `earlyReturn.flatFee` for the `flat_fee` method. Contract lengths
    (1–120 months, adjustment −50 to 100 %) and extension lengths must be distinct.
    """
    changes = domain_patch(patch, call.ctx.currency)  # its errors already use wire names
    try:
        settings = await service.update_settings(call.session, call.ctx, changes)
    except ValidationFailed as error:
        raise with_wire_paths(error) from None
    return respond(
        SettingsResult(message="Settings updated successfully", settings=SettingsBody.of(settings))
    )
