"""Bodies of the operations that change a running subscription on the /v1 face: extend,
upgrade and replace (FlexPortal's Subscriptions reference, endpoints 20, 21 and 23).

A request may repeat the subscription's id as ``rentalId``, as FlexPortal's reference
does (its examples leave it out); a body naming another subscription than the path is
refused rather than guessed at. Amounts arrive in major units and are stored exactly or
refused, never rounded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.api.v1.subscriptions.schemas import (
    ContractMonths,
    Notes,
    Reference,
    RentalBody,
    RentalIdInBody,
    path_rental,
)
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import PRECISION_CODE, PrecisionError, to_major, to_minor_exact
from flexbill.subscriptions.extension import Extended, Extension
from flexbill.subscriptions.replacement import Replaced, Replacement
from flexbill.subscriptions.upgrade import Device, Upgrade, Upgraded
from flexbill.tenancy.context import TenantContext

MAX_REASON_LENGTH = 1000

Reason = Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]
# Bounded so that any accepted amount fits the minor-unit column in every currency.
MonthlyAmount = Annotated[Decimal, Field(ge=0, lt=Decimal(10) ** 13)]
ReplacementReasonName = Literal["damaged", "stolen", "defective", "lost"]
MAX_TEXT_LENGTH = 5000


def _claim(value: Any) -> Any:
    """One error for anything else, at the field itself: a union would report one per
    member, under paths no client sent (``insuranceClaim.str``)."""
    if value is None or isinstance(value, dict | bool):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("claim_type", "Expected a boolean, an object or a string")
    if len(value) > MAX_TEXT_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max} characters",
            {"max": MAX_TEXT_LENGTH},
        )
    return value


InsuranceClaim = Annotated[dict[str, Any] | str | bool | None, BeforeValidator(_claim)]


def _minor_units(amount: Decimal, currency: str, path: str) -> int:
    """Major → minor units, refusing digits the currency does not have."""
    try:
        return to_minor_exact(amount, currency)
    except PrecisionError as error:
        raise ValidationFailed.field(path, str(error), PRECISION_CODE) from None


class ExtendBody(V1Model):
    """The body of ``POST /v1/subscriptions/{id}/extend``."""

    rental_id: RentalIdInBody = None
    extension_months: int = Field(
        description="Months to add (1–120), one of the business unit's extension lengths"
    )
    new_monthly_amount: MonthlyAmount | None = Field(
        default=None, description="The monthly amount from now on; unchanged when left out"
    )
    reason: Reason | None = None
    notes: Notes = None

    def to_domain(self, rental_id: str, ctx: TenantContext) -> Extension:
        amount = self.new_monthly_amount
        return Extension(
            rental_id=path_rental(rental_id, self.rental_id),
            extension_months=self.extension_months,
            reason=self.reason,
            new_monthly_amount=(
                None if amount is None else _minor_units(amount, ctx.currency, "newMonthlyAmount")
            ),
            notes=self.notes,
        )


class ExtendResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    asset_serial_number: str = Field(description="The serial number of the extended device")
    old_end_date: date
    new_end_date: date
    extension_months: int
    old_contract_length: int
    new_contract_length: int
    tracking_order_id: str | None = Field(
        description="The order of type `extension` recorded for the books, unless the "
        "business unit's settings turn tracking orders off"
    )
    rental: RentalBody

    @classmethod
    def of(cls, extended: Extended, ctx: TenantContext) -> ExtendResult:
        entry = extended.entry
        return cls(
            message="Subscription extended successfully",
            rental_id=extended.subscription.id,
            asset_serial_number=extended.subscription.serial_number,
            old_end_date=date.fromisoformat(entry["old_end_date"]),
            new_end_date=date.fromisoformat(entry["new_end_date"]),
            extension_months=entry["extension_months"],
            old_contract_length=entry["old_contract_length"],
            new_contract_length=entry["new_contract_length"],
            tracking_order_id=extended.tracking_order_id,
            rental=RentalBody.of(extended.subscription, ctx),
        )


class UpgradeBody(V1Model):
    """The body of ``POST /v1/subscriptions/{id}/upgrade``."""

    rental_id: RentalIdInBody = None
    new_sku: Reference = Field(description="The variant SKU of the new device")
    new_serial_number: Reference = Field(description="An available unit of `newSku`")
    contract_length: ContractMonths = Field(
        validation_alias=AliasChoices("contractLength", "newContractLength"),
        description="Months of the new contract (1–120); `newContractLength` is accepted too",
    )
    new_monthly_amount: MonthlyAmount
    reason: Reason
    notes: Notes = None

    def to_domain(self, rental_id: str, ctx: TenantContext) -> Upgrade:
        return Upgrade(
            rental_id=path_rental(rental_id, self.rental_id),
            new_sku=self.new_sku,
            new_serial_number=self.new_serial_number,
            contract_length=self.contract_length,
            new_monthly_amount=_minor_units(
                self.new_monthly_amount, ctx.currency, "newMonthlyAmount"
            ),
            reason=self.reason,
            notes=self.notes,
        )


class DeviceBody(V1Model):
    sku: str
    serial_number: str
    product_name: str

    @classmethod
    def of(cls, device: Device) -> DeviceBody:
        return cls(
            sku=device.sku, serial_number=device.serial_number, product_name=device.product_name
        )


class UpgradeResult(V1Model):
    success: bool = True
    message: str
    old_rental_id: str
    new_rental_id: str
    old_device: str = Field(description="The returned device: `<productName> (<serialNumber>)`")
    new_device: str = Field(description="The new device: `<productName> (<serialNumber>)`")
    old_device_details: DeviceBody
    new_device_details: DeviceBody
    new_monthly_amount: Amount
    currency: str
    rental: RentalBody = Field(description="The new subscription")

    @classmethod
    def of(cls, upgraded: Upgraded, ctx: TenantContext) -> UpgradeResult:
        return cls(
            message="Subscription upgraded successfully",
            old_rental_id=upgraded.old.id,
            new_rental_id=upgraded.new.id,
            old_device=upgraded.old_device.name,
            new_device=upgraded.new_device.name,
            old_device_details=DeviceBody.of(upgraded.old_device),
            new_device_details=DeviceBody.of(upgraded.new_device),
            new_monthly_amount=to_major(upgraded.new.monthly_amount, ctx.currency),
            currency=ctx.currency,
            rental=RentalBody.of(upgraded.new, ctx),
        )


class ReplaceBody(V1Model):
    """The body of ``POST /v1/subscriptions/{id}/replace``."""

    rental_id: RentalIdInBody = None
    new_serial_number: Reference = Field(description="An available unit of the same SKU")
    new_sku: Reference | None = Field(
        default=None, description="When given, it must be the subscription's SKU"
    )
    replacement_reason: ReplacementReasonName
    damage_assessment: Notes = None
    insurance_claim: InsuranceClaim = Field(
        default=None,
        description="Whether an insurance claim is made (`true`/`false`), or the claim itself "
        "as an object or as text",
    )
    notes: Notes = None

    def to_domain(self, rental_id: str) -> Replacement:
        return Replacement(
            rental_id=path_rental(rental_id, self.rental_id),
            new_serial_number=self.new_serial_number,
            replacement_reason=self.replacement_reason,
            new_sku=self.new_sku,
            damage_assessment=self.damage_assessment,
            insurance_claim=self.insurance_claim,
            notes=self.notes,
        )


class ReplaceResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    old_serial_number: str
    new_serial_number: str
    reason: ReplacementReasonName = Field(description="The same as `replacementReason`")
    replacement_reason: ReplacementReasonName
    rental: RentalBody

    @classmethod
    def of(cls, replaced: Replaced, ctx: TenantContext) -> ReplaceResult:
        entry = replaced.entry
        return cls(
            message="Device replaced successfully",
            rental_id=replaced.subscription.id,
            old_serial_number=entry["old_serial_number"],
            new_serial_number=entry["new_serial_number"],
            reason=replaced.reason,
            replacement_reason=replaced.reason,
            rental=RentalBody.of(replaced.subscription, ctx),
        )
