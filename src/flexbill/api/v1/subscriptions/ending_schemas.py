"""Request and response bodies of the /v1 operations that end a subscription (buyout,
early return, cancel) and of their quotes (FlexPortal's Subscriptions reference).

A body may repeat the subscription's id as ``rentalId``; when it does, it must match the
id in the path. The quotes have no path id: they take ``rentalId`` or, as FlexPortal's
quote pages write it, ``subscriptionId``. Prices and fees set by hand arrive in major units and are
refused with the operation's own code (``INVALID_BUYOUT_PRICE``, ``INVALID_FEE``), not
``VALIDATION_ERROR``, when they cannot be an amount of the currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.api.v1.subscriptions.dates import CalendarDate
from flexbill.api.v1.subscriptions.schemas import (
    RentalBody,
    RentalIdInBody,
    StatusName,
    path_rental,
)
from flexbill.core.errors import FlexbillError, ValidationFailed
from flexbill.core.money import PRECISION_CODE, PrecisionError, to_major, to_minor_exact
from flexbill.subscriptions import buyout, cancellation, early_return
from flexbill.subscriptions.models import MAX_NOTES_LENGTH
from flexbill.subscriptions.quotes import BuyoutQuote, EarlyReturnQuote
from flexbill.tenancy.context import TenantContext

Reference = Annotated[str, Field(min_length=1, max_length=100)]
Notes = Annotated[str | None, Field(default=None, max_length=MAX_NOTES_LENGTH)]
BuyoutReason = Literal["customer_request", "end_of_contract", "other"]
ReturnCondition = Literal["excellent", "good", "fair", "poor", "damaged"]
CancellationReason = Literal[
    "customer_request", "payment_failure", "fraud", "admin_decision", "other"
]
ManualAmount = Annotated[
    Decimal | None,
    Field(default=None, description="Major units; leave out to use the calculated amount"),
]

# Larger amounts could not be stored in every currency's minor units.
_LARGEST_AMOUNT = Decimal(10) ** 13


def _manual_minor_units(
    amount: Decimal | None, currency: str, refuse: Callable[[str, str], FlexbillError]
) -> int | None:
    """A price or fee typed by a person, in minor units; the sign is the domain's rule."""
    if amount is None:
        return None
    if amount.is_finite() and amount.copy_abs() >= _LARGEST_AMOUNT:
        raise refuse(f"Must be below {_LARGEST_AMOUNT:f}", "too_big")
    try:
        return to_minor_exact(amount, currency)
    except PrecisionError as error:
        raise refuse(str(error), PRECISION_CODE) from None


class RentalReferenceBody(V1Model):
    """The body of the quotes: the subscription to quote, as ``rentalId`` or
    ``subscriptionId``."""

    rental_id: Reference | None = Field(default=None, description="The subscription to quote")
    subscription_id: Reference | None = Field(
        default=None, description="The same as `rentalId`; send either"
    )

    @property
    def quoted_id(self) -> str:
        if self.rental_id is None and self.subscription_id is None:
            raise ValidationFailed.field(
                "rentalId", "Required: the subscription to quote (or subscriptionId)",
                "invalid_type",
            )  # fmt: skip
        if self.rental_id is None:
            assert self.subscription_id is not None
            return self.subscription_id
        if self.subscription_id is not None and self.subscription_id != self.rental_id:
            raise ValidationFailed.field(
                "subscriptionId", "subscriptionId and rentalId name different subscriptions",
                "mismatch",
            )  # fmt: skip
        return self.rental_id


EffectiveDate = Annotated[
    CalendarDate | None,
    Field(
        default=None,
        description="The day it takes effect, from the start date to today (default today); "
        "`YYYY-MM-DD` or an RFC 3339 date-time",
    ),
]


