"""What an extension or upgrade order records about the contract it changes.

An ``extension`` order tracks the lengthening of an existing contract and names the order
it extends; an ``upgrade`` order tracks a device swap and names the subscription it ends.
Each type needs its details, and a standard order takes neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flexbill.core.errors import ErrorDetail, FlexbillError, ValidationFailed
from flexbill.core.money import PRECISION_CODE, PrecisionError, to_minor_exact
from flexbill.orders.models import OrderType
from flexbill.orders.repository import Orders
from flexbill.tenancy.context import TenantContext


@dataclass(frozen=True)
class ExtensionDetails:
    original_order_id: str
    extension_months: int
    previous_end_date: date
    new_end_date: date
    reason: str | None = None


@dataclass(frozen=True)
class UpgradeDetails:
    previous_device: str
    previous_serial_number: str
    previous_monthly_amount: Decimal  # major units, as the client states it
    previous_rental_id: str
    upgrade_reason: str | None = None


@dataclass(frozen=True)
class StoredDetails:
    """The details as the order row keeps them (JSON; amounts in minor units)."""

    extension: dict[str, Any] | None = None
    upgrade: dict[str, Any] | None = None


# A monthly amount far beyond any device, far below what a 64-bit column holds.
MAX_AMOUNT = 10**15

_REQUIRED_FOR = {OrderType.EXTENSION: "extensionDetails", OrderType.UPGRADE: "upgradeDetails"}


async def check_details(
    session: AsyncSession,
    ctx: TenantContext,
    order_type: OrderType,
    extension: ExtensionDetails | None,
    upgrade: UpgradeDetails | None,
) -> StoredDetails:
    """The details to store, or ``VALIDATION_ERROR`` naming every misplaced or missing one."""
    given = {"extensionDetails": extension is not None, "upgradeDetails": upgrade is not None}
    wanted = _REQUIRED_FOR.get(order_type)
    problems: list[ErrorDetail] = []
    for name, present in given.items():
        if name == wanted and not present:
            message, code = f"Required when orderType is {order_type}", "invalid_type"
        elif name != wanted and present:
            kind = name.removesuffix("Details")
            message, code = f"Only for orderType {kind}", "unrecognized_keys"
        else:
            continue
        problems.append(ErrorDetail(path=name, message=message, code=code))
    if problems:
        raise ValidationFailed("Invalid request", problems)
    if extension is not None:
        return StoredDetails(extension=await _extension(session, ctx, extension))
    if upgrade is not None:
        return StoredDetails(upgrade=_upgrade(ctx.currency, upgrade))
    return StoredDetails()


async def _extension(
    session: AsyncSession, ctx: TenantContext, details: ExtensionDetails
) -> dict[str, Any]:
    if details.new_end_date <= details.previous_end_date:
        raise ValidationFailed.field(
            "extensionDetails.newEndDate", "must be after previousEndDate", "too_small"
        )
    if await Orders(session, ctx.tenant_id).find(details.original_order_id) is None:
        raise FlexbillError(
            "ORDER_NOT_FOUND",
            f"Order '{details.original_order_id}' not found",
            (
                ErrorDetail(
                    path="extensionDetails.originalOrderId",
                    message="no order of this business unit has this id",
                    code="not_found",
                ),
            ),
        )
    return {
        "original_order_id": details.original_order_id,
        "extension_months": details.extension_months,
        "previous_end_date": details.previous_end_date.isoformat(),
        "new_end_date": details.new_end_date.isoformat(),
        "reason": details.reason,
    }


def _upgrade(currency: str, details: UpgradeDetails) -> dict[str, Any]:
    path = "upgradeDetails.previousMonthlyAmount"
    amount = details.previous_monthly_amount
    try:
        minor = to_minor_exact(amount, currency)
    except PrecisionError as error:
        raise ValidationFailed.field(path, str(error), PRECISION_CODE) from None
    if minor < 0:
        raise ValidationFailed.field(path, "must not be negative", "too_small")
    if minor > MAX_AMOUNT:
        raise ValidationFailed.field(path, "is too large", "too_big")
    return {
        "previous_device": details.previous_device,
        "previous_serial_number": details.previous_serial_number,
        "previous_monthly_amount": minor,
        "previous_rental_id": details.previous_rental_id,
        "upgrade_reason": details.upgrade_reason,
    }
