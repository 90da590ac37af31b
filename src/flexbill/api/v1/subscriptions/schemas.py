"""Subscription (rental) bodies of the /v1 face (FlexPortal's Subscriptions reference).

FlexPortal still calls subscriptions "rentals" on the wire: the id is ``rentalId`` (also
given as ``subscriptionId``), a list answers under ``rentals``, and mutations answer
``{success, message, rental}``.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field
from pydantic.alias_generators import to_camel

from flexbill.api.v1.responses import Amount, V1Model
from flexbill.api.v1.subscriptions.dates import CalendarDate
from flexbill.core import clock
from flexbill.core.errors import ValidationFailed
from flexbill.core.money import to_major
from flexbill.subscriptions import periods
from flexbill.subscriptions.cost_recovery import cost_recovery
from flexbill.subscriptions.lifecycle import display_status
from flexbill.subscriptions.models import MAX_NOTES_LENGTH, Subscription
from flexbill.subscriptions.service import NewSubscription
from flexbill.tenancy.context import TenantContext

Reference = Annotated[str, Field(min_length=1, max_length=100)]
Notes = Annotated[str | None, Field(default=None, max_length=MAX_NOTES_LENGTH)]
ContractMonths = Annotated[int, Field(ge=1, le=120)]
StatusName = Literal[
    "active", "suspended", "cancelled", "ended_completed", "ended_buyout", "ended_upgrade",
    "ended_early_return",
]  # fmt: skip


RentalIdInBody = Annotated[
    Reference | None,
    Field(
        default=None,
        description="The subscription's id, as in the path; optional, refused when it differs",
    ),
]


def path_rental(path_id: str, body_id: str | None) -> str:
    """The subscription an operation applies to: the path's. A body that names one too
    must name the same, rather than be guessed at."""
    if body_id is not None and body_id != path_id:
        raise ValidationFailed.field(
            "rentalId",
            f"The body names subscription '{body_id}' but the path names '{path_id}'",
            "mismatch",
        )
    return path_id


class SubscriptionCreateBody(V1Model):
    """The body of ``POST /v1/subscriptions``."""

    order_id: Reference
    asset_serial_number: Reference
    customer_id: Reference
    billing_group_id: Reference | None = None
    start_date: CalendarDate | None = Field(
        default=None,
        description="Defaults to today. `YYYY-MM-DD`, or an RFC 3339 date-time (its day in UTC)",
    )
    contract_length: ContractMonths | None = Field(
        default=None, description="Months; defaults to the order item's contract length"
    )
    notes: Notes = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    def to_domain(self) -> NewSubscription:
        return NewSubscription(
            order_id=self.order_id, asset_serial_number=self.asset_serial_number,
            customer_id=self.customer_id, billing_group_id=self.billing_group_id,
            start_date=self.start_date, contract_length=self.contract_length, notes=self.notes,
            custom_fields=self.custom_fields,
        )  # fmt: skip


class NotesBody(V1Model):
    notes: Notes = None


class StoredBody(V1Model):
    """A body rendered from a record the domain keeps as JSON (``subscriptions.details``):
    the keys listed in ``amounts`` are minor units and become major units, the rest is
    taken as stored."""

    amounts: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def of(cls, stored: dict[str, Any], currency: str) -> Self:
        values = {
            key: to_major(value, currency) if key in cls.amounts and value is not None else value
            for key, value in stored.items()
        }
        return cls.model_validate(values)


class ExtensionEntryBody(StoredBody):
    amounts = frozenset({"old_monthly_amount", "new_monthly_amount"})

    extended_at: datetime
    extension_months: int
    old_end_date: date
    new_end_date: date
    old_contract_length: int
    new_contract_length: int
    old_monthly_amount: Amount
    new_monthly_amount: Amount
    reason: str | None
    notes: str | None
    processed_by: str
    tracking_order_id: str | None


class ReplacementEntryBody(StoredBody):
    replaced_at: datetime
    old_serial_number: str
    new_serial_number: str
    old_sku: str
    new_sku: str
    replacement_reason: Literal["damaged", "stolen", "defective", "lost"]
    damage_assessment: str | None
    insurance_claim: dict[str, Any] | str | bool | None
    notes: str | None
    processed_by: str


class BuyoutBreakdownBody(StoredBody):
    amounts = frozenset({"remaining_months_payment", "list_price_amount", "flat_fee"})

    remaining_months: int
    remaining_months_payment: Amount
    list_price_percentage: Decimal | None
    list_price_amount: Amount
    flat_fee: Amount


class BuyoutDetailsBody(StoredBody):
    amounts = frozenset({"buyout_price"})

    buyout_price: Amount
    calculation_method: Literal["auto_calculated", "manual_override"]
    calculation_breakdown: BuyoutBreakdownBody
    reason: Literal["customer_request", "end_of_contract", "other"]
    notes: str | None
    processed_by: str
    buyout_date: date

    @classmethod
    def of(cls, stored: dict[str, Any], currency: str) -> Self:
        breakdown = BuyoutBreakdownBody.of(stored["calculation_breakdown"], currency)
        return super().of({**stored, "calculation_breakdown": breakdown}, currency)


class EarlyReturnBreakdownBody(StoredBody):
    amounts = frozenset({"remaining_value"})

    method: Literal["remaining_months", "flat_fee", "no_fee", "manual"]
    remaining_months: int
    remaining_value: Amount
    penalty_percentage: Decimal | None
    grace_period_applied: bool
    days_from_start: int


class EarlyReturnDetailsBody(StoredBody):
    amounts = frozenset({"fee"})

    fee: Amount
    fee_waived: bool
    calculation_method: Literal["auto_calculated", "manual_override"]
    calculation_breakdown: EarlyReturnBreakdownBody
    return_condition: Literal["excellent", "good", "fair", "poor", "damaged"]
    reason: str
    damage_assessment: str | None
    notes: str | None
    processed_by: str
    returned_at: datetime

    @classmethod
    def of(cls, stored: dict[str, Any], currency: str) -> Self:
        breakdown = EarlyReturnBreakdownBody.of(stored["calculation_breakdown"], currency)
        return super().of({**stored, "calculation_breakdown": breakdown}, currency)


class CancellationDetailsBody(StoredBody):
    reason: Literal["customer_request", "payment_failure", "fraud", "admin_decision", "other"]
    notes: str | None
    processed_by: str
    cancelled_at: datetime


# History entries repeat a handful of keys; converting each once keeps list pages cheap.
_wire_key = functools.lru_cache(maxsize=256)(to_camel)


def _camel_keys(entry: dict[str, Any]) -> dict[str, Any]:
    return {_wire_key(key): value for key, value in entry.items()}


def _major(amount: int | None, currency: str) -> Decimal | None:
    return None if amount is None else to_major(amount, currency)


def _stored(body: type[StoredBody], stored: dict[str, Any] | None, currency: str) -> Any:
    return None if stored is None else body.of(stored, currency)


class RentalBody(V1Model):
    rental_id: str
    subscription_id: str = Field(description="The same as `rentalId`")
    tenant_id: str
    status: StatusName
    customer_id: str
    customer_email: str
    customer_name: str = Field(description="The customer's first and last name")
    order_id: str
    sku: str
    product_name: str
    variant_name: str
    serial_number: str
    asset_serial_number: str = Field(description="The same as `serialNumber`")
    monthly_amount: Amount
    currency: str
    original_contract_length: int
    contract_length: int
    start_date: date
    end_date: date
    next_billing_date: date | None
    billing_group_id: str | None
    upgrade_from_rental_id: str | None
    upgraded_to_rental_id: str | None
    extension_history: list[ExtensionEntryBody]
    replacement_history: list[ReplacementEntryBody]
    history: list[dict[str, Any]] = Field(
        description="Every operation on the subscription, oldest first (flexbill)"
    )
    buyout_details: BuyoutDetailsBody | None
    early_return_details: EarlyReturnDetailsBody | None
    cancellation_details: CancellationDetailsBody | None
    list_price: Amount | None
    list_price_source: str
    acquisition_cost: Amount | None
    acquisition_cost_source: str
    total_collected: Amount
    cost_recovery_percent: Decimal | None
    current_profit: Amount | None
    breakeven_months: Decimal | None
    has_reached_breakeven: bool
    recovery_status: Literal["profitable", "recovering", "at_risk", "no_data"]
    custom_fields: dict[str, Any]
    notes: str | None
    ended_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, subscription: Subscription, ctx: TenantContext) -> RentalBody:
        currency = ctx.currency
        s = subscription
        recovery = cost_recovery(
            acquisition_cost=s.acquisition_cost, monthly_amount=s.monthly_amount,
            total_collected=s.total_collected,
            months_elapsed=periods.months_elapsed(s.start_date, clock.now().date()),
            contract_length=s.contract_length,
        )  # fmt: skip
        return cls(
            rental_id=s.id, subscription_id=s.id, tenant_id=ctx.business_unit_id,
            status=display_status(s.status, s.end_reason), customer_id=s.customer_id,
            customer_email=s.customer.email,
            customer_name=f"{s.customer.first_name} {s.customer.last_name}".strip(),
            order_id=s.order_id, sku=s.sku, product_name=s.product_name,
            variant_name=s.variant_name, serial_number=s.serial_number,
            asset_serial_number=s.serial_number,
            monthly_amount=to_major(s.monthly_amount, currency), currency=currency,
            original_contract_length=s.original_contract_length,
            contract_length=s.contract_length, start_date=s.start_date, end_date=s.end_date,
            next_billing_date=s.next_billing_date, billing_group_id=s.billing_group_id,
            upgrade_from_rental_id=s.upgrade_from_rental_id,
            upgraded_to_rental_id=s.upgraded_to_rental_id,
            extension_history=[
                ExtensionEntryBody.of(entry, currency) for entry in s.extension_history
            ],
            replacement_history=[
                ReplacementEntryBody.of(entry, currency) for entry in s.replacement_history
            ],
            history=[_camel_keys(entry) for entry in s.history],
            buyout_details=_stored(BuyoutDetailsBody, s.buyout_details, currency),
            early_return_details=_stored(EarlyReturnDetailsBody, s.early_return_details, currency),
            cancellation_details=_stored(
                CancellationDetailsBody, s.cancellation_details, currency
            ),
            list_price=_major(s.list_price, currency), list_price_source=s.list_price_source,
            acquisition_cost=_major(s.acquisition_cost, currency),
            acquisition_cost_source=s.acquisition_cost_source,
            total_collected=to_major(recovery.total_collected, currency),
            cost_recovery_percent=recovery.cost_recovery_percent,
            current_profit=_major(recovery.current_profit, currency),
            breakeven_months=recovery.breakeven_months,
            has_reached_breakeven=recovery.has_reached_breakeven,
            recovery_status=recovery.recovery_status, custom_fields=dict(s.custom_fields),
            notes=s.notes, ended_at=s.ended_at, created_by=s.created_by,
            created_at=s.created_at, updated_at=s.updated_at,
        )  # fmt: skip


class RentalResult(V1Model):
    success: bool = True
    message: str
    rental_id: str
    rental: RentalBody

    @classmethod
    def of(cls, message: str, subscription: Subscription, ctx: TenantContext) -> RentalResult:
        return cls(
            message=message, rental_id=subscription.id, rental=RentalBody.of(subscription, ctx)
        )


class RentalList(V1Model):
    rentals: list[RentalBody]
    count: int
    limit: int
    has_more: bool
    next_cursor: str | None