class BuyoutRequestBody(V1Model):
    rental_id: RentalIdInBody = None
    buyout_price: ManualAmount = None
    reason: BuyoutReason
    notes: Notes = None
    effective_date: EffectiveDate = None

    def to_domain(self, path_id: str, ctx: TenantContext) -> buyout.BuyoutRequest:
        rental_id = path_rental(path_id, self.rental_id)
        price = _manual_minor_units(self.buyout_price, ctx.currency, buyout.invalid_price)
        return buyout.BuyoutRequest(
            rental_id=rental_id, reason=self.reason, buyout_price=price, notes=self.notes,
            effective_date=self.effective_date,
        )  # fmt: skip


class EarlyReturnRequestBody(V1Model):
    rental_id: RentalIdInBody = None
    return_condition: ReturnCondition
    early_return_fee: ManualAmount = None
    waive_fee: bool = Field(default=False, description="No fee at all (flexbill: prose field)")
    reason: Annotated[str, Field(min_length=1, max_length=early_return.MAX_REASON_LENGTH)]
    damage_assessment: Notes = None
    notes: Notes = None
    effective_date: EffectiveDate = None

    def to_domain(self, path_id: str, ctx: TenantContext) -> early_return.EarlyReturnRequest:
        rental_id = path_rental(path_id, self.rental_id)
        fee = _manual_minor_units(self.early_return_fee, ctx.currency, early_return.invalid_fee)
        return early_return.EarlyReturnRequest(
            rental_id=rental_id, return_condition=self.return_condition, reason=self.reason,
            fee=fee, waive_fee=self.waive_fee, damage_assessment=self.damage_assessment,
            notes=self.notes, effective_date=self.effective_date,
        )  # fmt: skip


class CancelRequestBody(V1Model):
    rental_id: RentalIdInBody = None
    reason: CancellationReason
    notes: Annotated[str | None, Field(default=None, max_length=cancellation.MAX_NOTES_LENGTH)] = (
        None
    )

    def to_domain(self, path_id: str) -> cancellation.CancellationRequest:
        return cancellation.CancellationRequest(
            rental_id=path_rental(path_id, self.rental_id), reason=self.reason, notes=self.notes
        )


# ---- quotes -------------------------------------------------------------------------------


def _major(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else to_major(amount, currency)


class BuyoutQuoteBreakdownBody(V1Model):
    remaining_months: int = Field(description="Contract months not yet begun (or beginning today)")
    remaining_months_payment: Amount = Field(description="remainingMonths × monthly amount")
    list_price_percentage: Decimal | None = Field(description="`null` when the method has none")
    list_price_amount: Amount = Field(description="The list-price part; 0 when unused")
    flat_fee: Amount = Field(description="0 unless the method is `flat_fee`")
    method: Literal["flat_fee", "remaining_months", "rrp_percentage", "remaining_months_plus_rrp"]
    list_price: Amount | None = Field(description="The list price used (flexbill)")
    list_price_estimated: bool = Field(description="The list price was unknown (flexbill)")
    list_price_basis: Literal["list_price", "acquisition_cost", "contract_value"] | None = Field(
        description="What the list price is: the device's own, or an estimate from its "
        "acquisition cost or from monthly amount × original contract length (flexbill)"
    )


class BuyoutQuoteResult(V1Model):
    success: bool = True
    buyout_price: Amount
    remaining_payments: Amount = Field(description="What the contract months left would bring")
    depreciated_value: Amount = Field(description="The list-price part of the price")
    currency: str
    calculation_method: Literal["auto_calculated"] = "auto_calculated"
    calculation_breakdown: BuyoutQuoteBreakdownBody

    @classmethod
    def of(cls, quote: BuyoutQuote, currency: str) -> BuyoutQuoteResult:
        breakdown = BuyoutQuoteBreakdownBody(
            remaining_months=quote.remaining_months,
            remaining_months_payment=to_major(quote.remaining_months_payment, currency),
            list_price_percentage=quote.list_price_percentage,
            list_price_amount=to_major(quote.list_price_amount, currency),
            flat_fee=to_major(quote.flat_fee, currency), method=quote.method,
            list_price=_major(quote.list_price, currency),
            list_price_estimated=quote.list_price_estimated,
            list_price_basis=quote.list_price_basis,
        )  # fmt: skip
        return cls(
            buyout_price=to_major(quote.price, currency),
            remaining_payments=to_major(quote.remaining_months_payment, currency),
            depreciated_value=to_major(quote.list_price_amount, currency), currency=currency,
            calculation_breakdown=breakdown,
        )  # fmt: skip


class EarlyReturnQuoteBreakdownBody(V1Model):
    method: Literal["remaining_months", "flat_fee", "no_fee"]
    remaining_months: int
    remaining_value: Amount = Field(description="remainingMonths × monthly amount")
    penalty_percentage: Decimal | None = Field(description="Only for `remaining_months`")
    grace_period_applied: bool
    days_from_start: int


class EarlyReturnQuoteResult(V1Model):
    success: bool = True
    early_return_fee: Amount
    remaining_months: int
    penalty_percentage: Decimal | None
    remaining_value: Amount
    currency: str
    calculation_method: Literal["auto_calculated"] = "auto_calculated"
    calculation_breakdown: EarlyReturnQuoteBreakdownBody

    @classmethod
    def of(cls, quote: EarlyReturnQuote, currency: str) -> EarlyReturnQuoteResult:
        remaining_value = to_major(quote.remaining_value, currency)
        breakdown = EarlyReturnQuoteBreakdownBody(
            method=quote.method, remaining_months=quote.remaining_months,
            remaining_value=remaining_value, penalty_percentage=quote.penalty_percentage,
            grace_period_applied=quote.grace_period_applied,
            days_from_start=quote.days_from_start,
        )  # fmt: skip
        return cls(
            early_return_fee=to_major(quote.fee, currency),
            remaining_months=quote.remaining_months,
            penalty_percentage=quote.penalty_percentage, remaining_value=remaining_value,
            currency=currency, calculation_breakdown=breakdown,
        )  # fmt: skip


# ---- operations ---------------------------------------------------------------------------


class BuyoutResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    asset_serial_number: str
    buyout_price: Amount
    currency: str
    effective_date: date
    rental: RentalBody

    @classmethod
    def of(cls, done: buyout.BoughtOut, ctx: TenantContext) -> BuyoutResult:
        return cls(
            message="Subscription bought out; the device now belongs to the customer",
            rental_id=done.subscription.id, asset_serial_number=done.asset.serial_number,
            buyout_price=to_major(done.price, ctx.currency), currency=ctx.currency,
            effective_date=done.effective_date, rental=RentalBody.of(done.subscription, ctx),
        )  # fmt: skip


class EarlyReturnResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    asset_serial_number: str = Field(description="The device to collect")
    early_return_fee: Amount
    fee_waived: bool
    return_condition: ReturnCondition
    return_date: date = Field(description="The day the return took effect")
    actual_months_rented: int = Field(description="Contract months begun before the return")
    returned_at: datetime
    currency: str
    rental: RentalBody

    @classmethod
    def of(cls, done: early_return.ReturnedEarly, ctx: TenantContext) -> EarlyReturnResult:
        return cls(
            message="Early return processed", rental_id=done.subscription.id,
            asset_serial_number=done.asset.serial_number, return_date=done.return_date,
            actual_months_rented=done.months_rented,
            early_return_fee=to_major(done.fee, ctx.currency), fee_waived=done.fee_waived,
            return_condition=done.return_condition, returned_at=done.returned_at,
            currency=ctx.currency, rental=RentalBody.of(done.subscription, ctx),
        )  # fmt: skip


class CancelResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    asset_serial_number: str = Field(description="The device to collect")
    previous_status: StatusName
    cancelled_at: datetime
    rental: RentalBody

    @classmethod
    def of(cls, done: cancellation.Cancelled, ctx: TenantContext) -> CancelResult:
        return cls(
            message="Subscription cancelled", rental_id=done.subscription.id,
            asset_serial_number=done.asset.serial_number, previous_status=done.previous_status,
            cancelled_at=done.cancelled_at,
            rental=RentalBody.of(done.subscription, ctx),
        )  # fmt: skip
